package io.dedupfs.gc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.file.FileReader;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex.ChunkChange;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.DamagedRanges;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.pack.LocalPackStorage;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackWriter;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import io.dedupfs.store.snapshot.Snapshots;
import io.dedupfs.store.snapshot.TreeEntry;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dedupfs check --repair on a real repository: each kind of damage repaired or named, nothing read wrong. */
class RepairerTest {
  @TempDir Path tmp;
  private Repository repo;
  private IngestPipeline pipeline;
  private ChunkReader chunks;
  private Namespace ns;
  private Snapshots snapshots;
  /** What each snapshot's files hold, as written: snapshot name, then file name to content. */
  private final Map<String, Map<String, byte[]>> written = new LinkedHashMap<>();
  private final Map<String, byte[]> live = new LinkedHashMap<>();

  @BeforeEach
  void create() throws Exception {
    Repository.init(tmp.resolve("repo"),
        RepositoryConfig.create(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10), Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT).close();
    open(false);
    write("a", 1, 1 << 20);
    snapshot("s1");
    write("b", 2, 700 << 10);
    write("a", 3, 300 << 10);
    snapshot("s2");
    // A hard link, and a change after the newest snapshot.
    ns.link(ns.lookup(Namespace.ROOT, Name.of("b")).orElseThrow().number(), Namespace.ROOT, Name.of("b-link"));
    live.put("b-link", live.get("b"));
    write("c", 4, 200 << 10);
  }

  private void open(boolean forRepair) throws Exception {
    repo = forRepair ? Repository.openForRepair(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT)
        : Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT);
    // Packs seal when a file is flushed, not by age: each file's data lands in packs of its own.
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

  private void reopen(boolean forRepair) throws Exception {
    close();
    open(forRepair);
  }

  private void write(String name, long seed, int size) throws Exception {
    byte[] content = new byte[size];
    new Random(seed).nextBytes(content);
    Name n = Name.of(name);
    long inode = ns.lookup(Namespace.ROOT, n).isPresent() ? ns.lookup(Namespace.ROOT, n).get().number()
        : ns.mknod(Namespace.ROOT, n, Mode.S_IFREG | 0644, 0, 0, 0).number();
    ns.truncate(inode, 0);
    FileWriter w = new FileWriter(inode, 0, ns, pipeline);
    w.write(0, ByteBuffer.wrap(content));
    w.flush();
    live.put(name, content);
  }

  private void snapshot(String name) throws Exception {
    snapshots.create(Name.of(name));
    written.put(name, new LinkedHashMap<>(live));
  }

  private CheckReport repair() throws Exception {
    return new Repairer(repo, ns, snapshots, pipeline, () -> {}, chunks, GcSettings.defaults(tmp), Clock.systemUTC()).run(false, GcProgress.NONE);
  }

  private CheckReport check() throws Exception {
    return new Checker(repo, ns, snapshots, chunks, new SnapshotReader(chunks, 1 << 20), GcSettings.defaults(tmp))
        .run(true);
  }

  private byte[] readLive(String name) throws Exception {
    long inode = ns.lookup(Namespace.ROOT, Name.of(name)).orElseThrow().number();
    ByteBuffer dst = ByteBuffer.allocate((int) ns.getattr(inode).size());
    new FileReader(ns, chunks, 1 << 20).read(inode, 0, dst);
    return dst.array();
  }

  private byte[] readSnapshot(String snapshot, String name) throws Exception {
    SnapshotReader trees = new SnapshotReader(chunks, 1 << 20);
    TreeEntry file = trees.resolve(snapshots.get(Name.of(snapshot)).root(), List.of(Name.of(name)));
    List<Extent> extents = trees.extents(file, 0, file.inode().size());
    ByteBuffer dst = ByteBuffer.allocate((int) file.inode().size());
    new FileReader(ns, chunks, 1 << 20).read(new Namespace.FileRange(file.inode().size(), extents), 0, dst);
    return dst.array();
  }

  private void assertSnapshotsAsWritten() throws Exception {
    for (Map.Entry<String, Map<String, byte[]>> s : written.entrySet()) {
      for (Map.Entry<String, byte[]> f : s.getValue().entrySet()) {
        assertArrayEquals(f.getValue(), readSnapshot(s.getKey(), f.getKey()), s.getKey() + "/" + f.getKey());
      }
    }
  }

  private PackNumber packOf(String name) throws Exception {
    long inode = ns.lookup(Namespace.ROOT, Name.of(name)).orElseThrow().number();
    return repo.index().find(ns.extents(inode, 0, 1).get(0).chunk()).orElseThrow().pack();
  }

