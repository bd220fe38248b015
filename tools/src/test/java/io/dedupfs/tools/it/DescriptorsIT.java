package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two kinds of descriptor the mount hands out behave as on a local disk: write-only ones and
 * exclusive creates bypass the kernel's page cache (backups write through them), every other one
 * is cached.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DescriptorsIT {
  @TempDir Path dir;
  @AutoClose Mounted fs;

  @BeforeEach
  void mount() throws Exception {
    fs = Mounted.fresh(dir);
  }

  @Test
  void aWriteByAnotherUserDropsSetIdBitsAsOnALocalDisk() throws Exception {
    Path local = Files.createDirectory(dir.resolve("local"));
    sh("chmod a+x '" + dir + "'");
    String modes = "6775 6755 2775 4644 0755";
    assertEquals(setIdBitsAfterWrites(local, modes), setIdBitsAfterWrites(fs.mountpoint, modes));
    // Set-gid without group execute: a local disk drops it when the writer is not in the file's
    // group; the kernel's FUSE client keeps it on a cached write, and an uncached one does the same.
    assertEquals("2745.wronly 2745 4\n2745.rdwr 2745 4\n2745.root 2745 4\n", setIdBitsAfterWrites(fs.mountpoint, "2745"));
  }

  /**
   * For each mode, a file of that mode owned by nobody, appended to by nobody through a
   * write-only descriptor (uncached on the mount) and through a read-write one (cached), and by
   * root (who keeps the bits); the modes right after each write.
   */
  private static String setIdBitsAfterWrites(Path in, String modes) throws Exception {
    String nobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups";
    return sh("cd '" + in + "' && for m in " + modes + "; do for how in wronly rdwr root; do"
        + " f=$m.$how; echo a > $f; chown nobody $f; chmod $m $f;"
        + " case $how in wronly) " + nobody + " bash -c \"echo b >> $f\";;"
        + " rdwr) " + nobody + " bash -c \"exec 3<>$f; cat <&3 >/dev/null; echo b >&3\";;"
        + " root) echo b >> $f;; esac;"
        + " echo \"$f $(stat -c %a $f) $(wc -c < $f)\"; done; done");
  }

  @Test
  void aCachedReaderSeesWhatAnUncachedDescriptorWrote() throws Exception {
    Path file = fs.mountpoint.resolve("f");
    Files.write(file, filled(8192, 'a'));
    try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
      assertEquals('a', readAt(reader, 4096));
      // Write-only, so uncached: the reader's cached pages must not hide it.
      try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
        writer.write(ByteBuffer.wrap(filled(8192, 'b')), 0);
      }
      assertEquals('b', readAt(reader, 4096));
    }
  }

  @Test
  void aFileOpenedForReadingAndWritingCanBeMappedShared() throws Exception {
    Path file = fs.mountpoint.resolve("mapped");
    byte[] expected = filled(10_000, 'm');
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, expected.length);
      map.put(expected);
      map.force();
    }
    assertArrayEquals(expected, Files.readAllBytes(file));
  }

  private static byte[] filled(int length, char c) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) c);
    return b;
  }

  private static char readAt(FileChannel ch, long position) throws Exception {
    ByteBuffer one = ByteBuffer.allocate(1);
    assertEquals(1, ch.read(one, position));
    return (char) one.get(0);
  }
}
