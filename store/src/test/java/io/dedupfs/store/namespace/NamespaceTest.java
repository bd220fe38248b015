package io.dedupfs.store.namespace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.Table;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceTest {
  private static final Instant T0 = Instant.parse("2026-11-23T10:15:30.123456789Z");
  private static final long T0_NANOS = T0.getEpochSecond() * 1_000_000_000L + T0.getNano();
  private static final int FILE = Mode.S_IFREG | 0644;
  private static final int DIR = Mode.S_IFDIR | 0755;

  @TempDir Path tmp;
  private Repository repo;
  private Namespace ns;

  @BeforeEach
  void open() throws Exception {
    repo = Repository.init(tmp.resolve("repo"), RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    ns = Namespace.open(repo.index(), Clock.fixed(T0, ZoneOffset.UTC));
  }

  @AfterEach
  void close() throws Exception {
    repo.close();
  }

  private static String reason(FileSystemException e) {
    return e.getReason();
  }

  @Test
  void rootExistsWithStableNumberAndNanosecondTimes() throws Exception {
    Inode root = ns.getattr(Namespace.ROOT);
    assertTrue(root.isDirectory());
    assertEquals(2, root.nlink());
    Inode f = ns.mknod(Namespace.ROOT, Name.of("f"), FILE, 1000, 1000, 0);
    assertEquals(T0_NANOS, f.mtimeNanos());
    assertEquals(T0_NANOS, ns.getattr(Namespace.ROOT).mtimeNanos(), "creating an entry changes the directory's mtime");
    assertEquals(1000, f.uid());
    assertEquals(f, ns.lookup(Namespace.ROOT, Name.of("f")).orElseThrow());
  }

  @Test
  void anyLinuxNameRoundTripsAsBytes() throws Exception {
    byte[] invalidUtf8 = {(byte) 0xff, (byte) 0xfe, 'x', (byte) 0x80};
    byte[] longest = new byte[Name.MAX_LENGTH];
    Arrays.fill(longest, (byte) 'n');
    byte[] odd = "tab\tnew\nline ☃ *?".getBytes(StandardCharsets.UTF_8);
    for (byte[] n : List.of(invalidUtf8, longest, odd)) {
      ns.mknod(Namespace.ROOT, Name.of(n), FILE, 0, 0, 0);
    }
    List<byte[]> listed = new ArrayList<>();
    for (DirEntry e : ns.list(Namespace.ROOT, null, 100)) {
      listed.add(e.name().bytes());
    }
    assertEquals(3, listed.size());
    assertTrue(listed.stream().anyMatch(b -> Arrays.equals(b, invalidUtf8)));
    assertTrue(listed.stream().anyMatch(b -> Arrays.equals(b, longest)));
    assertTrue(listed.stream().anyMatch(b -> Arrays.equals(b, odd)));
  }

  @Test
  void invalidNamesAreRefused() {
    for (byte[] bad : List.of(new byte[0], new byte[256], "a/b".getBytes(StandardCharsets.UTF_8), new byte[] {'a', 0},
        ".".getBytes(StandardCharsets.UTF_8), "..".getBytes(StandardCharsets.UTF_8))) {
      assertThrows(IllegalArgumentException.class, () -> Name.of(bad), Arrays.toString(bad));
    }
  }

  @Test
  void listingResumesAfterAnyNameInByteOrder() throws Exception {
    long dir = ns.mknod(Namespace.ROOT, Name.of("d"), DIR, 0, 0, 0).number();
    for (int i = 0; i < 250; i++) {
      ns.mknod(dir, Name.of(String.format("f%03d", i)), FILE, 0, 0, 0);
    }
    List<String> seen = new ArrayList<>();
    Name after = null;
    for (List<DirEntry> page; !(page = ns.list(dir, after, 64)).isEmpty(); after = page.get(page.size() - 1).name()) {
      page.forEach(e -> seen.add(e.name().toString()));
    }
    assertEquals(250, seen.size());
    assertEquals("f000", seen.get(0));
    assertEquals("f249", seen.get(249));
    assertEquals(seen.stream().sorted().toList(), seen);
    assertTrue(ns.list(Namespace.ROOT, null, 10).stream().allMatch(e -> e.name().equals(Name.of("d"))),
        "a subdirectory's entries are not the parent's");
  }

  @Test
  void errnosTheLocalFilesystemTestCannotReach() throws Exception {
    long dir = ns.mknod(Namespace.ROOT, Name.of("d"), DIR, 0, 0, 0).number();
    long file = ns.mknod(Namespace.ROOT, Name.of("f"), FILE, 0, 0, 0).number();
    assertEquals(Namespace.IS_A_DIRECTORY,
        reason(assertThrows(FileSystemException.class, () -> ns.unlink(Namespace.ROOT, Name.of("d")))));
    assertEquals(Namespace.NOT_A_DIRECTORY,
        reason(assertThrows(FileSystemException.class, () -> ns.rmdir(Namespace.ROOT, Name.of("f")))));
    assertEquals(Namespace.NOT_A_DIRECTORY,
        reason(assertThrows(FileSystemException.class, () -> ns.mknod(file, Name.of("x"), FILE, 0, 0, 0))));
    assertThrows(NoSuchFileException.class, () -> ns.getattr(9999));
    assertThrows(FileAlreadyExistsException.class, () -> ns.mknod(Namespace.ROOT, Name.of("d"), FILE, 0, 0, 0));
    assertEquals(Namespace.INVALID_ARGUMENT,
        reason(assertThrows(FileSystemException.class, () -> ns.readlink(file))));
    assertEquals(Namespace.INVALID_ARGUMENT, reason(assertThrows(FileSystemException.class,
        () -> ns.mknod(dir, Name.of("l"), Mode.S_IFLNK | 0777, 0, 0, 0))));
    assertEquals(2, ns.getattr(dir).nlink(), "failed operations change nothing");
  }

  @Test
  void mknodWithoutATypeMakesARegularFileAndOddInputIsRefused() throws Exception {
    Inode plain = ns.mknod(Namespace.ROOT, Name.of("plain"), 0640, 0, 0, 0);
    assertEquals(Mode.S_IFREG | 0640, plain.mode());
    assertEquals(Namespace.INVALID_ARGUMENT, reason(assertThrows(FileSystemException.class,
        () -> ns.mknod(Namespace.ROOT, Name.of("odd"), 0030000 | 0644, 0, 0, 0))));
    assertEquals(Namespace.OUT_OF_RANGE, reason(assertThrows(FileSystemException.class,
        () -> ns.setXattr(plain.number(), new byte[256], new byte[1], XattrMode.EITHER))));
  }

  @Test
  void renameOntoAnotherNameOfTheSameInodeDoesNothing() throws Exception {
    long f = ns.mknod(Namespace.ROOT, Name.of("a"), FILE, 0, 0, 0).number();
    ns.link(f, Namespace.ROOT, Name.of("b"));
    ns.rename(Namespace.ROOT, Name.of("a"), Namespace.ROOT, Name.of("b"));
    assertEquals(2, ns.getattr(f).nlink());
    assertTrue(ns.lookup(Namespace.ROOT, Name.of("a")).isPresent() && ns.lookup(Namespace.ROOT, Name.of("b")).isPresent());
  }

  @Test
  void devicesSymlinksAndSetGidDirectories() throws Exception {
    Inode chr = ns.mknod(Namespace.ROOT, Name.of("null"), Mode.S_IFCHR | 0666, 0, 0, (1L << 8) | 3);
    assertEquals((1L << 8) | 3, ns.getattr(chr.number()).rdev());
    byte[] target = {'.', '.', '/', (byte) 0xff};
    Inode link = ns.symlink(Namespace.ROOT, Name.of("l"), target, 0, 0);
    assertArrayEquals(target, ns.readlink(link.number()));
    assertEquals(target.length, link.size());

    Inode shared = ns.mknod(Namespace.ROOT, Name.of("shared"), DIR | Mode.S_ISGID, 0, 50, 0);
    Inode file = ns.mknod(shared.number(), Name.of("f"), FILE, 1000, 1000, 0);
    Inode sub = ns.mknod(shared.number(), Name.of("sub"), DIR, 1000, 1000, 0);
    assertEquals(50, file.gid(), "a new node takes the set-gid directory's group");
    assertEquals(50, sub.gid());
    assertTrue((sub.mode() & Mode.S_ISGID) != 0, "a new directory keeps the set-gid bit");
    assertEquals(0, file.mode() & Mode.S_ISGID);
  }

  @Test
  void attributesChangeAndCtimeFollows() throws Exception {
    long f = ns.mknod(Namespace.ROOT, Name.of("f"), FILE, 0, 0, 0).number();
    Inode changed = ns.setAttributes(f, new AttributeChange(04750, 7, 8, 11L, 22L));
    assertEquals(Mode.S_IFREG | 04750, changed.mode(), "the file type bits stay");
    assertEquals(7, changed.uid());
    assertEquals(8, changed.gid());
    assertEquals(11L, changed.atimeNanos());
    assertEquals(22L, changed.mtimeNanos());
    assertEquals(changed, ns.getattr(f));
  }

  @Test
  void aChangeHandedOverLateKeepsTheCtimeOfALaterOne() throws Exception {
    long f = ns.mknod(Namespace.ROOT, Name.of("f"), FILE, 0, 0, 0).number();
    long changedAt = ns.setAttributes(f, AttributeChange.permissions(0600)).ctimeNanos();
    Inode late = ns.setAttributes(f, new AttributeChange(null, 3, null, null, null), changedAt - 1_000);
    assertEquals(3, late.uid());
    assertEquals(changedAt, late.ctimeNanos(), "ctime never goes back");
    Inode later = ns.setAttributes(f, new AttributeChange(null, 4, null, null, null), changedAt + 1_000);
    assertEquals(changedAt + 1_000, later.ctimeNanos(), "a change's own time otherwise");
  }

  /** An access ACL in the kernel's xattr format: owner, owning group, a named user, mask, other. */
  private static byte[] acl(int mode, boolean withMask) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 8 * (withMask ? 5 : 3)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(2);
    b.putShort((short) 0x01).putShort((short) (mode >> 6 & 7)).putInt(-1);
    if (withMask) {
      b.putShort((short) 0x02).putShort((short) 7).putInt(65534);
    }
    b.putShort((short) 0x04).putShort((short) (withMask ? 4 : mode >> 3 & 7)).putInt(-1);
    if (withMask) {
      b.putShort((short) 0x10).putShort((short) (mode >> 3 & 7)).putInt(-1);
    }
    b.putShort((short) 0x20).putShort((short) (mode & 7)).putInt(-1);
    return b.array();
  }

  @Test
  void theAccessAclAndTheModeBitsStayInStep() throws Exception {
    long f = ns.mknod(Namespace.ROOT, Name.of("f"), FILE, 0, 0, 0).number();
    byte[] name = "system.posix_acl_access".getBytes(StandardCharsets.US_ASCII);
    ns.setXattr(f, name, acl(0750, true), XattrMode.EITHER);
    assertEquals(0750, ns.getattr(f).mode() & 0777, "setting the ACL sets the mode, group bits from the mask");
    ns.setAttributes(f, AttributeChange.permissions(0604));
    assertArrayEquals(acl(0604, true), ns.getXattr(f, name), "chmod rewrites owner, mask and other entries");
    assertThrows(java.nio.file.FileSystemException.class,
        () -> ns.setXattr(f, name, new byte[] {2, 0, 0, 0}, XattrMode.EITHER), "an ACL without its base entries");
  }

  @Test
  void extendedAttributesFollowSetxattrFlagsAndGoWithTheInode() throws Exception {
    long f = ns.mknod(Namespace.ROOT, Name.of("f"), FILE, 0, 0, 0).number();
    byte[] acl = "system.posix_acl_access".getBytes(StandardCharsets.US_ASCII);
    byte[] user = "user.comment".getBytes(StandardCharsets.US_ASCII);
    assertThrows(NoSuchAttributeException.class, () -> ns.getXattr(f, user));
    assertThrows(NoSuchAttributeException.class, () -> ns.setXattr(f, user, new byte[1], XattrMode.REPLACE));
    ns.setXattr(f, user, "v1".getBytes(StandardCharsets.UTF_8), XattrMode.CREATE);
    assertThrows(FileAlreadyExistsException.class, () -> ns.setXattr(f, user, new byte[1], XattrMode.CREATE));
    ns.setXattr(f, user, new byte[0], XattrMode.REPLACE);
    ns.setXattr(f, acl, acl(0640, true), XattrMode.EITHER);
    assertArrayEquals(new byte[0], ns.getXattr(f, user), "an empty value is a value");
    assertEquals(2, ns.listXattrs(f).size());
    ns.removeXattr(f, acl);
    assertThrows(NoSuchAttributeException.class, () -> ns.removeXattr(f, acl));
    assertEquals(1, ns.listXattrs(f).size());

    long g = ns.mknod(Namespace.ROOT, Name.of("g"), FILE, 0, 0, 0).number();
    ns.setXattr(g, user, new byte[] {1}, XattrMode.EITHER);
    ns.unlink(Namespace.ROOT, Name.of("g"));
    assertThrows(NoSuchFileException.class, () -> ns.listXattrs(g));
    assertEquals(1, ns.listXattrs(f).size(), "another inode's attributes are untouched");
  }

  @Test
  void inodeNumbersAreNeverReusedAndSurviveReopening() throws Exception {
    long a = ns.mknod(Namespace.ROOT, Name.of("a"), FILE, 0, 0, 0).number();
    ns.unlink(Namespace.ROOT, Name.of("a"));
    repo.close();
    repo = Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT);
    ns = Namespace.open(repo.index(), Clock.fixed(T0, ZoneOffset.UTC));
    long b = ns.mknod(Namespace.ROOT, Name.of("b"), FILE, 0, 0, 0).number();
    assertTrue(b > a, "a new inode after reopening gets a number never used before: " + a + " then " + b);
    assertFalse(ns.lookup(Namespace.ROOT, Name.of("a")).isPresent());
  }

  private Inode walk(String path) throws Exception {
    return NamespacePaths.walk(ns, path);
  }

  @Test
  void lookupsFollowEveryChangeOfAName() throws Exception {
    Inode d = ns.mknod(Namespace.ROOT, Name.of("d"), DIR, 0, 0, 0);
    Inode f = ns.mknod(d.number(), Name.of("f"), FILE, 0, 0, 0);
    ns.mknod(d.number(), Name.of("g"), FILE, 0, 0, 0);

    ns.rename(d.number(), Name.of("f"), d.number(), Name.of("g"));
    assertThrows(NoSuchFileException.class, () -> walk("d/f"), "the old name is gone");
    assertEquals(f.number(), walk("d/g").number(), "the replaced name names the moved file");

    ns.unlink(d.number(), Name.of("g"));
    assertThrows(NoSuchFileException.class, () -> walk("d/g"));
    Inode again = ns.mknod(d.number(), Name.of("g"), FILE, 0, 0, 0);
    assertEquals(again.number(), walk("d/g").number());

    ns.rename(Namespace.ROOT, Name.of("d"), Namespace.ROOT, Name.of("e"));
    assertThrows(NoSuchFileException.class, () -> walk("d/g"));
    assertEquals(again.number(), walk("e/g").number(), "entries below a moved directory move with it");

    ns.unlink(d.number(), Name.of("g"));
    ns.rmdir(Namespace.ROOT, Name.of("e"));
    Inode newDir = ns.mknod(Namespace.ROOT, Name.of("e"), DIR, 0, 0, 0);
    assertEquals(newDir.number(), walk("e").number());
    assertThrows(NoSuchFileException.class, () -> walk("e/g"));

    Inode file = ns.mknod(Namespace.ROOT, Name.of("plain"), FILE, 0, 0, 0);
    FileSystemException notDir = assertThrows(FileSystemException.class, () -> ns.lookup(file.number(), Name.of("x")));
    assertEquals(Namespace.NOT_A_DIRECTORY, reason(notDir));
  }

  // ---------------------------------------------------------------- orphans: open files whose last name went

  private static final byte[] USER_XATTR = "user.x".getBytes(StandardCharsets.US_ASCII);
  /** Where an orphan made by {@link #fileWithContent} has entries. */
  private static final List<Table> ORPHAN_TABLES = List.of(Table.INODES, Table.XATTRS, Table.EXTENTS, Table.ORPHANS);

  /** {@code length} bytes at {@code offset} of a chunk named by {@code seed}: the namespace does not read chunks. */
  private static Extent extent(long offset, int length, int seed) {
    byte[] id = new byte[ChunkId.LENGTH];
    Arrays.fill(id, (byte) seed);
    return new Extent(offset, ChunkId.of(id), 0, length);
  }

  /** A file in the root holding 100 bytes of chunk 1 and an xattr. */
  private long fileWithContent(String name) throws Exception {
    long f = ns.mknod(Namespace.ROOT, Name.of(name), FILE, 0, 0, 0).number();
    ns.replaceRange(f, 0, 100, List.of(extent(0, 100, 1)), ns.now());
    ns.setXattr(f, USER_XATTR, new byte[] {1}, XattrMode.EITHER);
    return f;
  }

  /** The tables that hold anything of {@code inode}, among those an orphan keeps. */
  private List<Table> tablesHolding(long inode) throws Exception {
    byte[] prefix = ByteBuffer.allocate(8).putLong(0, inode).array();
    List<Table> holding = new ArrayList<>();
    for (Table t : ORPHAN_TABLES) {
      if (!repo.index().read(tx -> tx.scan(t, prefix, null, 1)).isEmpty()) {
        holding.add(t);
      }
    }
    return holding;
  }

  @Test
  void anOpenFileWhoseLastNameGoesStaysUsableByInodeUntilReleased() throws Exception {
    long f = fileWithContent("f");
    // A second namespace on the index, with a later clock: the unlink's ctime shows.
    Namespace later = Namespace.open(repo.index(), Clock.fixed(T0.plusSeconds(5), ZoneOffset.UTC));
    later.holdOpenInodes(n -> n == f);
    later.unlink(Namespace.ROOT, Name.of("f"));

    assertTrue(ns.lookup(Namespace.ROOT, Name.of("f")).isEmpty(), "the name is gone");
    Inode orphan = ns.getattr(f);
    assertEquals(0, orphan.nlink());
    assertEquals(T0_NANOS + 5_000_000_000L, orphan.ctimeNanos(), "ctime is the unlink's");
    assertEquals(ORPHAN_TABLES, tablesHolding(f));

    ns.replaceRange(f, 100, 50, List.of(extent(100, 50, 2)), ns.now());
    assertEquals(List.of(extent(0, 100, 1), extent(100, 50, 2)), ns.extents(f, 0, 1000), "a write after the unlink");
    assertEquals(120, ns.truncate(f, 120).size());
    assertEquals(Mode.S_IFREG | 0600, ns.setAttributes(f, AttributeChange.permissions(0600)).mode());
    ns.setXattr(f, USER_XATTR, new byte[] {2}, XattrMode.REPLACE);
    assertArrayEquals(new byte[] {2}, ns.getXattr(f, USER_XATTR));
    assertEquals(0, ns.getattr(f).nlink(), "changes keep it an orphan");
    assertThrows(NoSuchFileException.class, () -> ns.link(f, Namespace.ROOT, Name.of("again")),
        "as Linux: no new name for a file whose names are gone");
    assertTrue(ns.lookup(Namespace.ROOT, Name.of("again")).isEmpty());

    ns.releaseOrphan(f);
    assertThrows(NoSuchFileException.class, () -> ns.getattr(f));
    assertEquals(List.of(), tablesHolding(f), "released, it goes with everything it held");
    ns.releaseOrphan(f);
  }

  @Test
  void anOpenFileRenamedOverStaysUntilReleased() throws Exception {
    long replaced = fileWithContent("target");
    long moved = ns.mknod(Namespace.ROOT, Name.of("new"), FILE, 0, 0, 0).number();
    ns.holdOpenInodes(n -> n == replaced);
    ns.rename(Namespace.ROOT, Name.of("new"), Namespace.ROOT, Name.of("target"));

    assertEquals(moved, ns.lookup(Namespace.ROOT, Name.of("target")).orElseThrow().number());
    assertEquals(0, ns.getattr(replaced).nlink());
    assertEquals(List.of(extent(0, 100, 1)), ns.extents(replaced, 0, 1000));
    assertEquals(ORPHAN_TABLES, tablesHolding(replaced));
    ns.releaseOrphan(replaced);
    assertEquals(List.of(), tablesHolding(replaced));
  }

  @Test
  void aFileThatIsNotOpenGoesWithItsLastName() throws Exception {
    long open = ns.mknod(Namespace.ROOT, Name.of("open"), FILE, 0, 0, 0).number();
    long unlinked = fileWithContent("unlinked");
    long renamedOver = fileWithContent("renamed-over");
    ns.mknod(Namespace.ROOT, Name.of("new"), FILE, 0, 0, 0);
    ns.holdOpenInodes(n -> n == open);
    ns.unlink(Namespace.ROOT, Name.of("unlinked"));
    ns.rename(Namespace.ROOT, Name.of("new"), Namespace.ROOT, Name.of("renamed-over"));
    assertEquals(List.of(), tablesHolding(unlinked));
    assertEquals(List.of(), tablesHolding(renamedOver));
  }

  @Test
  void aFileWithAnotherNameIsNoOrphanAndReleasingItDoesNothing() throws Exception {
    long f = fileWithContent("a");
    ns.link(f, Namespace.ROOT, Name.of("b"));
    ns.holdOpenInodes(n -> true);
    ns.unlink(Namespace.ROOT, Name.of("a"));
    assertEquals(1, ns.getattr(f).nlink());

    ns.releaseOrphan(f);
    assertEquals(f, ns.lookup(Namespace.ROOT, Name.of("b")).orElseThrow().number());
    assertEquals(List.of(Table.INODES, Table.XATTRS, Table.EXTENTS), tablesHolding(f), "nothing of it went");
  }

  @Test
  void openingTheNamespaceDeletesTheOrphansLeftBehind() throws Exception {
    long f = fileWithContent("f");
    ns.holdOpenInodes(n -> n == f);
    ns.unlink(Namespace.ROOT, Name.of("f"));
    assertEquals(ORPHAN_TABLES, tablesHolding(f));
    // No release: the process ended (crash or unmount) with the file open.
    repo.close();
    repo = Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT);
    ns = Namespace.open(repo.index(), Clock.fixed(T0, ZoneOffset.UTC));
    assertEquals(List.of(), tablesHolding(f));
    assertThrows(NoSuchFileException.class, () -> ns.getattr(f));
  }
}
