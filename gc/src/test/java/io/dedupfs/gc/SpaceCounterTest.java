package io.dedupfs.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.snapshot.SnapshotReader;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code dedupfs stats} counts, on a real repository, checked against what the collector frees. */
class SpaceCounterTest {
  private static final int FILE = 1 << 20;
  /**
   * Most stored bytes the tree nodes of a snapshot of three files of {@link #FILE} bytes take: a
   * root node, and an extent node for a file cut into more than 16 chunks (the chunker's gear table
   * is the repository's own, so the cuts differ from run to run).
   */
  private static final int TREE_NODES = 4096;

  @TempDir Path tmp;
  private TestRepository test;

  @BeforeEach
  void open() throws Exception {
    test = new TestRepository(tmp);
  }

  @AfterEach
  void close() throws Exception {
    test.close();
  }

  private GcSettings settings() {
    return GcSettings.defaults(tmp).withMemory(1 << 20);
  }

  private SpaceReport count() throws Exception {
    return new SpaceCounter(test.repo.index(), test.ns, test.snapshots, new SnapshotReader(test.chunks, 1 << 20),
        settings()).count((counted, report) -> report);
  }

  private GcReport collect() throws Exception {
    return new Collector(test.repo, test.ns, test.pipeline, test.snapshots, new SnapshotReader(test.chunks, 1 << 20),
        () -> {}, settings()).run();
  }

  private long write(String name, long seed) throws Exception {
    return test.write(name, TestRepository.random(seed, FILE));
  }

  private long storedBytesOf(long inode) throws Exception {
    return test.storedBytes(test.chunksOf(inode));
  }

  private long number(String snapshot) throws Exception {
    return test.snapshots.get(Name.of(snapshot)).number();
  }

  @Test
  void aFileWrittenTwiceIsStoredOnce() throws Exception {
    long first = write("first", 1);
    write("second", 1);

    SpaceReport r = count();

    assertEquals(2L * FILE, r.liveBytes(), "both files count in the live tree");
    assertEquals(FILE, r.plainBytes(), "their chunks are stored once");
    assertEquals(storedBytesOf(first), r.storedBytes());
    assertEquals(0, r.unreferencedChunks());
  }

  @Test
  void hardLinksCountOncePerNameInTheLiveTree() throws Exception {
    long inode = write("file", 1);
    test.ns.link(inode, Namespace.ROOT, Name.of("link"));

    assertEquals(2L * FILE, count().liveBytes(), "as a snapshot record counts bytes");
  }

  @Test
  void anOpenFileWhoseLastNameWentHasNoLiveBytesButItsChunksAreNoGarbage() throws Exception {
    long open = write("open", 1);
    long stored = storedBytesOf(open);
    test.ns.holdOpenInodes(n -> n == open);
    test.ns.unlink(Namespace.ROOT, Name.of("open"));

    SpaceReport orphaned = count();
    assertEquals(0, orphaned.liveBytes(), "it has no name, so a snapshot taken now would not hold it");
    assertEquals(0, orphaned.unreferencedBytes(), "a collection now would not free its chunks");
    test.ns.releaseOrphan(open);
    assertEquals(stored, count().unreferencedBytes(), "released, they are garbage");
  }

