package io.dedupfs.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.Snapshots;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code dedupfs stats} counts, on a real repository, checked against what the collector frees. */
class SpaceCounterTest {
  private static final int FILE = 1 << 20;
  /** Most stored bytes a root tree node of three files of {@link #FILE} bytes takes. */
  private static final int ROOT_NODE = 4096;

  @TempDir Path tmp;
  private Repository repo;
  private IngestPipeline pipeline;
  private ChunkReader chunks;
  private Namespace ns;
  private Snapshots snapshots;

  @BeforeEach
  void open() throws Exception {
    repo = Repository.init(tmp.resolve("repo"),
        RepositoryConfig.create(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10), Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    pipeline = new IngestPipeline(repo, new IngestSettings(16 << 20, 2, Duration.ofSeconds(30), 4), Clock.systemUTC());
    chunks = ChunkReader.of(repo);
    ns = Namespace.open(repo.index(), Clock.systemUTC());
    snapshots = Snapshots.open(repo, ns, pipeline, () -> {});
  }

  @AfterEach
  void close() throws Exception {
    pipeline.close();
    chunks.close();
    repo.close();
  }

  private GcSettings settings() {
    return GcSettings.defaults(tmp).withMemory(1 << 20);
  }

  private SpaceReport count() throws Exception {
    SpaceCounter counter = new SpaceCounter(repo.index(), ns, new SnapshotReader(chunks, 1 << 20), settings());
    return snapshots.exclusively(counter::count);
  }

  private GcReport collect() throws Exception {
    return new Collector(repo, ns, pipeline, snapshots, new SnapshotReader(chunks, 1 << 20), () -> {}, settings()).run();
  }

  private static byte[] random(long seed) {
    byte[] b = new byte[FILE];
    new Random(seed).nextBytes(b);
    return b;
  }

  private long write(String name, byte[] content) throws Exception {
    long inode = ns.mknod(Namespace.ROOT, Name.of(name), Mode.S_IFREG | 0644, 0, 0, 0).number();
    FileWriter w = new FileWriter(inode, 0, ns, pipeline);
    w.write(0, ByteBuffer.wrap(content));
    pipeline.flush();
    w.flush();
    return inode;
  }

  private long storedBytesOf(long inode) throws Exception {
    Set<ChunkId> ids = new HashSet<>();
    for (Extent e : ns.extents(inode, 0, Long.MAX_VALUE / 2)) {
      ids.add(e.chunk());
    }
    long sum = 0;
    for (ChunkId id : ids) {
      sum += repo.index().find(id).orElseThrow().storedLength();
    }
    return sum;
  }

  private long number(String snapshot) throws Exception {
    return snapshots.get(Name.of(snapshot)).number();
  }

  @Test
  void aFileWrittenTwiceIsStoredOnce() throws Exception {
    long first = write("first", random(1));
    write("second", random(1));

    SpaceReport r = count();

    assertEquals(2L * FILE, r.liveBytes(), "both files count in the live tree");
    assertEquals(FILE, r.plainBytes(), "their chunks are stored once");
    assertEquals(storedBytesOf(first), r.storedBytes());
    assertEquals(0, r.unreferencedChunks());
  }

  @Test
  void hardLinksCountOncePerNameInTheLiveTree() throws Exception {
    long inode = write("file", random(1));
    ns.link(inode, Namespace.ROOT, Name.of("link"));

    assertEquals(2L * FILE, count().liveBytes(), "as a snapshot record counts bytes");
  }

  /**
   * Two snapshots share most of their data: what each holds alone is exactly what deleting it and
   * collecting frees, tree nodes included (the live tree changed after both, so the tree cache
   * keeps none of their root nodes).
   */
  @Test
  void aSnapshotsUniqueBytesAreWhatDeletingItFrees() throws Exception {
    long commonBytes = storedBytesOf(write("common", random(1)));
    long bothBytes = storedBytesOf(write("both", random(2)));
    long onlyFirstBytes = storedBytesOf(write("only-first", random(3)));
    snapshots.create(Name.of("s1"));
    ns.unlink(Namespace.ROOT, Name.of("only-first"));
    long onlySecondBytes = storedBytesOf(write("only-second", random(4)));
    snapshots.create(Name.of("s2"));
    ns.unlink(Namespace.ROOT, Name.of("only-second"));
    ns.unlink(Namespace.ROOT, Name.of("both"));

    SpaceReport before = count();
    SpaceReport.SnapshotSpace s1 = before.snapshots().get(number("s1"));
    SpaceReport.SnapshotSpace s2 = before.snapshots().get(number("s2"));
    assertEquals(0, before.unreferencedBytes(), "nothing is garbage yet");
    assertEquals(FILE, before.liveBytes());
    // A root node of three entries: their extents are inline, 48 bytes each, and chunk ids do not compress.
    assertBetween(onlyFirstBytes, onlyFirstBytes + ROOT_NODE, s1.uniqueBytes(), "s1 alone holds only-first and its root node");
    assertBetween(onlySecondBytes, onlySecondBytes + ROOT_NODE, s2.uniqueBytes(), "s2 alone holds only-second and its root node");
    assertEquals(commonBytes + bothBytes, s1.sharedBytes(), "common (with the live tree) and both (with s2)");
    assertEquals(commonBytes + bothBytes, s2.sharedBytes());

    snapshots.delete(Name.of("s1"));
    assertEquals(s1.uniqueBytes(), collect().bytesFreed(), "deleting s1 frees what s1 alone held");

    SpaceReport.SnapshotSpace s2Alone = count().snapshots().get(number("s2"));
    assertEquals(s2.uniqueBytes() + bothBytes, s2Alone.uniqueBytes(), "both is now held by s2 alone");
    snapshots.delete(Name.of("s2"));
    assertEquals(s2Alone.uniqueBytes(), collect().bytesFreed(), "deleting s2 frees what s2 alone held");
    SpaceReport end = count();
    assertEquals(0, end.unreferencedBytes());
    assertEquals(commonBytes, end.storedBytes(), "only the live tree's file is left");
  }

  private static void assertBetween(long low, long high, long actual, String what) {
    assertTrue(actual >= low && actual <= high, what + ": " + actual + " not in [" + low + ", " + high + "]");
  }
}
