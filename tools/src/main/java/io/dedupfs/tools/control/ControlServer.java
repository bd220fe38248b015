package io.dedupfs.tools.control;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mounted process's side of the control socket: one thread accepts connections, and each
 * connection has a thread of its own that reads requests and writes answers, so a long snapshot
 * does not hold up a listing. {@link #close} waits for the requests being carried out, so the
 * repository can be closed after it.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
  /** Pause after a failed accept (such as too many open files) before trying again. */
  private static final long ACCEPT_RETRY_MILLIS = 100;

  private final Path socket;
  private final ServerSocketChannel server;
  private final RequestHandler handler;
  private final Thread acceptor;
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong connectionCount = new AtomicLong();

  private ControlServer(Path socket, ServerSocketChannel server, RequestHandler handler) {
    this.socket = socket;
    this.server = server;
    this.handler = handler;
    this.acceptor = new Thread(this::acceptAll, "dedupfs-control");
    acceptor.setDaemon(true);
  }

  /** The control socket of a repository: {@code REPO/control.sock}. */
  public static Path socketOf(Path repository) {
    return repository.resolve("control.sock");
  }

  /**
   * Listens on {@code socket} and serves requests with {@code snapshots}. The caller holds the
   * repository's lock, so no live server can be bound there: a socket file found is left by a
   * process that was killed, and is replaced.
   */
  public static ControlServer start(Path socket, RepositoryOperations snapshots) throws IOException {
    Files.deleteIfExists(socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socket));
      // Connecting needs write permission on the socket file: only the owner (and root) may send commands.
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException | RuntimeException e) {
      server.close();
      // Such as a path longer than the 107 bytes a Unix socket address holds.
      throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    ControlServer control = new ControlServer(socket, server, new RequestHandler(snapshots));
    control.acceptor.start();
    LOG.info("listening on {}", socket);
    return control;
  }

  private void acceptAll() {
    while (server.isOpen()) {
      try {
        Connection c = new Connection(server.accept(), connectionCount.incrementAndGet());
        connections.add(c);
        c.thread.start();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        LOG.warn("control socket {}: accept failed", socket, e);
        try {
          Thread.sleep(ACCEPT_RETRY_MILLIS);
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  /**
   * Stops accepting, ends connections waiting for a request, waits for the requests being carried
   * out to be answered, and removes the socket file.
   */
  @Override
  public void close() throws IOException {
    server.close();
    boolean interrupted = false;
    try {
      interrupted |= join(acceptor);
      // The acceptor has ended, so no connection is added any more.
      for (Connection c : connections) {
        c.stopReading();
      }
      for (Connection c : connections) {
        interrupted |= join(c.thread);
      }
    } finally {
      Files.deleteIfExists(socket);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Waits for {@code t} to end, even if interrupted; returns whether it was. */
  private static boolean join(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        return interrupted;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
  }

  /** One client's connection, served by a thread of its own. */
  private final class Connection {
    private final SocketChannel channel;
    private final Thread thread;

    Connection(SocketChannel channel, long number) {
      this.channel = channel;
      this.thread = new Thread(this::serve, "dedupfs-control-" + number);
      thread.setDaemon(true);
    }

    private void serve() {
      try (channel) {
        InputStream in = new BufferedInputStream(Channels.newInputStream(channel));
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel));
        try {
          for (String request = ControlProtocol.readLine(in); request != null; request = ControlProtocol.readLine(in)) {
            RequestHandler.EarlyLines early = line -> {
              out.write(ControlProtocol.encode(line));
              out.flush();
            };
            for (String line : handler.answer(request, early)) {
              out.write(ControlProtocol.encode(line));
            }
            out.flush();
          }
        } catch (ProtocolException e) {
          // The rest of the line cannot be told from the next request: answer, then hang up.
          out.write(ControlProtocol.encode(ControlProtocol.errorLine(new IllegalArgumentException(e.getMessage()))));
          out.flush();
        }
      } catch (IOException e) {
        LOG.debug("control connection ended", e);
      } finally {
        connections.remove(this);
      }
    }

    /** A read waiting for a request sees the end of the stream; a request being carried out is still answered. */
    void stopReading() {
      try {
        channel.shutdownInput();
      } catch (IOException e) {
        LOG.debug("control connection already closed", e);
      }
    }
  }
}
