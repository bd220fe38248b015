package io.dedupfs.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.file.FileReader;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.Snapshots;
import io.dedupfs.store.snapshot.TreeEntry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The collector on a real repository: what it frees, what it keeps, and writes racing with it. */
class CollectorTest {
  private static final int FILE = 3 << 20;

  @TempDir Path tmp;
  private TestRepository test;
  private Repository repo;
  private IngestPipeline pipeline;
  private ChunkReader chunks;
  private Namespace ns;
  private FileReader reader;
  private Snapshots snapshots;
  /** Called where the collector commits what open files buffer: lets a test put a write there. */
  private Snapshots.PendingWrites pending = () -> {};

  @BeforeEach
  void open() throws Exception {
    test = new TestRepository(tmp);
    repo = test.repo;
    pipeline = test.pipeline;
    chunks = test.chunks;
    ns = test.ns;
    reader = new FileReader(ns, chunks, 1 << 20);
    snapshots = test.snapshots;
  }

  @AfterEach
  void close() throws Exception {
    test.close();
  }

  private Collector collector() {
    return new Collector(repo, ns, pipeline, snapshots, new SnapshotReader(chunks, 1 << 20), () -> pending.commitAll(),
        GcSettings.defaults(tmp).withMemory(1 << 20));
  }

  private static byte[] random(long seed) {
    return TestRepository.random(seed, FILE);
  }

  private long write(String name, byte[] content) throws Exception {
    return test.write(name, content);
  }

  private byte[] read(long inode) throws Exception {
    ByteBuffer b = ByteBuffer.allocate((int) ns.getattr(inode).size());
    reader.read(inode, 0, b);
    return b.array();
  }

  private Set<ChunkId> chunksOf(long inode) throws Exception {
    return test.chunksOf(inode);
  }

  private long storedBytes(Set<ChunkId> ids) throws Exception {
    return test.storedBytes(ids);
  }

  private List<ChunkEntry> allChunks() throws Exception {
    List<ChunkEntry> all = new ArrayList<>();
    for (List<ChunkEntry> page = repo.index().chunks(null, 1000); !page.isEmpty();
        page = repo.index().chunks(page.get(page.size() - 1).id(), 1000)) {
      all.addAll(page);
    }
    return all;
  }

