package io.dedupfs.store.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.IndexSealing;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.TreeSource.Xattr;
import io.dedupfs.store.crypto.Encryption;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The byte layouts of FORMAT.md §10.1 and §10.2, checked field by field against the document. */
class TreeCodecTest {
  private static final ChunkId TREE = ChunkHasher.sha256().idOf("tree".getBytes(StandardCharsets.UTF_8));
  private static final ChunkId DATA = ChunkHasher.sha256().idOf("data".getBytes(StandardCharsets.UTF_8));

  private static Inode inode(int mode) {
    return new Inode(0x0102030405060708L, mode, 0x11111111, 0x22222222, 3, 0x3333333333L, -5, 0x4444, 0x5555,
        0x6666666666666666L, 0);
  }

  /** name length u8 || name || inode u64 || mode u32 || uid u32 || gid u32 || nlink u32 || size u64 || 3 times || rdev u64. */
  private static void assertAttributes(byte[] encoded, String name, Inode i) {
    ByteBuffer b = ByteBuffer.wrap(encoded);
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    assertEquals(n.length, b.get() & 0xff);
    byte[] got = new byte[n.length];
    b.get(got);
    assertArrayEquals(n, got);
    assertEquals(i.number(), b.getLong());
    assertEquals(i.mode(), b.getInt());
    assertEquals(i.uid(), b.getInt());
    assertEquals(i.gid(), b.getInt());
    assertEquals(i.nlink(), b.getInt());
    assertEquals(i.size(), b.getLong());
    assertEquals(i.atimeNanos(), b.getLong());
    assertEquals(i.mtimeNanos(), b.getLong());
    assertEquals(i.ctimeNanos(), b.getLong());
    assertEquals(i.rdev(), b.getLong());
    assertEquals(1 + n.length + 64, b.position(), "the fixed attributes are 64 bytes");
  }

  private static TreeEntry roundTrip(TreeEntry e) throws CorruptDataException {
    byte[] bytes = TreeCodec.encodeEntry(e);
    ByteBuffer b = ByteBuffer.wrap(bytes);
    TreeEntry back = TreeCodec.decodeEntry(b);
    assertEquals(bytes.length, b.position(), "decoding reads exactly what encoding wrote");
    assertArrayEquals(bytes, TreeCodec.encodeEntry(back));
    assertEquals(e.name(), back.name());
    Inode i = e.inode();
    Inode j = back.inode();
    assertEquals(List.of(i.number(), i.mode(), i.uid(), i.gid(), i.nlink(), i.size(), i.atimeNanos(), i.mtimeNanos(),
        i.ctimeNanos(), i.rdev()), List.of(j.number(), j.mode(), j.uid(), j.gid(), j.nlink(), j.size(), j.atimeNanos(),
        j.mtimeNanos(), j.ctimeNanos(), j.rdev()));
    return back;
  }

  @Test
  void directoryEntryLayout() throws Exception {
    Inode i = inode(Mode.S_IFDIR | 0755);
    TreeEntry e = new TreeEntry(Name.of("ab"), i, List.of(), TREE, null, null, null);
    byte[] bytes = TreeCodec.encodeEntry(e);
    assertEquals(1 + 2 + 64 + 2 + 32, bytes.length);
    assertAttributes(bytes, "ab", i);
    ByteBuffer b = ByteBuffer.wrap(bytes).position(1 + 2 + 64);
    assertEquals(0, b.getShort(), "xattr count");
    assertEquals(TREE, ChunkId.read(b));
    assertEquals(TREE, roundTrip(e).tree());
  }

