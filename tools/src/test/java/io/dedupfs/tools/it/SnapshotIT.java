package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots of a mounted repository, taken and browsed as a user would: {@code mkdir
 * MOUNT/.snapshots/NAME} after an rsync, changes to the live tree, another snapshot, and each
 * snapshot compared by rsync ({@code -aHAXc}: bytes, modes, owners, nanosecond times, xattrs, ACLs,
 * hard links, names only one side has) with a plain copy of the source as it was; also after
 * umount and a new mount. Snapshots are read-only (every kind of change fails with EROFS), hidden
 * from the root listing, renamed with mv and deleted with rmdir; a snapshot taken while a file is
 * written holds a prefix of it; and {@code dedupfs snapshot create|list|delete} work with the
 * repository mounted (through the mounted process) and unmounted.
 *
 * <p>Seeds are printed; {@code -Dit.seed=N} repeats a run's data.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SnapshotIT {
  private static final int DIRS = 12;
  private static final int FILES_PER_DIR = 25;
  private static final int SMALL_FILE = 64 << 10;
  private static final int LARGE_FILE = 1 << 20;
  private static final int ADDED_FILE = 300 << 10;
  private static final String READ_ONLY = "Read-only file system";

  /**
   * What changes between s1 and s2, done alike to the mount and to the source: $1 the root, $2 a
   * file to add, $3 the deep directory. Content edits (in place, and through one of three names of a
   * file), a delete, an add, renames of a file and of a directory, chmod of a file and of a
   * directory, a new hard link and an xattr changed. Then everything the changes gave a new mtime
   * gets the same one on both sides.
   */
  private static final String CHANGES = """
      r="$1"
      printf edited | dd of="$r/data/d03/f007" bs=1 seek=100 conv=notrunc status=none
      echo appended >> "$r/links/b/two"
      echo changed > "$r/$3/file"
      rm "$r/data/d01/f002"
      cp "$2" "$r/data/d02/new.bin"
      mv "$r/data/d04/f001" "$r/data/d05/moved"
      mv "$r/data/d06" "$r/renamed-dir"
      chmod 640 "$r/data/d07/f003"; chmod 700 "$r/data/d08"
      ln "$r/data/d09/f004" "$r/data/d10/hardlink"
      setfattr -n user.color -v red "$r/xattrs"
      cd "$r"
      touch -d '2024-05-06 07:08:09.123456789' . data data/d01 data/d02 data/d04 data/d05 data/d10 renamed-dir \\
          data/d03/f007 links/b/two "$3/file" data/d02/new.bin
      """;

  /** Each kind of change, tried inside a snapshot (the working directory); each must fail with EROFS. */
  private static final List<String> WRITES = List.of(
      "touch new-file",
      "echo x > data/d00/f000",
      "echo x >> data/d00/f001",
      "truncate -s 1 data/d00/f002",
      "rm data/d00/f003",
      "rm -rf data/d11",
      "mkdir new-dir",
      "rmdir data/empty",
      "mv data/d00/f004 data/d00/renamed",
      "mv data/d00 data/renamed-dir",
      "ln data/d00/f005 data/d00/link",
      "ln -s target data/d00/symlink",
      "mkfifo data/d00/fifo",
      "chmod 600 data/d00/f006",
      "chown 1:1 data/d00/f006",
      "touch -d 2000-01-01 data/d00/f006",
      "setfattr -n user.new -v 1 xattrs",
      "setfattr -x user.color xattrs",
      "setfacl -m u:nobody:r data/d00/f006");

  /** How far the writer of {@link #aSnapshotTakenWhileAFileIsWrittenHoldsAPrefixOfIt} goes at most. */
  private static final long WRITER_LIMIT = 512L << 20;
  private static final long WRITER_STEP = 1 << 20;
  private static final int SNAPSHOTS_WHILE_WRITING = 3;
  private static final long BETWEEN_SNAPSHOTS = 8L << 20;

  @TempDir Path tmp;
  @AutoClose private Mounted m;

  @Test
  void snapshotsKeepEachPastStateOfTheTree() throws Exception {
    long seed = Data.seed("[SnapshotIT] past states");
    Path src = tmp.resolve("src");
    Path expected1 = tmp.resolve("expected-s1");
    Path added = tmp.resolve("added.bin");
    addFiles(src, new SplittableRandom(seed));
    BackupTree.addOddCases(src);
    Files.write(added, new Data(~seed).bytes(0, ADDED_FILE));
    m = Mounted.fresh(tmp);
    Path mnt = m.mountpoint;
    Path snapshots = mnt.resolve(".snapshots");

    sh("rsync -aHAX --numeric-ids '" + src + "/' '" + mnt + "/'");
    assertAgree(src, mnt, "the live tree right after rsync");
    sh("mkdir '" + snapshots.resolve("s1") + "'");
    sh("cp -a '" + src + "' '" + expected1 + "'");
    assertEquals("", BackupTree.differences(src, expected1), "cp -a did not copy the source exactly (the test's fault)");
    // From here on the source is the tree as it is at s2.
    change(src, added);
    change(mnt, added);
    assertAgree(src, mnt, "the live tree after the changes, before s2");
    sh("mkdir '" + snapshots.resolve("s2") + "'");

    Path s1 = snapshots.resolve("s1");
    Path s2 = snapshots.resolve("s2");
    assertAgree(expected1, s1, "snapshot s1");
    assertAgree(src, s2, "snapshot s2");
    assertAgree(src, mnt, "the live tree after s2");
    // The kernel forgets the nodes nobody uses when its caches are dropped; one still in use (a
    // shell's working directory) stays, and the forgotten ones are looked up again.
    String listing = "ls | head -3 && md5sum < d09/f004";
    assertEquals(sh("cd '" + expected1.resolve("data") + "' && " + listing),
        sh("cd '" + s1.resolve("data") + "' && echo 2 > /proc/sys/vm/drop_caches && " + listing),
        "a snapshot directory in use while the kernel forgets");
    assertAgree(expected1, s1, "snapshot s1 after the kernel forgot its nodes");
    assertLinked("s1", 3, s1.resolve("links/a/one"), s1.resolve("links/b/two"), s1.resolve("links/three"));
    assertLinked("s1", 1, s1.resolve("data/d09/f004"));
    assertLinked("s2", 3, s2.resolve("links/a/one"), s2.resolve("links/b/two"), s2.resolve("links/three"));
    assertLinked("s2", 2, s2.resolve("data/d09/f004"), s2.resolve("data/d10/hardlink"));
    // Else rsync -H or cp -a of several snapshots at once would join the names of different files.
    List<Object> inodes = new ArrayList<>();
    for (Path p : List.of(mnt, s1, s2)) {
      inodes.add(Files.getAttribute(p.resolve("links/a/one"), "unix:ino", NOFOLLOW_LINKS));
    }
    assertEquals(3, inodes.stream().distinct().count(), "st_ino of links/a/one in the live tree, s1 and s2: " + inodes);

    assertFalse(sh("ls -a '" + mnt + "'").lines().anyMatch(".snapshots"::equals), "ls -a MOUNT lists .snapshots");
    assertEquals("directory\n", sh("stat -c %F '" + snapshots + "'"), "stat MOUNT/.snapshots");
    assertEquals("s1\ns2\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots");

    assertReadOnly(s1);
    Mounted.Result again = Mounted.run("mkdir", s1.toString());
    assertTrue(again.exit() != 0 && again.output().contains("File exists"), "mkdir of an existing snapshot:\n" + again.output());
    sh("mv '" + s2 + "' '" + snapshots.resolve("renamed") + "'");
    assertEquals("renamed\ns1\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after mv s2 renamed");

    m.unmount();
    m.mount();
    assertEquals("renamed\ns1\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after umount and a new mount");
    assertAgree(expected1, s1, "snapshot s1 after umount and a new mount");
    assertAgree(src, snapshots.resolve("renamed"), "snapshot s2, renamed, after umount and a new mount");
    assertAgree(src, mnt, "the live tree after umount and a new mount");

    sh("rmdir '" + s1 + "'");
    assertEquals("renamed\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after rmdir s1");
    assertFalse(Files.exists(s1, NOFOLLOW_LINKS), s1 + " still there after rmdir");
  }

  /**
   * Snapshots taken while one file is appended to: each holds a prefix of it, with at least every
   * write(2) that returned before mkdir began and nothing past the write in progress when mkdir
   * returned, read after the writer went on to the end.
   */
  @Test
  void aSnapshotTakenWhileAFileIsWrittenHoldsAPrefixOfIt() throws Exception {
    long seed = Data.seed("[SnapshotIT] while writing");
    m = Mounted.fresh(tmp);
    Path file = m.mountpoint.resolve("growing.bin");
    Data content = new Data(seed);
    AtomicLong accepted = new AtomicLong();
    NavigableSet<Long> ends = new ConcurrentSkipListSet<>(List.of(0L));
    AtomicBoolean stop = new AtomicBoolean();
    long[] before = new long[SNAPSHOTS_WHILE_WRITING];
    long[] after = new long[SNAPSHOTS_WHILE_WRITING];
    long total;
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Long> writer = pool.submit(() -> {
        SplittableRandom sizes = new SplittableRandom(seed);
        try (FileChannel ch = FileChannel.open(file, CREATE_NEW, WRITE)) {
          while (!stop.get() && ch.position() < WRITER_LIMIT) {
            content.append(ch, ch.position() + WRITER_STEP, sizes, (piece, n, end) -> {
              ends.add(end);
              accepted.set(end);
            });
          }
          return ch.position();
        }
      });
      for (int i = 0; i < SNAPSHOTS_WHILE_WRITING; i++) {
        while (accepted.get() < (i + 1) * BETWEEN_SNAPSHOTS && !writer.isDone()) {
          Thread.sleep(1);
        }
        before[i] = accepted.get();
        sh("mkdir '" + m.mountpoint.resolve(".snapshots/w" + i) + "'");
        after[i] = accepted.get();
      }
      stop.set(true);
      total = writer.get();
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
    System.out.printf("[SnapshotIT] wrote %s; snapshots at %s%n", Data.size(total), describe(before, after));

    for (int i = 0; i < SNAPSHOTS_WHILE_WRITING; i++) {
      Path inSnapshot = m.mountpoint.resolve(".snapshots/w" + i + "/growing.bin");
      assertTrue(Files.exists(inSnapshot), "snapshot w" + i + " has no growing.bin");
      long length = Data.assertPrefixOf(inSnapshot, content, "growing.bin in snapshot w" + i).length();
      // A write in progress may be split into several FUSE writes, so the snapshot may hold part of it.
      Long inProgress = ends.higher(after[i]);
      long upTo = inProgress == null ? after[i] : inProgress;
      int n = i;
      assertTrue(before[n] <= length && length <= upTo, () -> "snapshot w" + n + " holds " + length
          + " bytes of growing.bin: written when mkdir began " + before[n] + ", when it returned " + after[n]
          + ", end of the write then in progress " + upTo);
    }
    assertEquals(total, Data.assertPrefixOf(file, content, "growing.bin").length(), "the live file after writing");
  }

  private static String describe(long[] before, long[] after) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < before.length; i++) {
      s.append(i == 0 ? "" : ", ").append(Data.size(before[i])).append("..").append(Data.size(after[i]));
    }
    return s.toString();
  }

  /**
   * dedupfs snapshot create, list (plain and --json) and delete, with the repository mounted, where
   * the mounted process carries them out and the mount shows the result at once, and unmounted.
   * Errors exit 1 with a one-line message, usage errors 2.
   */
  @Test
  void commandLineSnapshotsMountedAndUnmounted() throws Exception {
    long seed = Data.seed("[SnapshotIT] command line");
    Path src = tmp.resolve("src");
    addFiles(src, new SplittableRandom(seed));
    m = Mounted.fresh(tmp);
    String repo = m.repository.toString();
    Path snapshots = m.mountpoint.resolve(".snapshots");
    sh("rsync -aHAX --numeric-ids '" + src + "/' '" + m.mountpoint + "/'");
    Path socket = m.repository.resolve("control.sock");
    assertEquals(0, Mounted.run("test", "-S", socket.toString()).exit(), "no control socket " + socket + " while mounted");

    // Right after the rsync: the snapshot must hold what was just written.
    cli("snapshot", "create", repo, "mounted-cli");
    assertEquals("mounted-cli\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after snapshot create (mounted)");
    assertAgree(src, snapshots.resolve("mounted-cli"), "snapshot mounted-cli, made by the command line while mounted");
    sh("mkdir '" + snapshots.resolve("by-mkdir-1") + "' '" + snapshots.resolve("by-mkdir-2") + "'");
    assertListed(repo, "mounted", List.of("by-mkdir-1", "by-mkdir-2", "mounted-cli"), List.of());
    // The kernel keeps the listing it just read; a deletion it did not see (not the newest: the
    // directory's mtime stays) must still show at once.
    assertEquals("by-mkdir-1\nby-mkdir-2\nmounted-cli\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after mkdir");
    // So are its attributes, for a second: nlink is 2 and one per snapshot.
    String links = "stat -c %h '" + snapshots + "'";
    assertEquals("5\n", sh(links), "nlink of MOUNT/.snapshots with 3 snapshots");
    cli("snapshot", "delete", repo, "by-mkdir-1");
    assertEquals("4\n", sh(links), "nlink of MOUNT/.snapshots after snapshot delete (mounted)");
    assertEquals("by-mkdir-2\nmounted-cli\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after snapshot delete (mounted)");
    cli("snapshot", "delete", repo, "by-mkdir-2");
    assertEquals("mounted-cli\n", sh("ls '" + snapshots + "'"), "ls MOUNT/.snapshots after another snapshot delete (mounted)");
    assertEquals("3\n", sh(links), "nlink of MOUNT/.snapshots after another snapshot delete (mounted)");
    assertFails(1, "snapshot", "create", repo, "mounted-cli");

    m.unmount();
    cli("snapshot", "create", repo, "unmounted-a");
    cli("snapshot", "create", repo);
    cli("snapshot", "delete", repo, "mounted-cli");
    String json = assertListed(repo, "unmounted", List.of("unmounted-a"), List.of("mounted-cli", "by-mkdir-1", "by-mkdir-2"));
    Matcher timeName = Pattern.compile("\"name\"\\s*:\\s*\"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d[^\"]*)\"").matcher(json);
    assertTrue(timeName.find(), "no snapshot named by its ISO-8601 time in snapshot list --json:\n" + json);
    assertFails(1, "snapshot", "delete", repo, "no-such-snapshot");
    assertFails(2, "snapshot", "delete", repo);

    m.mount();
    assertEquals(List.of(timeName.group(1), "unmounted-a"), sh("ls '" + snapshots + "'").lines().sorted().toList(),
        "ls MOUNT/.snapshots after the changes made unmounted");
    assertAgree(src, snapshots.resolve("unmounted-a"), "snapshot unmounted-a, made by the command line while unmounted");
  }

  /** Runs a dedupfs command that must succeed; returns its stdout. */
  private static String cli(String... args) throws Exception {
    Mounted.Output r = Mounted.dedupfsApart(args);
    assertEquals(0, r.exit(), () -> "dedupfs " + String.join(" ", args) + "\n" + r);
    return r.stdout();
  }

  /** A dedupfs command that must fail with {@code exit} and one line of message on stderr. */
  private static void assertFails(int exit, String... args) throws Exception {
    Mounted.Output r = Mounted.dedupfsApart(args);
    String what = "dedupfs " + String.join(" ", args) + "\n" + r;
    assertEquals(exit, r.exit(), what);
    assertFalse(r.stderr().isBlank(), "no message on stderr: " + what);
    if (exit == 1) {
      assertEquals(1, r.stderr().lines().count(), "not a one-line message: " + what);
    }
  }

  /** snapshot list and snapshot list --json show {@code present} and not {@code absent}; returns the JSON. */
  private static String assertListed(String repo, String when, List<String> present, List<String> absent) throws Exception {
    String plain = cli("snapshot", "list", repo);
    String json = cli("snapshot", "list", repo, "--json");
    for (String name : present) {
      assertTrue(listed(plain, name), "snapshot list (" + when + ") does not show " + name + ":\n" + plain);
      assertTrue(listedJson(json, name), "snapshot list --json (" + when + ") does not show " + name + ":\n" + json);
    }
    for (String name : absent) {
      assertFalse(listed(plain, name), "snapshot list (" + when + ") still shows " + name + ":\n" + plain);
      assertFalse(listedJson(json, name), "snapshot list --json (" + when + ") still shows " + name + ":\n" + json);
    }
    return json;
  }

  /** {@code name} as a word of its own in a table, in any column. */
  private static boolean listed(String table, String name) {
    return Pattern.compile("(?m)(^|\\s)" + Pattern.quote(name) + "(\\s|$)").matcher(table).find();
  }

  private static boolean listedJson(String json, String name) {
    return Pattern.compile("\"name\"\\s*:\\s*\"" + Pattern.quote(name) + "\"").matcher(json).find();
  }

  /**
   * {@value #DIRS} directories data/dNN of {@value #FILES_PER_DIR} files fNNN of seeded content (up
   * to 64 KiB, one in twenty up to 1 MiB, some empty), and an empty directory data/empty.
   */
  private static void addFiles(Path src, SplittableRandom r) throws IOException {
    for (int d = 0; d < DIRS; d++) {
      Path dir = Files.createDirectories(src.resolve(String.format("data/d%02d", d)));
      for (int f = 0; f < FILES_PER_DIR; f++) {
        int size = r.nextInt(20) == 0 ? r.nextInt(LARGE_FILE) : r.nextInt(SMALL_FILE);
        Files.write(dir.resolve(String.format("f%03d", f)), new Data(r.nextLong()).bytes(0, size));
      }
    }
    Files.createDirectories(src.resolve("data/empty"));
  }

  private static void change(Path root, Path added) throws Exception {
    sh("set -- '" + root + "' '" + added + "' '" + BackupTree.DEEP + "'\n" + CHANGES);
  }

  /**
   * rsync finds nothing to do to make {@code expected} like {@code actual}, and the names are hard
   * linked alike. rsync reads {@code actual} as the source, so its -H sees links that {@code actual}
   * has and {@code expected} lacks; the link lists catch the other way round.
   */
  private static void assertAgree(Path expected, Path actual, String what) throws Exception {
    String differences = BackupTree.differences(actual, expected);
    if (!differences.isEmpty()) {
      fail(what + " (" + actual + ") is not " + expected + ": rsync from it to the expected tree itemizes (>f/cL/cd"
          + " content or a name the expected tree lacks, c checksum, s size, t time, p perms, o/g owner, a ACL,"
          + " x xattr, hf hard link, *deleting a name only the expected tree has):\n" + differences);
    }
    assertEquals(BackupTree.hardLinks(expected), BackupTree.hardLinks(actual), what + " (" + actual + "): hard links");
  }

  /** The names are one inode with {@code nlink} links, as stat(2) reports them. */
  private static void assertLinked(String where, int nlink, Path... names) throws IOException {
    StringBuilder seen = new StringBuilder();
    boolean linked = true;
    Object ino = Files.getAttribute(names[0], "unix:ino", NOFOLLOW_LINKS);
    for (Path name : names) {
      Object i = Files.getAttribute(name, "unix:ino", NOFOLLOW_LINKS);
      Object n = Files.getAttribute(name, "unix:nlink", NOFOLLOW_LINKS);
      linked &= i.equals(ino) && n.equals(nlink);
      seen.append("\n  ").append(name).append(": st_ino ").append(i).append(", st_nlink ").append(n);
    }
    assertTrue(linked, where + ": expected one inode with " + nlink + " links:" + seen);
  }

  /**
   * Every kind of change inside {@code snapshot} fails with EROFS (the snapshot's contents are
   * checked afterwards by the caller). Shell tools print strerror; Java shows it as the reason.
   */
  private static void assertReadOnly(Path snapshot) throws Exception {
    StringBuilder wrong = new StringBuilder();
    for (String write : WRITES) {
      Mounted.Result r = Mounted.run("bash", "-c", "cd '" + snapshot + "' && " + write);
      if (r.exit() == 0 || !r.output().contains(READ_ONLY)) {
        wrong.append("\n  ").append(write).append(": exit ").append(r.exit()).append(", ").append(r.output().strip());
      }
    }
    // Open for writing without truncating, as a database would.
    Path file = snapshot.resolve("data/d00/f000");
    try {
      FileChannel.open(file, WRITE).close();
      wrong.append("\n  FileChannel.open(").append(file).append(", WRITE) succeeded");
    } catch (FileSystemException e) {
      if (!READ_ONLY.equals(e.getReason())) {
        wrong.append("\n  FileChannel.open(").append(file).append(", WRITE): ").append(e);
      }
    }
    assertEquals("", wrong.toString(), "changes inside snapshot " + snapshot + " that did not fail with EROFS");
  }
}
