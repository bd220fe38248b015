package io.dedupfs.store.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader over trees whose nodes are much smaller than a writer makes them, so that several
 * levels of index nodes are cheap to build: readers accept any node sizes (FORMAT.md §10.1).
 * Each answer is checked against a brute-force one.
 */
class SnapshotReaderNodesTest {
  @TempDir Path tmp;
  private SnapshotKit kit;
  private final List<byte[]> pending = new ArrayList<>();

  @BeforeEach
  void open() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), SnapshotKit.SMALL_CHUNKS);
  }

  @AfterEach
  void close() throws Exception {
    kit.close();
  }

  private ChunkId put(byte[] node) throws Exception {
    kit.pipeline.store(ChunkKind.TREE, node);
    return ChunkHasher.sha256().idOf(node);
  }

  private static byte[] node(int type, List<byte[]> items) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(type);
    out.writeBytes(ByteBuffer.allocate(4).putInt(items.size()).array());
    items.forEach(out::writeBytes);
    return out.toByteArray();
  }

  /**
   * Builds nodes of {@code perNode} items, then index levels of {@code fanOut} children, until one
   * node is left; {@code keys[i]} is how an index item names the node starting with item i.
   */
  private ChunkId build(List<byte[]> items, List<byte[]> keys, int leafType, int indexType, int perNode, int fanOut)
      throws Exception {
    List<byte[]> levelKeys = new ArrayList<>();
    List<ChunkId> level = new ArrayList<>();
    for (int k = 0; k < items.size(); k += perNode) {
      level.add(put(node(leafType, items.subList(k, Math.min(items.size(), k + perNode)))));
      levelKeys.add(keys.get(k));
    }
    while (level.size() > 1) {
      List<byte[]> nextKeys = new ArrayList<>();
      List<ChunkId> next = new ArrayList<>();
      for (int k = 0; k < level.size(); k += fanOut) {
        List<byte[]> indexItems = new ArrayList<>();
        for (int c = k; c < Math.min(level.size(), k + fanOut); c++) {
          indexItems.add(SnapshotKit.concat(levelKeys.get(c), level.get(c).toBytes()));
        }
        next.add(put(node(indexType, indexItems)));
        nextKeys.add(levelKeys.get(k));
      }
      level = next;
      levelKeys = nextKeys;
    }
    kit.flushChunks();
    return level.get(0);
  }

  private static Inode inode(long number, int mode) {
    return new Inode(number, mode, 0, 0, 1, 0, 1, 2, 3, 0, 0);
  }

  @Test
  void extentsOverSeveralIndexLevelsMatchBruteForce() throws Exception {
    ChunkId chunk = kit.storeChunk(SnapshotKit.bytes(10_000, 1));
    Random random = new Random(2);
    List<Extent> extents = new ArrayList<>();
    long at = 0;
    for (int k = 0; k < 300; k++) {
      at += random.nextInt(2) == 0 ? 0 : random.nextInt(20);
      int length = 1 + random.nextInt(30);
      extents.add(new Extent(at, chunk, random.nextInt(5000), length));
      at += length;
    }
    long size = at + 7;
    List<byte[]> items = new ArrayList<>();
    List<byte[]> keys = new ArrayList<>();
    for (Extent e : extents) {
      items.add(TreeCodec.encodeExtent(e));
      keys.add(ByteBuffer.allocate(8).putLong(e.fileOffset()).array());
    }
    // Ranges starting at, just inside and just before every extent's ends, and past the end.
    List<long[]> ranges = new ArrayList<>();
    List<List<Extent>> expected = new ArrayList<>();
    List<Long> offsets = new ArrayList<>(List.of(0L, size - 1, size, size + 1));
    for (Extent e : extents) {
      offsets.addAll(List.of(e.fileOffset(), e.fileOffset() + 1, e.end() - 1, e.end()));
    }
    for (long off : offsets) {
      for (long len : new long[] {0, 1, 2, 5, 31, 100, size}) {
        ranges.add(new long[] {off, len});
        expected.add(bruteForce(extents, off, len));
      }
    }
    for (int[] shape : new int[][] {{3, 2}, {1, 2}, {7, 3}, {300, 2}, {50, 50}}) {
      ChunkId top = build(items, keys, TreeNode.EXTENTS, TreeNode.EXTENT_INDEX, shape[0], shape[1]);
      Inode file = new Inode(9, Mode.S_IFREG | 0644, 0, 0, 1, size, 0, 0, 0, 0, 0);
      TreeEntry entry = new TreeEntry(Name.of("f"), file, List.of(), null, null, null, top);
      TreeEntry inline = new TreeEntry(Name.of("f"), file, List.of(), null, null, extents, null);
      for (int k = 0; k < ranges.size(); k++) {
        long off = ranges.get(k)[0];
        long len = ranges.get(k)[1];
        assertEquals(expected.get(k), kit.reader.extents(entry, off, len), "shape " + shape[0] + "/" + shape[1]
            + " at " + off + "+" + len);
        if (shape[0] == 1) {
          assertEquals(expected.get(k), kit.reader.extents(inline, off, len), "inline at " + off + "+" + len);
        }
      }
    }
  }

  private static List<Extent> bruteForce(List<Extent> extents, long off, long len) {
    List<Extent> out = new ArrayList<>();
    for (Extent e : extents) {
      if (len > 0 && e.end() > off && e.fileOffset() < off + len) {
        out.add(e.clip(off, off + len));
      }
    }
    return out;
  }

  @Test
  void entriesOverSeveralIndexLevelsMatchBruteForce() throws Exception {
    Random random = new Random(3);
    TreeMap<Name, Long> names = new TreeMap<>();
    while (names.size() < 150) {
      byte[] n = new byte[1 + random.nextInt(6)];
      for (int k = 0; k < n.length; k++) {
        n[k] = (byte) (random.nextBoolean() ? 'a' + random.nextInt(3) : 0x80 + random.nextInt(3));
      }
      names.put(Name.of(n), (long) names.size() + 10);
    }
    List<byte[]> items = new ArrayList<>();
    List<byte[]> keys = new ArrayList<>();
    for (var e : names.entrySet()) {
      items.add(TreeCodec.encodeEntry(new TreeEntry(e.getKey(), inode(e.getValue(), Mode.S_IFIFO | 0600), List.of(),
          null, null, null, null)));
      byte[] n = e.getKey().bytes();
      keys.add(SnapshotKit.concat(new byte[] {(byte) n.length}, n));
    }
    List<Name> probes = new ArrayList<>(names.keySet());
    for (int k = 0; k < 100; k++) {
      byte[] n = new byte[1 + random.nextInt(7)];
      for (int j = 0; j < n.length; j++) {
        n[j] = (byte) (random.nextBoolean() ? 'a' + random.nextInt(4) : 0x7f + random.nextInt(4));
      }
      probes.add(Name.of(n));
    }
    for (int[] shape : new int[][] {{2, 2}, {1, 3}, {5, 2}, {150, 2}, {4, 40}}) {
      ChunkId top = build(items, keys, TreeNode.ENTRIES, TreeNode.ENTRY_INDEX, shape[0], shape[1]);
      TreeEntry dir = new TreeEntry(Name.of("d"), inode(5, Mode.S_IFDIR | 0755), List.of(), top, null, null, null);
      String where = "shape " + shape[0] + "/" + shape[1];
      for (Name p : probes) {
        Long expected = names.get(p);
        assertEquals(expected == null ? null : expected,
            kit.reader.lookup(dir, p).map(e -> e.inode().number()).orElse(null), where + " lookup " + p);
      }
      List<Name> afters = new ArrayList<>(probes);
      afters.add(null);
      for (Name after : afters) {
        for (int limit : new int[] {0, 1, 2, 3, 7, 200}) {
          List<Long> expected = new ArrayList<>();
          for (var e : (after == null ? names : names.tailMap(after, false)).entrySet()) {
            if (expected.size() == limit) {
              break;
            }
            expected.add(e.getValue());
          }
          assertEquals(expected, kit.reader.list(dir, after, limit).stream().map(e -> e.inode().number()).toList(),
              where + " list after " + after + " limit " + limit);
        }
      }
    }
  }

  @Test
  void aNodeOfTheWrongTypeIsCorruption() throws Exception {
    ChunkId extentsNode = put(node(TreeNode.EXTENTS, List.of()));
    ChunkId entries = put(node(TreeNode.ENTRIES, List.of()));
    ChunkId garbage = put("not a tree node at all".getBytes(StandardCharsets.UTF_8));
    kit.flushChunks();
    TreeEntry dir = new TreeEntry(Name.of("d"), inode(5, Mode.S_IFDIR | 0755), List.of(), extentsNode, null, null, null);
    assertThrows(CorruptDataException.class, () -> kit.reader.lookup(dir, Name.of("x")));
    assertThrows(CorruptDataException.class, () -> kit.reader.list(dir, null, 10));
    Inode f = new Inode(9, Mode.S_IFREG | 0644, 0, 0, 1, 100, 0, 0, 0, 0, 0);
    TreeEntry file = new TreeEntry(Name.of("f"), f, List.of(), null, null, null, entries);
    assertThrows(CorruptDataException.class, () -> kit.reader.extents(file, 0, 100));
    TreeEntry bad = new TreeEntry(Name.of("d"), inode(5, Mode.S_IFDIR | 0755), List.of(), garbage, null, null, null);
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> kit.reader.list(bad, null, 10));
    assertTrue(e.getMessage().contains(garbage.hex()), "names the node: " + e.getMessage());
  }
}