  @Test
  void xattrsSymlinksDevicesAndFilesLayout() throws Exception {
    List<Xattr> xattrs = List.of(new Xattr("user.a".getBytes(StandardCharsets.UTF_8), new byte[] {9, 8, 7}),
        new Xattr("user.b".getBytes(StandardCharsets.UTF_8), new byte[0]));
    byte[] target = "../t".getBytes(StandardCharsets.UTF_8);
    TreeEntry link = new TreeEntry(Name.of("l"), inode(Mode.S_IFLNK | 0777), xattrs, null, target, null, null);
    byte[] bytes = TreeCodec.encodeEntry(link);
    assertEquals(1 + 1 + 64 + 2 + (1 + 6 + 4 + 3) + (1 + 6 + 4) + 2 + 4, bytes.length);
    ByteBuffer b = ByteBuffer.wrap(bytes).position(1 + 1 + 64);
    assertEquals(2, b.getShort());
    assertEquals(6, b.get());
    b.position(b.position() + 6);
    assertEquals(3, b.getInt());
    b.position(b.position() + 3 + 1 + 6);
    assertEquals(0, b.getInt());
    assertEquals(4, b.getShort());
    TreeEntry back = roundTrip(link);
    assertArrayEquals(target, back.target());
    assertEquals(2, back.xattrs().size());
    assertArrayEquals(new byte[] {9, 8, 7}, back.xattrs().get(0).value());

    TreeEntry dev = new TreeEntry(Name.of("d"), inode(Mode.S_IFCHR | 0600), List.of(), null, null, null, null);
    assertEquals(1 + 1 + 64 + 2, TreeCodec.encodeEntry(dev).length, "other types have no body");
    assertEquals(0x6666666666666666L, roundTrip(dev).inode().rdev());

    List<Extent> extents = List.of(new Extent(0, DATA, 5, 100), new Extent(1000, DATA, 0, 7));
    TreeEntry inline = new TreeEntry(Name.of("f"), inode(Mode.S_IFREG | 0644), List.of(), null, null, extents, null);
    bytes = TreeCodec.encodeEntry(inline);
    assertEquals(1 + 1 + 64 + 2 + 1 + 4 + 2 * 48, bytes.length);
    b = ByteBuffer.wrap(bytes).position(1 + 1 + 64 + 2);
    assertEquals(0, b.get(), "inline");
    assertEquals(2, b.getInt());
    assertEquals(0, b.getLong());
    assertEquals(DATA, ChunkId.read(b));
    assertEquals(5, b.getInt());
    assertEquals(100, b.getInt());
    assertEquals(1000, b.getLong());
    assertEquals(extents, roundTrip(inline).inlineExtents());

    TreeEntry outOfLine = new TreeEntry(Name.of("g"), inode(Mode.S_IFREG | 0644), List.of(), null, null, null, TREE);
    bytes = TreeCodec.encodeEntry(outOfLine);
    assertEquals(1 + 1 + 64 + 2 + 1 + 32, bytes.length);
    assertEquals(1, bytes[1 + 1 + 64 + 2], "out of line");
    assertEquals(TREE, roundTrip(outOfLine).extentNode());
  }

  @Test
  void anEntryWithMoreXattrsThanItsCountHoldsIsRefusedNotWrapped() throws Exception {
    List<Xattr> many = new ArrayList<>();
    for (int k = 0; k < 65_536; k++) {
      many.add(new Xattr(("user." + k).getBytes(StandardCharsets.US_ASCII), new byte[0]));
    }
    TreeEntry e = new TreeEntry(Name.of("f"), inode(Mode.S_IFCHR | 0600), many, null, null, null, null);
    byte[] bytes;
    try {
      bytes = TreeCodec.encodeEntry(e);
    } catch (IllegalArgumentException refused) {
      return;
    }
    assertEquals(65_536, TreeCodec.decodeEntry(ByteBuffer.wrap(bytes)).xattrs().size(), "the u16 count wrapped");
  }

  @Test
  void theRootEntryHasNoName() throws Exception {
    TreeEntry root = new TreeEntry(null, inode(Mode.S_IFDIR | 0700), List.of(), TREE, null, null, null);
    byte[] bytes = TreeCodec.encodeEntry(root);
    assertEquals(0, bytes[0]);
    assertEquals(1 + 64 + 2 + 32, bytes.length);
    assertNull(roundTrip(root).name());
  }

