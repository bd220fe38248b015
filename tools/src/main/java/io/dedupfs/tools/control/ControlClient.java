package io.dedupfs.tools.control;

import io.dedupfs.gc.CheckReport;
import io.dedupfs.gc.GcProgress;
import io.dedupfs.gc.GcReport;
import io.dedupfs.store.namespace.Name;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A connection to the control socket of a mounted repository: each call sends one request and
 * returns its answer, or throws the exception the error answer names (see the package
 * documentation), with the mounted process's message.
 */
public final class ControlClient implements RepositoryOperations, AutoCloseable {
  private final Path socket;
  private final SocketChannel channel;
  private final InputStream in;
  private final OutputStream out;

  private ControlClient(Path socket, SocketChannel channel) {
    this.socket = socket;
    this.channel = channel;
    this.in = new BufferedInputStream(Channels.newInputStream(channel));
    this.out = Channels.newOutputStream(channel);
  }

  /** @throws IOException if nothing listens on {@code socket} */
  public static ControlClient connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return new ControlClient(socket, channel);
  }

  @Override
  public SnapshotSummary create(Name name) throws IOException {
    return ControlProtocol.parseRecord(one(request(name, ControlProtocol.CREATE, ControlProtocol.hex(name))));
  }

  @Override
  public List<SnapshotSummary> list() throws IOException {
    List<SnapshotSummary> records = new ArrayList<>();
    for (String line : request(null, ControlProtocol.LIST)) {
      records.add(ControlProtocol.parseRecord(line));
    }
    return records;
  }

  @Override
  public GcReport collectGarbage(long memoryBytes, GcProgress progress) throws IOException {
    return ControlProtocol.parseReport(one(request(null, progress, ControlProtocol.GC, Long.toString(memoryBytes))));
  }

  @Override
  public GcReport estimateGarbage(long memoryBytes, Set<Long> withoutSnapshots) throws IOException {
    return ControlProtocol.parseReport(one(request(null, ControlProtocol.GC_ESTIMATE, Long.toString(memoryBytes),
        ControlProtocol.numbers(withoutSnapshots))));
  }

  @Override
  public RepositoryStats stats() throws IOException {
    return StatsLines.parse(request(null, StatsLines.STATS));
  }

  @Override
  public CheckReport check(boolean readData, GcProgress progress) throws IOException {
    return ControlProtocol.parseCheck(request(null, progress, ControlProtocol.CHECK, readData ? "1" : "0"));
  }

  @Override
  public CheckReport repair(boolean readData, GcProgress progress) throws IOException {
    return ControlProtocol.parseCheck(request(null, progress, ControlProtocol.REPAIR, readData ? "1" : "0"));
  }

  private String one(List<String> lines) throws ProtocolException {
    if (lines.size() != 1) {
      throw new ProtocolException(socket + " answered with " + lines.size() + " lines where one belongs");
    }
    return lines.get(0);
  }

  @Override
  public void delete(Name name) throws IOException {
    request(name, ControlProtocol.DELETE, ControlProtocol.hex(name));
  }

  private List<String> request(Name subject, String... fields) throws IOException {
    return request(subject, GcProgress.NONE, fields);
  }

  /**
   * Sends one request about {@code subject} (null if none) and returns the lines of its answer
   * before ok; progress lines on the way go to {@code progress}.
   */
  private synchronized List<String> request(Name subject, GcProgress progress, String... fields) throws IOException {
    out.write(ControlProtocol.encode(String.join(" ", fields)));
    List<String> records = new ArrayList<>();
    for (String line = ControlProtocol.readLine(in); ; line = ControlProtocol.readLine(in)) {
      if (line == null) {
        throw new EOFException(socket + " closed the connection before answering");
      }
      if (line.equals(ControlProtocol.OK)) {
        return records;
      }
      if (line.startsWith(ControlProtocol.ERROR + " ")) {
        throw ControlProtocol.failure(line, subject);
      }
      if (line.startsWith(ControlProtocol.PROGRESS + " ")) {
        ControlProtocol.parseProgress(line, progress);
        continue;
      }
      records.add(line);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
