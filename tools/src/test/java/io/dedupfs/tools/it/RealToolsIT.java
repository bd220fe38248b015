package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mount driven by the tools people back up with: rsync -aHAX, tar and cp -a. Each copy is
 * checked by a second tool (rsync's own checksum comparison, diff -r), also after unmount and a
 * new mount.
 */
class RealToolsIT {
  @Test
  void rsyncRoundTripsATreeWithEverythingBackupsMeet(@TempDir Path dir) throws Exception {
    Path src = dir.resolve("src");
    // Real files, and the odd cases after them.
    sh("mkdir -p '" + src + "' && cp -a /usr/share/doc/. '" + src + "/doc/'");
    BackupTree.addOddCases(src);
    try (Mounted m = Mounted.fresh(dir)) {
      Path dst = m.mountpoint.resolve("backup");
      sh("rsync -aHAX --numeric-ids '" + src + "/' '" + dst + "/'");
      assertEquals("", BackupTree.differences(src, dst), "rsync sees differences right after the copy");

      m.unmount();
      m.mount();
      assertEquals("", BackupTree.differences(src, dst), "rsync sees differences after umount and a new mount");
      assertEquals("3\n", sh("stat -c %h '" + dst.resolve("links/b/two") + "'"));
    }
  }

  /** Path, mode, mtime of everything and size of non-directories (a directory's size is the filesystem's own). */
  private static String metadata(Path root) throws Exception {
    return sh("cd '" + root + "' && { find . -type d -printf '%p %m %T@\\n'; find . ! -type d -printf '%p %m %s %T@\\n'; } | sort");
  }

  /** pax format: the others keep whole seconds only. */
  @Test
  void tarIntoTheMountAndCpOutAgainKeepEveryByte(@TempDir Path dir) throws Exception {
    Path src = dir.resolve("src");
    sh("mkdir -p '" + src + "' && cp -a /usr/share/doc/. '" + src + "/'");
    try (Mounted m = Mounted.fresh(dir)) {
      Path inMount = m.mountpoint.resolve("t");
      sh("mkdir '" + inMount + "' && tar --format=posix -C '" + src + "' -cf - . | tar -C '" + inMount + "' -xpf -");
      sh("diff -r --no-dereference '" + src + "' '" + inMount + "'");
      Path out = dir.resolve("out");
      sh("cp -a '" + inMount + "' '" + out + "'");
      sh("diff -r --no-dereference '" + src + "' '" + out + "'");
      assertEquals(metadata(src), metadata(out), "modes, sizes or times differ after cp -a");
    }
  }
}