  @Test
  void snapshotRecordLayout() throws Exception {
    TreeEntry root = new TreeEntry(null, inode(Mode.S_IFDIR | 0700), List.of(), TREE, null, null, null);
    SnapshotRecord r = new SnapshotRecord(0x1234, Name.of("daily"), -77, 1000, 20, 3, root);
    byte[] bytes = SnapshotRecords.encode(r, Encryption.NONE);
    assertEquals(56 + 1 + 5 + (1 + 64 + 2 + 32) + 4, bytes.length);
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte[] magic = new byte[8];
    b.get(magic);
    assertArrayEquals("DDFSSNAP".getBytes(StandardCharsets.US_ASCII), magic);
    assertEquals(1, b.getShort());
    assertEquals(0, b.getShort());
    assertEquals(0, b.getInt());
    assertEquals(0x1234, b.getLong());
    assertEquals(-77, b.getLong());
    assertEquals(1000, b.getLong());
    assertEquals(20, b.getLong());
    assertEquals(3, b.getLong());
    assertEquals(5, b.get());
    SnapshotRecord back = SnapshotRecords.decode(Path.of("x"), r.number(), bytes, Encryption.NONE);
    assertEquals(r.number(), back.number());
    assertEquals(r.name(), back.name());
    assertEquals(r.createdNanos(), back.createdNanos());
    assertEquals(List.of(r.bytes(), r.files(), r.directories()), List.of(back.bytes(), back.files(), back.directories()));
    assertEquals(TREE, back.root().tree(), "the root's tree id survives the record");
    assertNull(back.root().name());
  }

  @Test
  void treeNodesSurviveTheirOwnEncodingAndRejectGarbage() throws Exception {
    // An ENTRIES node of several kinds, parsed back item by item.
    List<byte[]> items = new ArrayList<>();
    items.add(TreeCodec.encodeEntry(new TreeEntry(Name.of("a"), inode(Mode.S_IFDIR | 0755), List.of(), TREE, null,
        null, null)));
    items.add(TreeCodec.encodeEntry(new TreeEntry(Name.of("b"), inode(Mode.S_IFLNK | 0777),
        List.of(new Xattr(new byte[] {'x'}, new byte[] {1})), null, new byte[] {'t'}, null, null)));
    items.add(TreeCodec.encodeEntry(new TreeEntry(Name.of("c"), inode(Mode.S_IFREG | 0644), List.of(), null, null,
        List.of(new Extent(3, DATA, 0, 9)), null)));
    int length = TreeNode.HEADER_LENGTH + items.stream().mapToInt(x -> x.length).sum();
    ByteBuffer node = ByteBuffer.allocate(length).put((byte) TreeNode.ENTRIES).putInt(items.size());
    items.forEach(node::put);
    byte[] plain = node.array();
    TreeNode parsed = TreeNode.parse(TREE, plain);
    assertEquals(3, parsed.count());
    assertEquals(Name.of("b"), parsed.entry(1).name());
    assertEquals(2, parsed.search(Name.of("c").bytes(), IndexSealing.NONE));
    assertEquals(-3, parsed.search(Name.of("bb").bytes(), IndexSealing.NONE));
    assertEquals(-1, parsed.search(Name.of("0").bytes(), IndexSealing.NONE));
    assertEquals(-4, parsed.search(Name.of("z").bytes(), IndexSealing.NONE));

    // Truncations and flipped bytes are reported as corruption, never as another exception.
    Random random = new Random(7);
    for (int cut = 0; cut < plain.length; cut++) {
      byte[] shorter = java.util.Arrays.copyOf(plain, cut);
      assertThrows(CorruptDataException.class, () -> TreeNode.parse(TREE, shorter), "cut at " + cut);
    }
    for (int k = 0; k < 3000; k++) {
      byte[] bad = plain.clone();
      bad[random.nextInt(bad.length)] ^= (byte) (1 + random.nextInt(255));
      try {
        TreeNode n = TreeNode.parse(TREE, bad);
        for (int e = 0; e < n.count(); e++) {
          n.entry(e);
        }
      } catch (CorruptDataException expected) {
        // fine
      } catch (RuntimeException e) {
        fail("a damaged node must fail as CorruptDataException, got " + e, e);
      }
    }
    CorruptDataException trailing = assertThrows(CorruptDataException.class,
        () -> TreeNode.parse(TREE, java.util.Arrays.copyOf(plain, plain.length + 1)));
    assertInstanceOf(CorruptDataException.class, trailing);
  }
}