  private Path fileOf(PackNumber p) {
    return repo.path().resolve("packs").resolve(p.directoryName()).resolve(p.fileName());
  }

  @Test
  void aLostIndexIsRebuiltAndTheNewestSnapshotBecomesTheLiveTree() throws Exception {
    close();
    io.dedupfs.store.io.FileTrees.delete(tmp.resolve("repo/index"));
    StoreException refused = assertThrows(StoreException.class,
        () -> Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT));
    assertTrue(refused.getMessage().contains("check --repair"), refused.getMessage());

    open(true);
    assertTrue(repo.index().rebuilding());
    CheckReport r = repair();
    assertTrue(r.clean(), r.toString());
    assertTrue(r.repairs().stream().anyMatch(l -> l.contains("index was missing") && l.contains("s2")
        && l.contains("changes made after it are lost")), r.repairs().toString());
    assertFalse(repo.index().rebuilding());
    assertSnapshotsAsWritten();
    for (Map.Entry<String, byte[]> f : written.get("s2").entrySet()) {
      assertArrayEquals(f.getValue(), readLive(f.getKey()), "live " + f.getKey() + " is as in s2");
    }
    assertTrue(ns.lookup(Namespace.ROOT, Name.of("c")).isEmpty(), "c was written after the newest snapshot");
    assertTrue(check().clean());

