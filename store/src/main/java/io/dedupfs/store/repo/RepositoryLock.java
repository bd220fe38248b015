package io.dedupfs.store.repo;

import io.dedupfs.store.RepositoryLockedException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exclusive lock on a repository (FORMAT.md §7): an fcntl lock the kernel drops when the
 * process dies, plus a line naming the holder for the error a second opener sees.
 *
 * <p>fcntl locks belong to the process, and closing <em>any</em> descriptor of the file drops them
 * all. So a second opener in this process must not open the lock file at all: locks held here are
 * also kept in a process-wide table, checked first.
 */
public final class RepositoryLock implements AutoCloseable {
  private static final Map<Path, String> HELD_IN_THIS_PROCESS = new ConcurrentHashMap<>();

  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;

  private RepositoryLock(Path key, FileChannel channel, FileLock lock) {
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  public static RepositoryLock acquire(Path lockFile) throws IOException {
    Path key = lockFile.toAbsolutePath().normalize();
    String line = "pid=" + ProcessHandle.current().pid() + " host=" + hostName() + " since=" + Instant.now();
    String holder = HELD_IN_THIS_PROCESS.putIfAbsent(key, line);
    if (holder != null) {
      throw locked(lockFile, holder + ", this process");
    }
    try {
      FileChannel channel =
          FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      if (lock == null) {
        String other = readHolder(channel);
        channel.close();
        throw locked(lockFile, other.isEmpty() ? "holder unknown" : other);
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(false);
      return new RepositoryLock(key, channel, lock);
    } catch (IOException | RuntimeException e) {
      HELD_IN_THIS_PROCESS.remove(key, line);
      throw e;
    }
  }

  /** The pid written by the process holding the lock now, if one holds it. */
  static java.util.OptionalLong holderPid(Path lockFile) throws IOException {
    if (!Files.exists(lockFile)) {
      return java.util.OptionalLong.empty();
    }
    for (String field : Files.readString(lockFile, StandardCharsets.UTF_8).trim().split(" ")) {
      if (field.startsWith("pid=")) {
        try {
          return java.util.OptionalLong.of(Long.parseLong(field.substring(4)));
        } catch (NumberFormatException e) {
          return java.util.OptionalLong.empty();
        }
      }
    }
    return java.util.OptionalLong.empty();
  }

  private static RepositoryLockedException locked(Path lockFile, String holder) {
    return new RepositoryLockedException(
        "repository " + lockFile.toAbsolutePath().getParent() + " is in use by another process (" + holder + ")");
  }

  private static String readHolder(FileChannel channel) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(512);
    channel.read(b, 0);
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public void close() throws IOException {
    try {
      channel.truncate(0);
      lock.release();
    } finally {
      channel.close();
      HELD_IN_THIS_PROCESS.remove(key);
    }
  }
}
