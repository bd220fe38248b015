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
  /**
   * A tree with what backups meet: real files, hard links, symlinks (one dangling), xattrs in
   * three namespaces, access and default ACLs, invalid UTF-8, a 255-byte name, a deep path, a
   * sparse file, empty files, a fifo, a device node and nanosecond times.
   */
  private static final String MAKE_TREE = """
      src="$1"
      mkdir -p "$src"
      cp -a /usr/share/doc/. "$src/doc/"
      mkdir -p "$src/links/a" "$src/links/b"
      echo shared > "$src/links/a/one"; ln "$src/links/a/one" "$src/links/b/two"; ln "$src/links/a/one" "$src/links/three"
      ln -s ../links/a/one "$src/links/rel"; ln -s /nonexistent/target "$src/links/dangling"
      echo x > "$src/xattrs"; setfattr -n user.color -v blue "$src/xattrs"; setfattr -n trusted.t -v 1 "$src/xattrs"
      setfattr -n user.bin -v 0sAAECAwQ= "$src/xattrs"
      mkdir "$src/acl"; echo a > "$src/acl/f"; setfacl -m u:nobody:rwx,g:nogroup:r "$src/acl/f"; setfacl -d -m u:nobody:rx "$src/acl"
      touch "$src/$(printf 'bad\\xff\\xfe-name')" "$src/$(printf 'new\\nline')" "$src/with space" "$src/ünïcødé"
      touch "$src/$(head -c 255 /dev/zero | tr '\\0' n)"
      deep="$src"; for i in $(seq 40); do deep="$deep/d$i"; done; mkdir -p "$deep"; echo bottom > "$deep/file"
      truncate -s 100M "$src/sparse"; printf middle | dd of="$src/sparse" bs=1 seek=50000000 conv=notrunc status=none
      : > "$src/empty1"; mkdir "$src/emptydir"; : > "$src/emptydir/empty2"
      mkfifo "$src/fifo"; mknod "$src/null" c 1 3
      touch -d '2021-03-04 05:06:07.123456789' "$src/empty1"; touch -h -d '2019-01-01 00:00:00.5' "$src/links/rel"
      chmod 4755 "$src/empty1"; chmod 1777 "$src/emptydir"; chown 1234:5678 "$src/xattrs"
      """;

  @Test
  void rsyncRoundTripsATreeWithEverythingBackupsMeet(@TempDir Path dir) throws Exception {
    Path src = dir.resolve("src");
    sh("set -- '" + src + "'\n" + MAKE_TREE);
    try (Mounted m = Mounted.fresh(dir)) {
      Path dst = m.mountpoint.resolve("backup");
      sh("rsync -aHAX --numeric-ids '" + src + "/' '" + dst + "/'");
      assertEquals("", differences(src, dst), "rsync sees differences right after the copy");

      m.unmount();
      m.mount();
      assertEquals("", differences(src, dst), "rsync sees differences after umount and a new mount");
      assertEquals("3\n", sh("stat -c %h '" + dst.resolve("links/b/two") + "'"));
    }
  }

  /** Path, mode, mtime of everything and size of non-directories (a directory's size is the filesystem's own). */
  private static String metadata(Path root) throws Exception {
    return sh("cd '" + root + "' && { find . -type d -printf '%p %m %T@\\n'; find . ! -type d -printf '%p %m %s %T@\\n'; } | sort");
  }

  /** rsync's own view, comparing checksums, everything -aHAX carries, and extra files. */
  private static String differences(Path src, Path dst) throws Exception {
    return sh("rsync -aHAXc --numeric-ids --dry-run --itemize-changes --delete '" + src + "/' '" + dst + "/'");
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
