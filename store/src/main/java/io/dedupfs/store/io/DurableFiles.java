package io.dedupfs.store.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Small files replaced and removed so that a crash leaves the old or the new state, on disk. */
public final class DurableFiles {
  private DurableFiles() {}

  /** Writes {@code bytes} to a temporary sibling, fsyncs it, renames it over {@code target} and fsyncs the directory. */
  public static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      writeAndSync(ch, bytes);
    }
    replace(tmp, target);
  }

  /**
   * As {@link #writeAtomically}, for a secret: the temporary file is created readable by its
   * owner only (never wider, not even before a crash) and under a name of its own, so that two
   * writers at once cannot mix their bytes.
   */
  public static void writePrivateAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(target.getParent(), target.getFileName() + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      writeAndSync(ch, bytes);
      replace(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void writeAndSync(FileChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      ch.write(b);
    }
    ch.force(true);
  }

  /**
   * Renames {@code tmp}, already durable, over {@code target} (atomically where the file system
   * can) and fsyncs the directory: after a crash {@code target} is the old file or the new one.
   */
  public static void replace(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(target.getParent());
  }

  /** Deletes {@code target} and fsyncs its directory. */
  public static void delete(Path target) throws IOException {
    Files.delete(target);
    syncDirectory(target.getParent());
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