  private long packBytesOnDisk() throws Exception {
    try (Stream<Path> files = Files.walk(repo.path().resolve("packs"))) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  @Test
  void deletingASnapshotFreesExactlyItsUniqueData() throws Exception {
    byte[] a = random(1);
    byte[] b = random(2);
    long fileA = write("a", a);
    long fileB = write("b", b);
    Set<ChunkId> onlyA = chunksOf(fileA);
    onlyA.removeAll(chunksOf(fileB));
    long aBytes = storedBytes(onlyA);
    snapshots.create(Name.of("s1"));
    ns.unlink(Namespace.ROOT, Name.of("a"));

    GcReport kept = collector().run();
    assertEquals(0, kept.chunksFreed(), "the snapshot still holds a's chunks");
    TreeEntry inSnapshot = new SnapshotReader(chunks, 1 << 20)
        .resolve(snapshots.get(Name.of("s1")).root(), List.of(Name.of("a")));
    assertEquals(FILE, inSnapshot.inode().size());

    int chunksBefore = allChunks().size();
    // s1's tree nodes: the root changed since (a is gone), so the tree cache holds none of them.
    long treeNodes = allChunks().stream().filter(e -> e.location().kind() == ChunkKind.TREE).count();
    assertTrue(treeNodes >= 1);
    long diskBefore = packBytesOnDisk();
    snapshots.delete(Name.of("s1"));
    GcReport freed = collector().run();

    assertEquals(onlyA.size() + treeNodes, freed.chunksFreed(), "a's chunks and the snapshot's tree nodes");
    assertTrue(freed.bytesFreed() >= aBytes, freed + " frees at least a's " + aBytes + " stored bytes");
    assertTrue(allChunks().size() <= chunksBefore - onlyA.size());
    for (ChunkEntry e : allChunks()) {
      assertTrue(!onlyA.contains(e.id()), "chunk " + e.id() + " of a is gone from the index");
    }
    assertEquals(diskBefore - packBytesOnDisk(), freed.bytesOnDiskFreed(), "the report counts the files deleted");
    assertTrue(repo.index().fossils(null, 1).isEmpty(), "no fossil is left");
    assertEquals(ByteBuffer.wrap(b), ByteBuffer.wrap(read(fileB)), "b reads back the same");
    GcReport again = collector().run();
    assertEquals(0, again.chunksFreed(), "a second run finds nothing more");
  }

  @Test
  void aWriteThatDeduplicatesAgainstAnUnreferencedChunkKeepsItAlive() throws Exception {
    byte[] content = random(3);
    write("gone", content);
    ns.unlink(Namespace.ROOT, Name.of("gone"));
    long copy = ns.mknod(Namespace.ROOT, Name.of("copy"), Mode.S_IFREG | 0644, 0, 0, 0).number();
    FileWriter writer = new FileWriter(copy, 0, ns, pipeline);
    int[] calls = {0};
    pending = () -> {
      if (++calls[0] == 1) {
        // Before the mark: the copy's chunks are looked up, found unreferenced in the index and
        // deduplicated against, but its extents are not committed, so the mark does not see them.
        writer.write(0, ByteBuffer.wrap(content));
        pipeline.flush();
      } else {
        // The barrier, after the unreferenced chunks were set aside: the extents commit now.
        writer.commit();
      }
    };
    GcReport report = collector().run();

    assertEquals(2, calls[0]);
    assertEquals(0, report.chunksFreed(), "every chunk of the deleted file is referenced again by the copy");
    assertEquals(ByteBuffer.wrap(content), ByteBuffer.wrap(read(copy)), "the copy reads back whole");
    for (ChunkId id : chunksOf(copy)) {
      assertTrue(repo.index().find(id).isPresent(), "chunk " + id + " is back in the index");
    }
    assertTrue(repo.index().fossils(null, 1).isEmpty(), "no fossil is left");
  }

  @Test
  void anOpenFileWhoseLastNameWentKeepsItsChunksUntilReleased() throws Exception {
    byte[] content = random(6);
    long file = write("open", content);
    Set<ChunkId> ids = chunksOf(file);
    ns.holdOpenInodes(n -> n == file);
    ns.unlink(Namespace.ROOT, Name.of("open"));

    assertEquals(0, collector().run().chunksFreed(), "the open file still reads its chunks");
    assertEquals(ByteBuffer.wrap(content), ByteBuffer.wrap(read(file)));

    ns.releaseOrphan(file);
    assertEquals(ids.size(), collector().run().chunksFreed(), "released, its chunks are garbage");
    for (ChunkId id : ids) {
      assertTrue(repo.index().find(id).isEmpty(), "chunk " + id + " is gone from the index");
    }
  }

  @Test
  void fossilsLeftByAnInterruptedRunAreReadableAndRestored() throws Exception {
    byte[] content = random(4);
    long file = write("kept", content);
    List<ChunkEntry> entries = allChunks();
    // As if a collection set them aside and died before the second mark.
    repo.index().fossilize(entries);
    assertEquals(ByteBuffer.wrap(content), ByteBuffer.wrap(read(file)), "readers find fossils");

    GcReport report = collector().run();
    assertEquals(0, report.chunksFreed());
    assertEquals(entries.size(), allChunks().size(), "every fossil went back");
    assertEquals(ByteBuffer.wrap(content), ByteBuffer.wrap(read(file)));
  }

  @Test
  void aMostlyDeadPackIsRewrittenAndWhatLivesInItStaysReadable() throws Exception {
    byte[] content = random(5);
    long file = write("f", content);
    int kept = 300_000;
    ns.truncate(file, kept);
    List<ChunkEntry> before = allChunks();
    long diskBefore = packBytesOnDisk();

    GcReport report = collector().run();

    assertEquals(1, report.packsRewritten(), report.toString());
    assertEquals(diskBefore - packBytesOnDisk(), report.bytesOnDiskFreed(), "the report counts what the files gave back");
    assertTrue(report.bytesOnDiskFreed() > FILE / 2, report + " gave back most of the pack");
    ByteBuffer expected = ByteBuffer.wrap(content, 0, kept);
    assertEquals(expected, ByteBuffer.wrap(read(file)), "the kept bytes read back from the new pack");
    List<ChunkEntry> after = allChunks();
    assertTrue(after.size() < before.size());
    for (ChunkEntry e : after) {
      assertTrue(!e.location().pack().equals(before.get(0).location().pack()), e + " moved out of the old pack");
    }
  }

  /** Small text files, different from each other, written together so their chunks share blocks. */
  private List<Long> writeSmallFiles(int count, List<byte[]> contents) throws Exception {
    List<Long> inodes = new ArrayList<>();
    List<FileWriter> writers = new ArrayList<>();
    java.util.Random r = new java.util.Random(17);
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      while (text.length() < 6000 + r.nextInt(6000)) {
        text.append("line ").append(i).append(' ').append(r.nextInt(1000)).append(" of a small source file\n");
      }
      byte[] content = text.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      long inode = ns.mknod(Namespace.ROOT, Name.of("small" + i), Mode.S_IFREG | 0644, 0, 0, 0).number();
      FileWriter w = new FileWriter(inode, 0, ns, pipeline);
      w.write(0, ByteBuffer.wrap(content));
      inodes.add(inode);
      writers.add(w);
      contents.add(content);
    }
    // Every file's chunks handed over before anything is made durable, as a copy of many files does.
    for (FileWriter w : writers) {
      w.settle();
    }
    pipeline.flush();
    for (FileWriter w : writers) {
      w.flush();
    }
    return inodes;
  }

