package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;

import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The odd cases a backup meets, as a tree on local disk, and rsync's view of how two trees differ.
 * Shared by the integration tests that copy real trees into the mount and out of it.
 */
final class BackupTree {
  /** Relative path of the directory at the bottom of {@link #addOddCases}'s deep path. */
  static final String DEEP = IntStream.rangeClosed(1, 40).mapToObj(i -> "d" + i).collect(Collectors.joining("/"));

  /**
   * Hard links (three names of one file: links/a/one, links/b/two, links/three), symlinks (one
   * dangling), xattrs in three namespaces (on xattrs), access and default ACLs (acl, acl/f), invalid
   * UTF-8, a newline and a 255-byte name, a deep path ({@link #DEEP}/file), a 100 MB sparse file,
   * empty files and directories, a fifo, a device node, setuid and sticky modes, an owner nobody
   * has and nanosecond times.
   */
  private static final String ODD_CASES = """
      src="$1"
      mkdir -p "$src/links/a" "$src/links/b"
      echo shared > "$src/links/a/one"; ln "$src/links/a/one" "$src/links/b/two"; ln "$src/links/a/one" "$src/links/three"
      ln -s ../links/a/one "$src/links/rel"; ln -s /nonexistent/target "$src/links/dangling"
      echo x > "$src/xattrs"; setfattr -n user.color -v blue "$src/xattrs"; setfattr -n trusted.t -v 1 "$src/xattrs"
      setfattr -n user.bin -v 0sAAECAwQ= "$src/xattrs"
      mkdir "$src/acl"; echo a > "$src/acl/f"; setfacl -m u:nobody:rwx,g:nogroup:r "$src/acl/f"; setfacl -d -m u:nobody:rx "$src/acl"
      touch "$src/$(printf 'bad\\xff\\xfe-name')" "$src/$(printf 'new\\nline')" "$src/with space" "$src/ünïcødé"
      touch "$src/$(head -c 255 /dev/zero | tr '\\0' n)"
      mkdir -p "$src/$2"; echo bottom > "$src/$2/file"
      truncate -s 100M "$src/sparse"; printf middle | dd of="$src/sparse" bs=1 seek=50000000 conv=notrunc status=none
      : > "$src/empty1"; mkdir "$src/emptydir"; : > "$src/emptydir/empty2"
      mkfifo "$src/fifo"; mknod "$src/null" c 1 3
      touch -d '2021-03-04 05:06:07.123456789' "$src/empty1"; touch -h -d '2019-01-01 00:00:00.5' "$src/links/rel"
      chmod 4755 "$src/empty1"; chmod 1777 "$src/emptydir"; chown 1234:5678 "$src/xattrs"
      """;

  private BackupTree() {}

  /** Adds the odd cases to the directory {@code src}, which is created if missing. */
  static void addOddCases(Path src) throws Exception {
    sh("set -- '" + src + "' '" + DEEP + "'\n" + ODD_CASES);
  }

  /**
   * What {@code rsync -aHAXc --delete} would do to make {@code to} like {@code from}, one itemized
   * line per difference: content by checksum, everything -aHAX carries and names only one side has.
   * Empty if the trees agree, except that hard links are compared only as {@code from} has them
   * (rsync groups the source's names, not the destination's): see {@link #hardLinks}.
   */
  static String differences(Path from, Path to) throws Exception {
    return sh("rsync -aHAXc --numeric-ids --dry-run --itemize-changes --delete '" + from + "/' '" + to + "/'");
  }

  /**
   * The hard links below {@code root}, as a text that is the same for two trees whose names are
   * linked alike: a line for each name of a non-directory with more than one link, sorted, giving
   * its link count and the first name (in that order) of its inode.
   */
  static String hardLinks(Path root) throws Exception {
    return sh("cd '" + root + "' && find . ! -type d -links +1 -printf '%i %n %p\\n' | sort -k 3 | "
        + "awk '{ name = substr($0, length($1) + length($2) + 3); if (!($1 in first)) first[$1] = name; "
        + "print name, \"links\", $2, \"inode of\", first[$1] }'");
  }
}