  /**
   * Two snapshots share most of their data: what each holds alone is exactly what deleting it and
   * collecting frees, tree nodes included (the live tree changed after both, so the tree cache
   * keeps none of their root nodes).
   */
  @Test
  void aSnapshotsUniqueBytesAreWhatDeletingItFrees() throws Exception {
    long commonBytes = storedBytesOf(write("common", 1));
    long bothBytes = storedBytesOf(write("both", 2));
    long onlyFirstBytes = storedBytesOf(write("only-first", 3));
    test.snapshots.create(Name.of("s1"));
    test.ns.unlink(Namespace.ROOT, Name.of("only-first"));
    long onlySecondBytes = storedBytesOf(write("only-second", 4));
    test.snapshots.create(Name.of("s2"));
    test.ns.unlink(Namespace.ROOT, Name.of("only-second"));
    test.ns.unlink(Namespace.ROOT, Name.of("both"));

    SpaceReport before = count();
    SpaceReport.SnapshotSpace s1 = before.snapshots().get(number("s1"));
    SpaceReport.SnapshotSpace s2 = before.snapshots().get(number("s2"));
    assertEquals(0, before.unreferencedBytes(), "nothing is garbage yet");
    assertEquals(FILE, before.liveBytes());
    // Extents are 48 bytes each, inline or in an extent node, and chunk ids do not compress.
    assertBetween(onlyFirstBytes, onlyFirstBytes + TREE_NODES, s1.uniqueBytes(), "s1 alone holds only-first and its tree nodes");
    assertBetween(onlySecondBytes, onlySecondBytes + TREE_NODES, s2.uniqueBytes(), "s2 alone holds only-second and its tree nodes");
    assertBetween(commonBytes + bothBytes, commonBytes + bothBytes + TREE_NODES, s1.sharedBytes(),
        "common (with the live tree) and both (with s2), with their extent nodes if any");
    assertBetween(commonBytes + bothBytes, commonBytes + bothBytes + TREE_NODES, s2.sharedBytes(), "the same for s2");

    test.snapshots.delete(Name.of("s1"));
    assertEquals(s1.uniqueBytes(), collect().bytesFreed(), "deleting s1 frees what s1 alone held");

    SpaceReport.SnapshotSpace s2Alone = count().snapshots().get(number("s2"));
    assertBetween(s2.uniqueBytes() + bothBytes, s2.uniqueBytes() + bothBytes + TREE_NODES, s2Alone.uniqueBytes(),
        "both is now held by s2 alone, with the extent nodes s1 shared");
    test.snapshots.delete(Name.of("s2"));
    assertEquals(s2Alone.uniqueBytes(), collect().bytesFreed(), "deleting s2 frees what s2 alone held");
    SpaceReport end = count();
    assertEquals(0, end.unreferencedBytes());
    assertEquals(commonBytes, end.storedBytes(), "only the live tree's file is left");
  }

  /** More (chunk id, owner) keys than the sort's 1 MiB holds: the count spills runs and merges them. */
  @Test
  void aCountLargerThanItsMemoryIsStillExact() throws Exception {
    int perOwner = 8;
    for (int i = 0; i < perOwner; i++) {
      write("f" + i, 100 + i);
    }
    long references = test.chunksOf(test.ns.lookup(Namespace.ROOT, Name.of("f0")).orElseThrow().number()).size();
    int snapshots = (int) ((1 << 20) / OwnerRuns.KEY_LENGTH / (references * perOwner)) + 20;
    for (int n = 0; n < snapshots; n++) {
      test.snapshots.create(Name.of("s" + n));
    }

    SpaceReport r = count();

    assertEquals((long) perOwner * FILE, r.plainBytes() - treeNodesPlainBytes(), "every file once");
    for (SpaceReport.SnapshotSpace held : r.snapshots().values()) {
      assertEquals(0, held.uniqueBytes(), "every snapshot is the live tree, whose tree the cache holds");
      assertEquals(r.storedBytes(), held.sharedBytes());
    }
  }

  private long treeNodesPlainBytes() throws Exception {
    long sum = 0;
    for (var page = test.repo.index().chunks(null, 1000); !page.isEmpty();
        page = test.repo.index().chunks(page.get(page.size() - 1).id(), 1000)) {
      for (var e : page) {
        sum += e.location().kind() == io.dedupfs.store.chunk.ChunkKind.TREE ? e.location().plainLength() : 0;
      }
    }
    return sum;
  }

  private static void assertBetween(long low, long high, long actual, String what) {
    assertTrue(actual >= low && actual <= high, what + ": " + actual + " not in [" + low + ", " + high + "]");
  }
}