  @Test
  void aBlockWhoseMembersAreNotAllLiveIsStoredAnewWithoutTheDeadOnes() throws Exception {
    List<byte[]> contents = new ArrayList<>();
    List<Long> files = writeSmallFiles(60, contents);
    List<ChunkEntry> before = allChunks();
    assertTrue(before.stream().allMatch(e -> e.location().inBlock()), "small chunks written together share blocks");
    long blocksBefore = before.stream().map(e -> e.location().pack() + ":" + e.location().offset()).distinct().count();
    assertTrue(blocksBefore < 10, blocksBefore + " blocks for 60 files");
    // Three files in four go: every block keeps some members and loses more.
    Set<ChunkId> dead = new java.util.HashSet<>();
    for (int i = 0; i < files.size(); i++) {
      if (i % 4 != 0) {
        dead.addAll(chunksOf(files.get(i)));
        ns.unlink(Namespace.ROOT, Name.of("small" + i));
      }
    }
    long diskBefore = packBytesOnDisk();

    GcReport report = collector().run();

    assertEquals(1, report.packsRewritten(), report.toString());
    long diskAfter = packBytesOnDisk();
    assertTrue(diskAfter < diskBefore * 0.5, "the dead members' bytes went too: " + diskBefore + " -> " + diskAfter);
    List<ChunkEntry> after = allChunks();
    assertEquals(15, after.size());
    for (ChunkEntry e : after) {
      assertTrue(!dead.contains(e.id()));
      assertTrue(e.location().inBlock(), e + " is in a block again");
    }
    for (io.dedupfs.store.pack.PackNumber p : repo.packs().list()) {
      for (io.dedupfs.store.pack.PackIndexEntry e : io.dedupfs.store.pack.PackReader.readIndex(repo.packs(), p,
          repo.encryption())) {
        assertTrue(!dead.contains(e.id()), "no pack lists a dead chunk: " + e);
      }
      assertEquals(repo.index().findPack(p).orElseThrow().storedBytes(), after.stream()
          .filter(e -> e.location().pack().equals(p)).mapToLong(e -> e.location().storedShare()).sum(),
          "the live shares of the new pack are its stored bytes");
    }
    try (ChunkReader fresh = ChunkReader.of(repo)) {
      FileReader freshReader = new FileReader(ns, fresh, 0);
      for (int i = 0; i < files.size(); i += 4) {
        ByteBuffer b = ByteBuffer.allocate(contents.get(i).length);
        freshReader.read(files.get(i), 0, b);
        assertEquals(ByteBuffer.wrap(contents.get(i)), b.flip(), "file " + i + " reads back from its new block");
      }
    }
  }

  @Test
  void aSnapshotWaitingToBeTakenStopsTheCollectionWhichThenStartsOver() throws Exception {
    byte[] content = random(6);
    long file = write("kept", content);
    write("gone", random(7));
    ns.unlink(Namespace.ROOT, Name.of("gone"));
    Thread[] taker = new Thread[1];
    Exception[] failure = new Exception[1];
    pending = () -> {
      if (taker[0] == null) {
        // Inside the collection, which holds the snapshots: a snapshot is asked for now.
        taker[0] = new Thread(() -> {
          try {
            snapshots.create(Name.of("during"));
          } catch (Exception e) {
            failure[0] = e;
          }
        });
        taker[0].start();
        while (!snapshots.someoneWaits()) {
          Thread.onSpinWait();
        }
      }
    };
    GcReport report = collector().run();
    taker[0].join();

    assertEquals(null, failure[0]);
    assertEquals(Name.of("during"), snapshots.list().get(0).name(), "the snapshot was taken");
    java.time.Instant taken = java.time.Instant.EPOCH.plusNanos(snapshots.list().get(0).createdNanos());
    java.time.Instant collected = LastCollection.of(repo.index()).orElseThrow().finished();
    assertTrue(taken.isBefore(collected), "the snapshot (" + taken + ") did not wait for the collection to end ("
        + collected + ")");
    assertTrue(report.chunksFreed() > 0, report + ": the collection started over and freed the deleted file");
    assertTrue(repo.index().fossils(null, 1).isEmpty(), "no fossil is left");
    assertEquals(ByteBuffer.wrap(content), ByteBuffer.wrap(read(file)));
    TreeEntry inSnapshot = new SnapshotReader(chunks, 1 << 20)
        .resolve(snapshots.get(Name.of("during")).root(), List.of(Name.of("kept")));
    assertEquals(FILE, inSnapshot.inode().size());
  }
}
