package io.dedupfs.store.repo;

import io.dedupfs.store.RepositoryLockedException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The exclusive lock on a repository (FORMAT.md §7): an fcntl lock the kernel drops when the
 * process dies, plus a line naming the holder for the error a second opener sees.
 */
public final class RepositoryLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private RepositoryLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  public static RepositoryLock acquire(Path lockFile) throws IOException {
    FileChannel channel =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      String holder = Files.readString(lockFile, StandardCharsets.UTF_8).trim();
      throw new RepositoryLockedException(
          "repository " + lockFile.getParent() + " is in use by another process (" + (holder.isEmpty() ? "holder unknown" : holder) + ")");
    }
    String line = "pid=" + ProcessHandle.current().pid() + " host=" + hostName() + " since=" + Instant.now() + "\n";
    channel.truncate(0);
    channel.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), 0);
    channel.force(false);
    return new RepositoryLock(channel, lock);
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
    }
  }
}
