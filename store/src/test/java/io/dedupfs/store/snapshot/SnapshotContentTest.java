package io.dedupfs.store.snapshot;

import static io.dedupfs.store.snapshot.SnapshotKit.DIR;
import static io.dedupfs.store.snapshot.SnapshotKit.FILE;
import static io.dedupfs.store.snapshot.SnapshotKit.assertSameImage;
import static io.dedupfs.store.snapshot.SnapshotKit.bytes;
import static io.dedupfs.store.snapshot.SnapshotKit.name;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.TreeSource;
import io.dedupfs.store.namespace.XattrMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A snapshot holds every kind of inode, attribute, name and byte of the live tree as it was. */
class SnapshotContentTest {
  private static final byte[] ACL = "system.posix_acl_access".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BAD_UTF8 = {(byte) 0xff, (byte) 0xfe, 'x', (byte) 0x80, (byte) 0xc3};

  @TempDir Path tmp;
  private SnapshotKit kit;
  private Namespace ns;

  @BeforeEach
  void open() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), SnapshotKit.SMALL_CHUNKS);
    ns = kit.ns;
  }

  @AfterEach
  void close() throws Exception {
    kit.close();
  }

  private static Name longName(char c) {
    byte[] n = new byte[Name.MAX_LENGTH];
    Arrays.fill(n, (byte) c);
    return Name.of(n);
  }

  /** An access ACL in the kernel's xattr format: owner rw, user 1000 r, group r, mask rw, other none. */
  private static byte[] acl() {
    ByteBuffer b = ByteBuffer.allocate(4 + 5 * 8).order(ByteOrder.LITTLE_ENDIAN).putInt(2);
    b.putShort((short) 0x01).putShort((short) 6).putInt(-1);
    b.putShort((short) 0x02).putShort((short) 4).putInt(1000);
    b.putShort((short) 0x04).putShort((short) 4).putInt(-1);
    b.putShort((short) 0x10).putShort((short) 6).putInt(-1);
    b.putShort((short) 0x20).putShort((short) 0).putInt(-1);
    return b.array();
  }

  /** Builds a tree with one of everything; returns the inodes the test looks at again. */
  private long[] buildEverything() throws Exception {
    long root = Namespace.ROOT;
    ns.setXattr(root, name("user.root").bytes(), "r".getBytes(StandardCharsets.UTF_8), XattrMode.EITHER);
    long docs = kit.mkdir(root, "docs");
    long deep = kit.mkdir(kit.mkdir(docs, "sub"), "deeper");
    long other = kit.mkdir(root, "other");
    ns.mknod(docs, name("empty"), FILE, 0, 0, 0);
    long small = kit.writeFile(docs, "small", 3000, 1);
    long multi = kit.writeFile(deep, "multi", 300_000, 2);
    // Sparse: data at 0, a hole, data at 1 MiB, a hole to the end at 3 MiB.
    long sparse = kit.mkfile(docs, "sparse");
    kit.write(sparse, 0, bytes(1000, 3));
    kit.write(sparse, 1 << 20, bytes(50_000, 4));
    ns.truncate(sparse, 3 << 20);
    long allHole = kit.mkfile(docs, "all-hole");
    ns.truncate(allHole, 5_000_000);
    ns.symlink(docs, name("link"), "../other/target with spaces".getBytes(StandardCharsets.UTF_8), 12, 34);
    byte[] longTarget = new byte[Namespace.MAX_SYMLINK_TARGET];
    Arrays.fill(longTarget, (byte) 'z');
    longTarget[0] = '/';
    ns.symlink(deep, name("long-link"), longTarget, 0, 0);
    ns.mknod(other, name("fifo"), Mode.S_IFIFO | 0600, 5, 6, 0);
    ns.mknod(other, name("null"), Mode.S_IFCHR | 0666, 0, 0, (1L << 8) | 3);
    ns.mknod(other, name("sda"), Mode.S_IFBLK | 0660, 0, 6, (8L << 8) | 0x12345678_00000000L);
    ns.mknod(other, name("sock"), Mode.S_IFSOCK | 0755, 0, 0, 0);
    // Names: invalid UTF-8, 255 bytes (file and directory), odd characters.
    long bad = ns.mknod(other, Name.of(BAD_UTF8), FILE, 0, 0, 0).number();
    kit.write(bad, 0, bytes(10, 5));
    kit.writeFile(other, "tab\tnew\nline ☃", 7, 6);
    long longDir = ns.mknod(root, longName('D'), DIR, 0, 0, 0).number();
    ns.mknod(longDir, longName('f'), FILE, 0, 0, 0);
    // Xattrs: several, an empty value, the largest value, the access ACL (which sets the mode).
    ns.setXattr(small, name("user.b").bytes(), "second".getBytes(StandardCharsets.UTF_8), XattrMode.EITHER);
    ns.setXattr(small, name("user.a").bytes(), "first".getBytes(StandardCharsets.UTF_8), XattrMode.EITHER);
    ns.setXattr(small, name("user.empty").bytes(), new byte[0], XattrMode.EITHER);
    ns.setXattr(small, BAD_UTF8, bytes(Namespace.MAX_XATTR_VALUE, 7), XattrMode.EITHER);
    ns.setXattr(small, ACL, acl(), XattrMode.EITHER);
    ns.setXattr(docs, name("user.dir").bytes(), "d".getBytes(StandardCharsets.UTF_8), XattrMode.EITHER);
    ns.setXattr(deep, ACL, acl(), XattrMode.EITHER);
    // Hard links: a name in another directory and a second one in the same directory.
    ns.link(multi, other, name("multi-in-other"));
    ns.link(multi, deep, name("multi-again"));
    // Owners and times: large ids, a time before the epoch, odd nanoseconds.
    ns.setAttributes(small, new AttributeChange(null, 0xfffffffe, 70000, -1_234_567_891L, 1_000_000_000_123L));
    ns.setAttributes(other, new AttributeChange(01777, 1, 2, 5L, 6L));
    return new long[] {docs, deep, other, small, multi, sparse, allHole};
  }

  @Test
  void everyKindOfEntryIsKeptExactlyAsItWas() throws Exception {
    long[] ids = buildEverything();
    SnapshotKit.Image before = kit.liveImage();
    SnapshotRecord s = kit.snapshot("s1");
    assertSameImage(before, kit.snapshotImage(s), "snapshot vs live");
    SnapshotKit.assertRecordTotals(s, before, "s1");
    assertEquals(Name.of("s1"), s.name());
    assertNull(s.root().name());

    // Spot checks through resolve/lookup, independent of the image code.
    TreeEntry small = kit.reader.resolve(s.root(), List.of(name("docs"), name("small")));
    Inode live = ns.getattr(ids[3]);
    assertEquals(live.number(), small.inode().number());
    assertEquals(Mode.S_IFREG | 0660, small.inode().mode(), "mode as the ACL set it");
    assertEquals(0xfffffffe, small.inode().uid());
    assertEquals(70000, small.inode().gid());
    assertEquals(-1_234_567_891L, small.inode().atimeNanos());
    assertEquals(1_000_000_000_123L, small.inode().mtimeNanos());
    assertEquals(live.ctimeNanos(), small.inode().ctimeNanos());
    assertEquals(3000, small.inode().size());
    assertEquals(5, small.xattrs().size());
    List<TreeSource.Xattr> xs = small.xattrs();
    for (int k = 1; k < xs.size(); k++) {
      assertTrue(Arrays.compareUnsigned(xs.get(k - 1).name(), xs.get(k).name()) < 0, "xattrs in byte order");
    }
    assertArrayEquals(acl(), xs.stream().filter(x -> Arrays.equals(x.name(), ACL)).findFirst().orElseThrow().value());
    assertArrayEquals(new byte[0], xs.stream().filter(x -> Arrays.equals(x.name(), name("user.empty").bytes()))
        .findFirst().orElseThrow().value());
    assertArrayEquals(bytes(Namespace.MAX_XATTR_VALUE, 7),
        xs.stream().filter(x -> Arrays.equals(x.name(), BAD_UTF8)).findFirst().orElseThrow().value());
    assertArrayEquals(bytes(3000, 1), kit.snapshotBytes(small, 1000));
    // A read of nothing inside an extent (inline and out of line) finds nothing, as the live tree does.
    assertEquals(List.of(), kit.reader.extents(small, 10, 0));
    assertEquals(0, kit.files.read(new Namespace.FileRange(3000, kit.reader.extents(small, 10, 0)), 10,
        ByteBuffer.allocate(0)));

    TreeEntry nul = kit.reader.resolve(s.root(), List.of(name("other"), name("null")));
    assertEquals(Mode.S_IFCHR | 0666, nul.inode().mode());
    assertEquals((1L << 8) | 3, nul.inode().rdev());
    TreeEntry sda = kit.reader.resolve(s.root(), List.of(name("other"), name("sda")));
    assertEquals((8L << 8) | 0x12345678_00000000L, sda.inode().rdev());
    assertEquals(Mode.S_IFIFO | 0600,
        kit.reader.resolve(s.root(), List.of(name("other"), name("fifo"))).inode().mode());
    TreeEntry other = kit.reader.lookup(s.root(), name("other")).orElseThrow();
    assertEquals(Mode.S_IFDIR | 01777, other.inode().mode());
    assertEquals(ns.getattr(ids[2]).nlink(), other.inode().nlink());
    assertArrayEquals("../other/target with spaces".getBytes(StandardCharsets.UTF_8),
        kit.reader.resolve(s.root(), List.of(name("docs"), name("link"))).target());
    assertEquals(Namespace.MAX_SYMLINK_TARGET,
        kit.reader.resolve(s.root(), List.of(name("docs"), name("sub"), name("deeper"), name("long-link"))).target().length);
    assertTrue(kit.reader.lookup(other, Name.of(BAD_UTF8)).isPresent());
    TreeEntry longDir = kit.reader.lookup(s.root(), longName('D')).orElseThrow();
    assertTrue(longDir.isDirectory());
    assertEquals(longName('f'), kit.reader.list(longDir, null, 10).get(0).name());

    // Hard links: the same inode number and body under every name.
    TreeEntry multi = kit.reader.resolve(s.root(), List.of(name("docs"), name("sub"), name("deeper"), name("multi")));
    TreeEntry again = kit.reader.resolve(s.root(), List.of(name("docs"), name("sub"), name("deeper"), name("multi-again")));
    TreeEntry inOther = kit.reader.resolve(s.root(), List.of(name("other"), name("multi-in-other")));
    assertEquals(ids[4], multi.inode().number());
    assertEquals(ids[4], again.inode().number());
    assertEquals(ids[4], inOther.inode().number());
    assertEquals(3, inOther.inode().nlink());
    assertNotNull(multi.extentNode(), "300 KB in ~4 KiB chunks has more extents than fit inline");
    assertEquals(multi.extentNode(), inOther.extentNode());
    assertArrayEquals(bytes(300_000, 2), kit.snapshotBytes(inOther, 4096));
    assertTrue(kit.reader.extents(multi, 0, 300_000).size() > TreeSerializer.INLINE_EXTENTS);
    assertEquals(ns.extents(ids[4], 150_001, 0), kit.reader.extents(multi, 150_001, 0));

    // Sparse files: holes read as zeros, extents leave them out.
    TreeEntry sparse = kit.reader.resolve(s.root(), List.of(name("docs"), name("sparse")));
    assertEquals(3 << 20, sparse.inode().size());
    byte[] sparseBytes = kit.snapshotBytes(sparse, 65_536);
    assertArrayEquals(kit.liveBytes(ids[5]), sparseBytes);
    assertArrayEquals(bytes(50_000, 4), Arrays.copyOfRange(sparseBytes, 1 << 20, (1 << 20) + 50_000));
    assertTrue(kit.reader.extents(sparse, 2 << 20, 1 << 20).isEmpty(), "the tail is a hole");
    TreeEntry allHole = kit.reader.resolve(s.root(), List.of(name("docs"), name("all-hole")));
    assertTrue(allHole.inlineExtents().isEmpty());
    assertArrayEquals(new byte[5_000_000], kit.snapshotBytes(allHole, 1 << 20));
    TreeEntry empty = kit.reader.resolve(s.root(), List.of(name("docs"), name("empty")));
    assertEquals(0, empty.inode().size());
    assertEquals(0, kit.files.read(new Namespace.FileRange(0, kit.reader.extents(empty, 0, 10)), 0,
        ByteBuffer.allocate(10)));

    // Misses and errors.
    assertTrue(kit.reader.lookup(s.root(), name("nope")).isEmpty());
    assertThrows(NoSuchFileException.class, () -> kit.reader.resolve(s.root(), List.of(name("docs"), name("nope"))));
    FileSystemException notDir = assertThrows(FileSystemException.class,
        () -> kit.reader.resolve(s.root(), List.of(name("docs"), name("small"), name("x"))));
    assertEquals("Not a directory", notDir.getReason());
  }

  @Test
  void changesToTheLiveTreeDoNotReachTheSnapshot() throws Exception {
    long[] ids = buildEverything();
    SnapshotKit.Image before = kit.liveImage();
    SnapshotRecord s = kit.snapshot("s1");
    long docs = ids[0];
    long deep = ids[1];
    long other = ids[2];

    kit.write(ids[3], 100, bytes(500, 99));
    kit.write(ids[4], 299_000, bytes(10_000, 98));
    ns.truncate(ids[5], 10);
    ns.setAttributes(deep, AttributeChange.permissions(0700));
    ns.setXattr(ids[3], name("user.a").bytes(), "changed".getBytes(StandardCharsets.UTF_8), XattrMode.REPLACE);
    ns.removeXattr(ids[3], name("user.b").bytes());
    ns.unlink(other, name("multi-in-other"));
    ns.unlink(other, name("fifo"));
    ns.rename(docs, name("link"), other, name("moved-link"));
    ns.rename(Namespace.ROOT, name("docs"), other, name("docs-moved"));
    ns.mknod(Namespace.ROOT, name("new"), FILE, 0, 0, 0);
    ns.setAttributes(Namespace.ROOT, AttributeChange.permissions(0711));

    SnapshotKit.Image after = kit.liveImage();
    assertNotEquals(before.entries(), after.entries());
    assertSameImage(before, kit.snapshotImage(s), "the snapshot after the live tree changed");

    // A second snapshot has the new state; the first still the old one, also with a cold cache
    // and after the repository is reopened.
    SnapshotRecord s2 = kit.snapshot("s2");
    assertSameImage(after, kit.snapshotImage(s2), "s2");
    kit.reopen();
    ns = kit.ns;
    assertSameImage(before, kit.snapshotImage(kit.snapshots.get(name("s1"))), "s1 after reopening");
    assertSameImage(after, kit.snapshotImage(kit.snapshots.get(name("s2"))), "s2 after reopening");
    assertFalse(kit.snapshots.get(name("s1")).root().tree().equals(kit.snapshots.get(name("s2")).root().tree()));
  }

  @Test
  void anEmptyTreeAndEmptyDirectoriesShareOneNode() throws Exception {
    SnapshotRecord s0 = kit.snapshot("empty");
    assertTrue(kit.reader.list(s0.root(), null, 10).isEmpty());
    assertEquals(0, s0.files());
    assertEquals(0, s0.directories());
    assertEquals(0, s0.bytes());
    kit.mkdir(Namespace.ROOT, "a");
    kit.mkdir(Namespace.ROOT, "b");
    SnapshotRecord s1 = kit.snapshot("two");
    TreeEntry a = kit.reader.lookup(s1.root(), name("a")).orElseThrow();
    TreeEntry b = kit.reader.lookup(s1.root(), name("b")).orElseThrow();
    assertEquals(s0.root().tree(), a.tree());
    assertEquals(a.tree(), b.tree());
    assertEquals(2, s1.directories());
    kit.assertSnapshotIsLive(s1, "two empty dirs");
  }

  @Test
  void totalsCountEveryNameAndEveryByteBelowTheRoot() throws Exception {
    long d = kit.mkdir(Namespace.ROOT, "d");
    long e = kit.mkdir(d, "e");
    long f = kit.writeFile(e, "f", 1234, 1);
    ns.link(f, Namespace.ROOT, name("f-link"));
    ns.symlink(d, name("s"), "f".getBytes(StandardCharsets.UTF_8), 0, 0);
    ns.truncate(kit.mkfile(Namespace.ROOT, "hole"), 1_000_000);
    SnapshotRecord s = kit.snapshot("t");
    assertEquals(1234 * 2 + 1_000_000, s.bytes(), "a file with two names counts twice; a hole counts");
    assertEquals(4, s.files(), "f, f-link, s, hole");
    assertEquals(2, s.directories());
    // Totals come from cached trees just as well.
    kit.mkfile(Namespace.ROOT, "x");
    SnapshotRecord s2 = kit.snapshot("t2");
    assertEquals(5, s2.files());
    assertEquals(s.bytes(), s2.bytes());
    assertEquals(2, s2.directories());
    assertTrue(kit.cachedTrees().containsKey(d), "d was not changed, so its tree stays cached");
    assertTrue(kit.cachedTrees().containsKey(e));
  }

  @Test
  void anOpenFileWhoseNamesAreGoneIsInNoSnapshot() throws Exception {
    kit.writeFile(Namespace.ROOT, "kept", 1000, 1);
    long open = kit.writeFile(Namespace.ROOT, "open", 1234, 2);
    ns.holdOpenInodes(n -> n == open);
    ns.unlink(Namespace.ROOT, name("open"));
    assertEquals(0, ns.getattr(open).nlink(), "an orphan while the snapshot is taken");

    SnapshotRecord s = kit.snapshot("t");
    assertEquals(1, s.files(), "only kept, which has a name");
    assertEquals(1000, s.bytes());
    kit.assertSnapshotIsLive(s, "with an orphan");
  }
}
