package io.dedupfs.store.snapshot;

import static io.dedupfs.store.snapshot.SnapshotKit.FILE;
import static io.dedupfs.store.snapshot.SnapshotKit.bytes;
import static io.dedupfs.store.snapshot.SnapshotKit.name;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.ingest.IngestStats;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.XattrMode;
import io.dedupfs.store.repo.ChunkerParameters;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Directories and files too large for one tree node, and a tree deeper than a thread's stack. */
class LargeSnapshotTest {
  @TempDir Path tmp;
  private SnapshotKit kit;
  private Namespace ns;

  @BeforeEach
  void open() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), ChunkerParameters.DEFAULT);
    ns = kit.ns;
  }

  @AfterEach
  void close() throws Exception {
    kit.close();
  }

  /** A 200-byte name: a prefix that sorts in number order, padded with a letter that varies. */
  private static Name longName(int k) {
    byte[] n = new byte[200];
    Arrays.fill(n, (byte) ('a' + k % 26));
    byte[] prefix = String.format("%05d-", k * 2).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(prefix, 0, n, 0, prefix.length);
    return Name.of(n);
  }

  /** Every name looks up; listing from any point in pages of any size matches the live listing. */
  private void assertDirectoryBrowsesLikeLive(TreeEntry dir, long liveDir, List<Name> absent, int starts, int[] limits,
      int[] pages) throws Exception {
    List<DirEntry> live = kit.liveList(liveDir);
    for (DirEntry e : live) {
      TreeEntry found = kit.reader.lookup(dir, e.name()).orElseThrow(() -> new AssertionError("lookup " + e.name()));
      assertEquals(e.inode(), found.inode().number());
      assertEquals(e.name(), found.name());
    }
    for (Name n : absent) {
      assertTrue(kit.reader.lookup(dir, n).isEmpty(), "absent " + n);
    }
    List<Name> afters = new ArrayList<>();
    afters.add(null);
    afters.addAll(absent);
    Random random = new Random(5);
    for (int k = 0; k < starts; k++) {
      afters.add(live.get(random.nextInt(live.size())).name());
    }
    afters.add(live.get(0).name());
    afters.add(live.get(live.size() - 1).name());
    for (Name after : afters) {
      for (int limit : limits) {
        List<Long> expected = ns.list(liveDir, after, limit).stream().map(DirEntry::inode).toList();
        List<Long> got = kit.reader.list(dir, after, limit).stream().map(e -> e.inode().number()).toList();
        assertEquals(expected, got, "list after " + after + " limit " + limit);
      }
    }
    // The whole listing in pages of several sizes.
    for (int page : pages) {
      List<Long> all = new ArrayList<>();
      Name after = null;
      for (List<TreeEntry> p; !(p = kit.reader.list(dir, after, page)).isEmpty(); after = p.get(p.size() - 1).name()) {
        p.forEach(e -> all.add(e.inode().number()));
      }
      assertEquals(live.stream().map(DirEntry::inode).toList(), all, "pages of " + page);
    }
  }

  private static List<Name> absentNames() {
    List<Name> out = new ArrayList<>();
    out.add(Name.of("!"));                           // before every name
    out.add(Name.of("~~~"));                         // after every name
    out.add(Name.of("00000"));                       // a prefix of the first name
    for (int k : new int[] {1, 577, 2001, 4999, 9999}) {
      out.add(Name.of(String.format("%05d-", k)));   // between two names (odd numbers are not used)
    }
    return out;
  }

  @Test
  void aDirectoryOfManyNodesBrowsesLikeTheLiveOne() throws Exception {
    long dir = kit.mkdir(Namespace.ROOT, "big");
    for (int k = 0; k < 5000; k++) {
      ns.mknod(dir, longName(k), FILE, 0, 0, 0);
    }
    IngestStats before = kit.pipeline.stats();
    SnapshotRecord s = kit.snapshot("s");
    long nodes = kit.pipeline.stats().newChunks() - before.newChunks();
    assertTrue(nodes >= 5000 * 280 / (64 << 10) + 2, "several leaves, an index node and the root: " + nodes);
    TreeEntry big = kit.reader.lookup(s.root(), name("big")).orElseThrow();
    TreeNode top = TreeNode.parse(big.tree(), kit.chunks.readBytes(big.tree()));
    assertEquals(TreeNode.ENTRY_INDEX, top.type());
    assertDirectoryBrowsesLikeLive(big, dir, absentNames(), 40, new int[] {0, 1, 2, 7, 100, 250, 1000, 5005},
        new int[] {1, 13, 256, 4999});
    assertEquals(5000, s.files());

    // Changing one entry rewrites one leaf and the index above it, not the directory.
    ns.setXattr(ns.lookup(dir, longName(2500)).orElseThrow().number(), "user.x".getBytes(StandardCharsets.UTF_8),
        new byte[] {1}, XattrMode.EITHER);
    before = kit.pipeline.stats();
    SnapshotRecord s2 = kit.snapshot("s2");
    assertEquals(3, kit.pipeline.stats().newChunks() - before.newChunks(), "one leaf, the index node, the root");
    TreeEntry big2 = kit.reader.lookup(s2.root(), name("big")).orElseThrow();
    assertEquals(1, kit.reader.lookup(big2, longName(2500)).orElseThrow().xattrs().size());
    assertEquals(0, kit.reader.lookup(big, longName(2500)).orElseThrow().xattrs().size());
    assertDirectoryBrowsesLikeLive(big2, dir, absentNames(), 10, new int[] {1, 300}, new int[] {1000});
  }

  /**
   * The cost of a change is the nodes on its path (FORMAT.md §10.4) also inside a large directory
   * or extent list: one name added before all others, or one extent split in the middle of a long
   * file, must not shift the boundaries of every later node and so rewrite all of them.
   */
  @Test
  void anInsertionIntoALargeDirectoryOrExtentListRewritesFewNodes() throws Exception {
    long dir = kit.mkdir(Namespace.ROOT, "big");
    for (int k = 0; k < 5000; k++) {
      ns.mknod(dir, longName(k), FILE, 0, 0, 0);
    }
    ChunkId chunk = kit.storeChunk(bytes(64 << 10, 1));
    kit.flushChunks();
    long f = kit.mkfile(Namespace.ROOT, "many");
    List<Extent> extents = new ArrayList<>();
    for (int k = 0; k < 8000; k++) {
      extents.add(new Extent(k * 100L, chunk, k % 1000, 100));
    }
    ns.replaceRange(f, 0, 800_000, extents, ns.now());
    SnapshotRecord s1 = kit.snapshot("s1");
    TreeEntry big = kit.reader.lookup(s1.root(), name("big")).orElseThrow();
    int leaves = TreeNode.parse(big.tree(), kit.chunks.readBytes(big.tree())).count();
    assertTrue(leaves >= 15, "the directory spans many nodes: " + leaves);

    ns.mknod(dir, Name.of("!" + "f".repeat(199)), FILE, 0, 0, 0);   // as large as the others, sorting first
    IngestStats before = kit.pipeline.stats();
    SnapshotRecord s2 = kit.snapshot("s2");
    long written = kit.pipeline.stats().newChunks() - before.newChunks();
    assertTrue(written <= 5, "a name added first to a " + leaves + "-node directory wrote " + written + " nodes");
    assertDirectoryBrowsesLikeLive(kit.reader.lookup(s2.root(), name("big")).orElseThrow(), dir, absentNames(), 10,
        new int[] {1, 400}, new int[] {5001});

    // Overwriting 10 bytes inside the 100th extent splits it in three.
    ns.replaceRange(f, 10_050, 10, List.of(new Extent(10_050, chunk, 7, 10)), ns.now());
    before = kit.pipeline.stats();
    SnapshotRecord s3 = kit.snapshot("s3");
    written = kit.pipeline.stats().newChunks() - before.newChunks();
    assertTrue(written <= 5, "an extent split near the start of an 8000-extent file wrote " + written + " nodes");
    TreeEntry many = kit.reader.lookup(s3.root(), name("many")).orElseThrow();
    assertEquals(ns.extents(f, 0, 800_000), kit.reader.extents(many, 0, 800_000));
  }

  @Test
  void aDirectoryWithTwoLevelsOfIndexNodes() throws Exception {
    // Each entry carries a 40 KB xattr, so every leaf holds one entry; 600 leaves need more index
    // items (289 bytes each with 255-byte names) than one 64 KiB index node holds.
    long dir = kit.mkdir(Namespace.ROOT, "fat");
    byte[] value = new byte[40_000];
    Arrays.fill(value, (byte) 'v');
    for (int k = 0; k < 600; k++) {
      byte[] n = new byte[255];
      Arrays.fill(n, (byte) 'n');
      System.arraycopy(String.format("%04d", k * 2).getBytes(StandardCharsets.US_ASCII), 0, n, 0, 4);
      long f = ns.mknod(dir, Name.of(n), FILE, 0, 0, 0).number();
      ns.setXattr(f, "user.fat".getBytes(StandardCharsets.UTF_8), value, XattrMode.EITHER);
    }
    SnapshotRecord s = kit.snapshot("s");
    TreeEntry fat = kit.reader.lookup(s.root(), name("fat")).orElseThrow();
    TreeNode top = TreeNode.parse(fat.tree(), kit.chunks.readBytes(fat.tree()));
    assertEquals(TreeNode.ENTRY_INDEX, top.type());
    TreeNode middle = TreeNode.parse(top.child(0), kit.chunks.readBytes(top.child(0)));
    assertEquals(TreeNode.ENTRY_INDEX, middle.type(), "two levels of index");
    List<Name> absent = new ArrayList<>(List.of(Name.of("!"), Name.of("~")));
    for (int k : new int[] {1, 301, 1199}) {
      absent.add(Name.of(String.format("%04d", k)));
    }
    assertDirectoryBrowsesLikeLive(fat, dir, absent, 10, new int[] {0, 1, 3, 250, 700}, new int[] {1, 230, 700});
    TreeEntry one = kit.reader.list(fat, Name.of("0600"), 1).get(0);
    assertArrayEquals(value, one.xattrs().get(0).value());
  }

  @Test
  void aFileOfThousandsOfExtentsReadsLikeTheLiveOne() throws Exception {
    ChunkId[] chunks = new ChunkId[4];
    for (int k = 0; k < chunks.length; k++) {
      chunks[k] = kit.storeChunk(bytes(64 << 10, k));
    }
    kit.flushChunks();
    long f = kit.mkfile(Namespace.ROOT, "many");
    Random random = new Random(11);
    List<Extent> extents = new ArrayList<>();
    long at = 0;
    for (int k = 0; k < 6000; k++) {
      at += random.nextInt(3) == 0 ? random.nextInt(200) : 0;   // holes now and then
      int length = 1 + random.nextInt(300);
      extents.add(new Extent(at, chunks[random.nextInt(4)], random.nextInt((64 << 10) - 300), length));
      at += length;
    }
    long size = at + 1000;   // a hole at the end too
    ns.replaceRange(f, 0, size, extents, ns.now());
    assertEquals(6000, ns.extents(f, 0, size).size());

    SnapshotRecord s = kit.snapshot("s");
    TreeEntry many = kit.reader.lookup(s.root(), name("many")).orElseThrow();
    assertNotNull(many.extentNode());
    TreeNode top = TreeNode.parse(many.extentNode(), kit.chunks.readBytes(many.extentNode()));
    assertEquals(TreeNode.EXTENT_INDEX, top.type());
    assertTrue(top.count() >= 4, "6000 extents of 48 bytes fill several 64 KiB nodes");

    List<long[]> ranges = new ArrayList<>();
    ranges.add(new long[] {0, size});
    ranges.add(new long[] {0, 0});
    ranges.add(new long[] {size, 10});
    ranges.add(new long[] {size - 1000, 1000});
    ranges.add(new long[] {size + 100, 100});
    for (int c = 1; c < top.count(); c++) {
      long boundary = top.firstOffset(c);
      ranges.add(new long[] {boundary, 1});
      ranges.add(new long[] {boundary - 1, 2});
      ranges.add(new long[] {boundary - 500, 1000});
    }
    for (Extent e : extents.subList(0, 50)) {
      ranges.add(new long[] {e.fileOffset(), e.length()});
      ranges.add(new long[] {e.end(), 1});
    }
    for (int k = 0; k < 2000; k++) {
      long off = (long) (random.nextDouble() * size);
      ranges.add(new long[] {off, random.nextInt(k % 10 == 0 ? 200_000 : 3000)});
    }
    for (long[] r : ranges) {
      assertEquals(ns.extents(f, r[0], r[1]), kit.reader.extents(many, r[0], r[1]), "extents at " + r[0] + "+" + r[1]);
    }
    // And the bytes, read in pieces that start anywhere.
    byte[] live = kit.liveBytes(f);
    assertArrayEquals(live, kit.snapshotBytes(many, 4093));
    for (int k = 0; k < 200; k++) {
      int off = random.nextInt((int) size);
      int len = Math.min(1 + random.nextInt(5000), (int) size - off);
      ByteBuffer dst = ByteBuffer.allocate(len);
      kit.files.read(new Namespace.FileRange(size, kit.reader.extents(many, off, len)), off, dst);
      assertArrayEquals(Arrays.copyOfRange(live, off, off + len), dst.array(), "bytes at " + off);
    }
  }

  @Test
  void aTreeDeeperThanAThreadStackSnapshotsAndBrowses() throws Exception {
    int depth = 3000;
    long d = Namespace.ROOT;
    List<Name> path = new ArrayList<>();
    for (int k = 0; k < depth; k++) {
      d = kit.mkdir(d, "d" + k);
      path.add(name("d" + k));
    }
    long leaf = kit.writeFile(d, "leaf", 100, 1);
    // A small stack: code that recursed once per level would overflow it.
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<SnapshotRecord> taken = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        taken.set(kit.snapshot("deep"));
        kit.write(leaf, 0, bytes(50, 2));
        taken.set(kit.snapshot("deep2"));
      } catch (Throwable e) {
        failure.set(e);
      }
    }, "small-stack", 256 << 10);
    t.start();
    t.join();
    if (failure.get() != null) {
      throw new AssertionError("snapshot of a " + depth + "-deep tree failed", failure.get());
    }
    SnapshotRecord s1 = kit.snapshots.get(name("deep"));
    SnapshotRecord s2 = taken.get();
    assertEquals(depth, s1.directories());
    List<Name> leafPath = new ArrayList<>(path);
    leafPath.add(name("leaf"));
    assertArrayEquals(bytes(100, 1), kit.snapshotBytes(kit.reader.resolve(s1.root(), leafPath), 1000));
    byte[] expected = bytes(100, 1);
    System.arraycopy(bytes(50, 2), 0, expected, 0, 50);
    assertArrayEquals(expected, kit.snapshotBytes(kit.reader.resolve(s2.root(), leafPath), 1000));
    assertEquals(depth + 1, kit.cachedTrees().size());
    // Every level, as lookups from the top see it, against the live tree.
    TreeEntry at = s2.root();
    long liveAt = Namespace.ROOT;
    for (Name n : leafPath) {
      at = kit.reader.lookup(at, n).orElseThrow();
      liveAt = ns.lookup(liveAt, n).orElseThrow().number();
      io.dedupfs.store.namespace.Inode live = ns.getattr(liveAt);
      assertEquals(List.of(live.number(), live.mode(), live.nlink(), live.mtimeNanos(), live.ctimeNanos(), live.size()),
          List.of(at.inode().number(), at.inode().mode(), at.inode().nlink(), at.inode().mtimeNanos(),
              at.inode().ctimeNanos(), at.inode().size()), "at " + n);
    }
  }
}