    // Whole again: an ordinary open takes it, writes go on with fresh inode and pack numbers.
    reopen(false);
    write("d", 5, 100 << 10);
    assertArrayEquals(live.get("d"), readLive("d"));
    assertTrue(check().clean(), check().toString());
  }

  @Test
  void aRebuildCutShortIsRefusedAndStartedOverByTheNextRepair() throws Exception {
    close();
    io.dedupfs.store.io.FileTrees.delete(tmp.resolve("repo/index"));
    open(true);
    // The repair stops here, before filling the new index.
    close();
    StoreException refused = assertThrows(StoreException.class,
        () -> Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT));
    assertTrue(refused.getMessage().contains("was being rebuilt"), refused.getMessage());

    open(true);
    CheckReport r = repair();
    assertTrue(r.clean(), r.toString());
    assertSnapshotsAsWritten();
  }

  @Test
  void damagedChunkEntriesAreRepairedFromThePacks() throws Exception {
    List<ChunkEntry> entries = repo.index().chunks(null, 3);
    ChunkLocation right = entries.get(1).location();
    ChunkLocation wrong = new ChunkLocation(right.pack(), right.offset() + 1, right.storedLength(), right.plainLength(),
        ChunkKind.DATA, ChunkEncoding.RAW);
    repo.index().compareAndSet(List.of(new ChunkChange(entries.get(0).id(), entries.get(0).location(), null),
        new ChunkChange(entries.get(1).id(), right, wrong)));
    assertFalse(check().clean(), "the damage is there to find");

    CheckReport r = repair();
    assertTrue(r.clean(), r.toString());
    assertTrue(r.repairs().stream().anyMatch(l -> l.contains("chunks entered") || l.contains("pointed at it")),
        r.repairs().toString());
    assertEquals(right, repo.index().find(entries.get(1).id()).orElseThrow());
    assertTrue(repo.index().find(entries.get(0).id()).isPresent());
    assertSnapshotsAsWritten();
    assertTrue(repair().repairs().isEmpty(), "a second repair finds nothing to do");
  }

  @Test
  void aDeletedPackMarksLiveFilesDamagedAndNamesSnapshotPaths() throws Exception {
    PackNumber lost = packOf("b");
    assertFalse(lost.equals(packOf("a")), "a and b are in packs of their own");
    Files.delete(fileOf(lost));

    CheckReport r = repair();
    assertFalse(r.clean());
    assertTrue(r.repairs().stream().anyMatch(l -> l.contains("pack " + lost) && l.contains("file is missing")),
        r.repairs().toString());
    assertTrue(r.losses().stream().anyMatch(l -> l.startsWith("live tree: /b") && l.contains("b-link")
        && l.contains("was in pack " + lost) && l.contains("user.dedupfs.damaged")), r.losses().toString());
    assertTrue(r.losses().stream().anyMatch(l -> l.startsWith("snapshot s2: /b: bytes 0-")), r.losses().toString());
    assertFalse(r.losses().stream().anyMatch(l -> l.contains("snapshot s1")), "s1 has no b: " + r.losses());

    // The live file reads: its lost bytes are a hole, named in the xattr.
    long b = ns.lookup(Namespace.ROOT, Name.of("b")).orElseThrow().number();
    String damaged = new String(ns.getXattr(b, DamagedRanges.XATTR), StandardCharsets.US_ASCII);
    assertTrue(damaged.matches("0-\\d+(,\\d+-\\d+)*"), damaged);
    byte[] read = readLive("b");
    assertEquals(live.get("b").length, read.length);
    long first = Long.parseLong(damaged.split("[-,]")[0]);
    long last = Long.parseLong(damaged.split("[-,]")[1]);
    for (long i = first; i <= last; i++) {
      assertEquals(0, read[(int) i], "lost byte " + i + " reads as zero");
    }
    assertArrayEquals(live.get("a"), readLive("a"));
    assertArrayEquals(written.get("s1").get("a"), readSnapshot("s1", "a"));
    assertThrows(io.dedupfs.store.ChunkNotFoundException.class, () -> readSnapshot("s2", "b"));

    CheckReport after = check();
    assertTrue(after.problems().stream().allMatch(l -> l.contains("referenced but not in the index")),
        "only s2's lost chunks are left: " + after.problems());
    assertTrue(repair().repairs().isEmpty(), "a second repair finds nothing more to repair");
  }

  @Test
  void anOpenFileWhoseNamesAreGoneIsRepairedByItsInodeNumber() throws Exception {
    PackNumber lost = packOf("c");
    long c = ns.lookup(Namespace.ROOT, Name.of("c")).orElseThrow().number();
    ns.holdOpenInodes(n -> n == c);
    ns.unlink(Namespace.ROOT, Name.of("c"));
    Files.delete(fileOf(lost));

    CheckReport r = repair();
    assertTrue(r.losses().stream().anyMatch(l -> l.startsWith("live tree: inode " + c + " (open, its names gone): bytes 0-")
        && l.contains("was in pack " + lost)), r.losses().toString());
    assertTrue(r.problems().isEmpty(), "its lost bytes are holes now: " + r.problems());
    String damaged = new String(ns.getXattr(c, DamagedRanges.XATTR), StandardCharsets.US_ASCII);
    assertTrue(damaged.startsWith("0-"), damaged);
  }

  @Test
  void aTornPackIsSetAsideInLostAndFound() throws Exception {
    // Left by an earlier process, killed while writing it.
    close();
    PackWriter torn = new PackWriter(new PackNumber(1000), new LocalPackStorage(tmp.resolve("repo/packs")), Encryption.NONE);
    torn.append(io.dedupfs.store.chunk.ChunkId.of(new byte[32]), ChunkKind.DATA, ChunkEncoding.RAW, 5,
        ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
    torn.abandon();
    open(false);
    // A sealed pack cut short by a crash of the disk, which the index names.
    PackNumber cut = packOf("c");
    try (RandomAccessFile f = new RandomAccessFile(fileOf(cut).toFile(), "rw")) {
      f.setLength(f.length() - 10);
    }

    CheckReport r = repair();
    assertTrue(r.repairs().stream().anyMatch(l -> l.contains("pack " + new PackNumber(1000) + " is not sealed")
        && l.contains("lost+found")), r.repairs().toString());
    assertTrue(Files.exists(tmp.resolve("repo/lost+found").resolve(new PackNumber(1000).fileName())));
    assertTrue(Files.exists(tmp.resolve("repo/lost+found").resolve(cut.fileName())));
    assertFalse(repo.packs().list().contains(new PackNumber(1000)));
    assertTrue(r.losses().stream().anyMatch(l -> l.startsWith("live tree: /c") && l.contains("pack " + cut)),
        r.losses().toString());
    assertTrue(r.problems().isEmpty(), "no snapshot has c, so nothing is left wrong: " + r.problems());
    assertSnapshotsAsWritten();
  }

  @Test
  void aChunkInTwoPacksTakesTheLowerNumberedOne() throws Exception {
    PackNumber original = packOf("a");
    PackNumber copy = new PackNumber(2000);
    Files.createDirectories(fileOf(copy).getParent());
    Files.copy(fileOf(original), fileOf(copy));
    try (RandomAccessFile f = new RandomAccessFile(fileOf(copy).toFile(), "rw")) {
      f.seek(16);
      f.writeLong(copy.value());
    }
    close();
    io.dedupfs.store.io.FileTrees.delete(tmp.resolve("repo/index"));
    open(true);
    CheckReport r = repair();
    assertTrue(r.clean(), r.toString());
    assertEquals(original, packOf("a"));
    List<ChunkEntry> all = new ArrayList<>(repo.index().chunks(null, 100_000));
    assertTrue(all.stream().noneMatch(e -> e.location().pack().equals(copy)), "no entry names the copy");
    assertTrue(repo.index().findPack(copy).isPresent(), "the copy is a pack like any other, for gc to free");
  }
}
