package io.dedupfs.store.repo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ChildJvm;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.RepositoryLockedException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.IndexFootprint;
import io.dedupfs.store.ingest.ChunkRef;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.ingest.PipelineTestKit;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.read.ChunkReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RepositoryTest {
  static final ChunkerParameters SMALL = new ChunkerParameters(1024, 4096, 16384);
  static final Repository.OpenOptions OPTIONS = Repository.OpenOptions.DEFAULT;

  @TempDir Path tmp;

  private Path initClosed(String name) throws IOException {
    Path dir = tmp.resolve(name);
    Repository.init(dir, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS).close();
    return dir;
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  // ---------------------------------------------------------------- init / open

  @Test
  void initCreatesTheLayoutAndOpenReadsTheSameConfig() throws IOException {
    Path dir = tmp.resolve("new/nested/repo");
    RepositoryConfig config = RepositoryConfig.create(new ChunkerParameters(2048, 8192, 65536), new Compression(Compression.Algorithm.ZSTD, 7));
    try (Repository repo = Repository.init(dir, config, OPTIONS)) {
      assertEquals(dir, repo.path());
      assertEquals(config, repo.config());
      assertEquals(new ChunkIndex.Counts(0, 0), repo.index().counts());
      assertEquals(List.of(), repo.packs().list());
    }
    assertEquals(List.of("config", "index", "lock", "packs"), names(dir), "FORMAT.md §2 layout");
    assertEquals(60, Files.size(dir.resolve("config")), "config is exactly 60 bytes");
    assertFalse(Files.exists(dir.resolve("config.tmp")), "the temporary config is renamed away");
    assertTrue(Files.isRegularFile(dir.resolve("index/data.mdb")));
    assertEquals(0, Files.size(dir.resolve("lock")), "a closed repository's lock file names no holder");

    try (Repository repo = Repository.open(dir, OPTIONS)) {
      assertEquals(config, repo.config());
      assertArrayEquals(config.repositoryId(), repo.config().repositoryId());
      assertEquals(config.gearSeed(), repo.config().gearSeed());
      assertEquals(new ChunkIndex.Counts(0, 0), repo.index().counts());
      assertEquals(1, repo.index().nextPackNumber());
    }
    // open, close, open again: nothing is left locked
    Repository.open(dir, OPTIONS).close();
  }

  @Test
  void initIntoAnEmptyExistingDirectoryWorks() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("empty"));
    Repository.init(dir, RepositoryConfig.create(SMALL, Compression.NONE), OPTIONS).close();
    assertEquals(Compression.NONE, openAndClose(dir).compression());
  }

  private static RepositoryConfig openAndClose(Path dir) throws IOException {
    try (Repository r = Repository.open(dir, OPTIONS)) {
      return r.config();
    }
  }

  @Test
  void initIntoANonEmptyDirectoryFailsAndTouchesNothing() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("full"));
    Files.writeString(dir.resolve("precious.txt"), "keep me");
    StoreException e = assertThrows(StoreException.class,
        () -> Repository.init(dir, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS));
    assertTrue(e.getMessage().contains("not empty"), e.getMessage());
    assertTrue(e.getMessage().contains(dir.toString()), "the message names the directory: " + e.getMessage());
    assertEquals(List.of("precious.txt"), names(dir), "a refused init must not create anything");
    assertEquals("keep me", Files.readString(dir.resolve("precious.txt")));
  }

  @Test
  void initOverAnExistingRepositoryFails() throws IOException {
    Path dir = initClosed("repo");
    byte[] configBefore = Files.readAllBytes(dir.resolve("config"));
    assertThrows(StoreException.class,
        () -> Repository.init(dir, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS));
    assertArrayEquals(configBefore, Files.readAllBytes(dir.resolve("config")), "the existing config is untouched");
    openAndClose(dir);
  }

  @Test
  void initOnARegularFileFails() throws IOException {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    StoreException e = assertThrows(StoreException.class,
        () -> Repository.init(file, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS));
    assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
  }

  @Test
  void openOfAMissingPathFailsWithNoSuchFile() {
    Path missing = tmp.resolve("does-not-exist");
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Repository.open(missing, OPTIONS));
    assertEquals(missing.toString(), e.getFile());
    assertTrue(e.getReason() != null && !e.getReason().isBlank(), "the exception says why, not just the path");
    assertTrue(e.getMessage().contains("no repository"), e.getMessage());
    assertFalse(Files.exists(missing), "open must not create the directory");
  }

  @Test
  void openOfADirectoryWithoutConfigFailsClearlyAndTouchesNothing() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("not-a-repo"));
    Files.writeString(dir.resolve("readme"), "hello");
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Repository.open(dir, OPTIONS));
    assertTrue(e.getMessage().contains("not a dedupfs repository"), e.getMessage());
    assertTrue(e.getMessage().contains("config"), e.getMessage());
    assertEquals(List.of("readme"), names(dir), "opening a non-repository must not create lock or index");
  }

  // ---------------------------------------------------------------- lock

  @Test
  void aSecondOpenInTheSameProcessIsRefusedNamingTheHolder() throws IOException {
    Path dir = initClosed("repo");
    try (Repository first = Repository.open(dir, OPTIONS)) {
      RepositoryLockedException e = assertThrows(RepositoryLockedException.class, () -> Repository.open(dir, OPTIONS));
      assertTrue(e.getMessage().contains("pid=" + ProcessHandle.current().pid()),
          "the message names the holder's pid: " + e.getMessage());
      assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
      // init over it is refused too, and the first handle keeps working
      assertThrows(StoreException.class,
          () -> Repository.init(dir, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS));
      assertEquals(new ChunkIndex.Counts(0, 0), first.index().counts());
    }
    openAndClose(dir);
  }

  @Test
  void aRepositoryOpenInAnotherProcessIsRefusedUntilThatProcessDies() throws Exception {
    Path dir = initClosed("repo");
    try (ChildJvm child = ChildJvm.start(LockHolderChild.class, tmp.resolve("child.err"), "hold", dir.toString())) {
      String line = child.nextLine(30_000);
      assertEquals("opened pid=" + child.pid(), line, "child could not open the repository");

      RepositoryLockedException e = assertThrows(RepositoryLockedException.class, () -> Repository.open(dir, OPTIONS));
      assertTrue(e.getMessage().contains("pid=" + child.pid()), "the message names the other process: " + e.getMessage());
      assertTrue(e.getMessage().contains("host="), e.getMessage());
      // asking twice does not change the answer
      assertThrows(RepositoryLockedException.class, () -> Repository.open(dir, OPTIONS));

      child.kill(); // SIGKILL: no close(), no cleanup; the kernel drops the fcntl lock
    }
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      assertEquals(new ChunkIndex.Counts(0, 0), repo.index().counts());
    }
  }

  @Test
  void aRefusedSecondOpenInTheSameProcessMustNotDropTheProcesssLock() throws Exception {
    // FORMAT.md §7: the lock is an fcntl lock. POSIX drops ALL of a process's fcntl locks on a file
    // when the process closes ANY descriptor of that file. RepositoryLock.acquire, on failing with
    // OverlappingFileLockException (same JVM), closes its own channel and re-reads the lock file
    // with Files.readString, closing two descriptors of REPO/lock: the first opener's kernel lock
    // is silently gone, and another process can open the repository while this one writes to it.
    Path dir = initClosed("repo");
    try (Repository first = Repository.open(dir, OPTIONS)) {
      assertThrows(RepositoryLockedException.class, () -> Repository.open(dir, OPTIONS));

      try (ChildJvm child = ChildJvm.start(LockHolderChild.class, tmp.resolve("child.err"), "try", dir.toString())) {
        String line = child.nextLine(30_000);
        assertTrue(line.startsWith("locked "),
            "BUG: after a refused second Repository.open in this JVM, another process (" + child.pid()
                + ") could open the repository although this JVM still holds it open; child said: " + line
                + " (RepositoryLock.acquire closes descriptors of REPO/lock on the OverlappingFileLockException path,"
                + " which releases this process's fcntl lock)");
        assertTrue(line.contains("pid=" + ProcessHandle.current().pid()), line);
      }
      assertEquals(new ChunkIndex.Counts(0, 0), first.index().counts());
    }
  }

  // ---------------------------------------------------------------- config versions

  private static void rewriteConfig(Path dir, java.util.function.Consumer<ByteBuffer> edit) throws IOException {
    Path config = dir.resolve("config");
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(config));
    edit.accept(b);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, 56);
    b.putInt(56, (int) crc.getValue());
    Files.write(config, b.array());
  }

  @Test
  void aConfigOfFormatVersion3IsRefusedNamingBothVersions() throws IOException {
    Path dir = initClosed("repo");
    rewriteConfig(dir, b -> b.putShort(8, (short) 3));
    FormatVersionException e = assertThrows(FormatVersionException.class, () -> Repository.open(dir, OPTIONS));
    assertTrue(e.getMessage().contains("version 3"), e.getMessage());
    assertTrue(e.getMessage().contains("versions 1 to " + RepositoryConfig.FORMAT_VERSION), e.getMessage());
    // the refusal left nothing locked: with the version restored the repository opens
    rewriteConfig(dir, b -> b.putShort(8, (short) 2));
    openAndClose(dir);
  }

  @Test
  void aFormatVersion1RepositoryIsReadAsItIsAndUpgradedBeforeItsFirstWrite() throws Exception {
    Path dir = initClosed("repo");
    rewriteConfig(dir, b -> b.putShort(8, (short) 1));
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      assertEquals(1, repo.formatVersion());
      assertEquals(1, ConfigCodec.versionOf(Files.readAllBytes(dir.resolve("config"))), "opening writes nothing");
      try (IngestPipeline pipeline = new IngestPipeline(repo, IngestSettings.forMemory(64 << 20), Clock.systemUTC())) {
        assertEquals(1, ConfigCodec.versionOf(Files.readAllBytes(dir.resolve("config"))),
            "a pipeline that writes no pack leaves the format as it is (read-only commands open one)");
        pipeline.store(io.dedupfs.store.chunk.ChunkKind.DATA, new byte[] {1, 2, 3}).get();
      }
      assertEquals(2, repo.formatVersion());
      assertEquals(2, ConfigCodec.versionOf(Files.readAllBytes(dir.resolve("config"))),
          "the config is rewritten before the first pack: what is written is of format 2");
    }
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      assertEquals(2, repo.formatVersion());
    }
  }

  @Test
  void aConfigWithUnknownFlagsIsRefused() throws IOException {
    Path dir = initClosed("repo");
    rewriteConfig(dir, b -> b.putShort(10, (short) 1));
    assertThrows(FormatVersionException.class, () -> Repository.open(dir, OPTIONS));
  }

  @Test
  void aDamagedConfigIsReportedAsCorrupt() throws IOException {
    Path dir = initClosed("repo");
    byte[] bytes = Files.readAllBytes(dir.resolve("config"));
    bytes[30] ^= 0x10; // inside the chunk minimum; CRC no longer matches
    Files.write(dir.resolve("config"), bytes);
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> Repository.open(dir, OPTIONS));
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
  }

  // ---------------------------------------------------------------- index

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static List<ChunkRef> ingestSome(Repository repo, byte[] data) throws Exception {
    IngestPipeline p = new IngestPipeline(repo, new IngestSettings(8 << 20, 2, Duration.ofSeconds(5), 4), Clock.systemUTC());
    try {
      var f = PipelineTestKit.write(p, data, PipelineTestKit.Pieces.WHOLE, 0);
      p.flush();
      return PipelineTestKit.await(f);
    } finally {
      p.close();
    }
  }

  @Test
  void aMissingIndexBesidePacksIsRefusedPointingAtCheckRepair() throws Exception {
    Path dir = tmp.resolve("repo");
    byte[] data = PipelineTestKit.randomData(5, 200 << 10);
    List<ChunkRef> refs;
    List<PackNumber> packs;
    try (Repository repo = Repository.init(dir, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS)) {
      refs = ingestSome(repo, data);
      packs = repo.packs().list();
      assertFalse(packs.isEmpty());
    }
    Path savedIndex = tmp.resolve("saved-index");
    Files.move(dir.resolve("index"), savedIndex);

    StoreException e = assertThrows(StoreException.class, () -> Repository.open(dir, OPTIONS));
    assertTrue(e.getMessage().contains("check --repair"), "the message points at check --repair: " + e.getMessage());
    assertFalse(Files.exists(dir.resolve("index")),
        "FORMAT.md §8.6: open must not start an empty index beside existing packs");
    // a second attempt fails the same way: the failed open released the lock
    StoreException again = assertThrows(StoreException.class, () -> Repository.open(dir, OPTIONS));
    assertFalse(again instanceof RepositoryLockedException, "a failed open must release the lock: " + again);

    // packs are untouched; with the index back, everything reads
    Files.move(savedIndex, dir.resolve("index"));
    try (Repository repo = Repository.open(dir, OPTIONS); ChunkReader reader = ChunkReader.of(repo)) {
      assertEquals(packs, repo.packs().list());
      assertArrayEquals(data, PipelineTestKit.readBack(reader, refs));
    }
  }

  @Test
  void anIndexDirectoryEmptiedOfItsDatabaseBesidePacksIsRefusedToo() throws Exception {
    Path dir = tmp.resolve("repo");
    try (Repository repo = Repository.init(dir, RepositoryConfig.create(SMALL, Compression.DEFAULT), OPTIONS)) {
      ingestSome(repo, PipelineTestKit.randomData(6, 50 << 10));
    }
    Files.delete(dir.resolve("index/data.mdb"));
    StoreException e = assertThrows(StoreException.class, () -> Repository.open(dir, OPTIONS));
    assertTrue(e.getMessage().contains("check --repair"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("index/data.mdb")), "no empty index may be created beside packs");
  }

  @Test
  void aMissingIndexWithoutPacksIsRecreated() throws IOException {
    Path dir = initClosed("repo");
    deleteTree(dir.resolve("index"));
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      assertEquals(new ChunkIndex.Counts(0, 0), repo.index().counts());
    }
  }

  @Test
  void anIndexOfAnotherRepositoryIsRefused() throws IOException {
    Path a = initClosed("a");
    Path b = initClosed("b");
    deleteTree(a.resolve("index"));
    Files.createDirectory(a.resolve("index"));
    try (Stream<Path> s = Files.list(b.resolve("index"))) {
      for (Path f : s.toList()) {
        Files.copy(f, a.resolve("index").resolve(f.getFileName()));
      }
    }
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> Repository.open(a, OPTIONS));
    assertTrue(e.getMessage().contains("belongs to repository"), e.getMessage());
    openAndClose(b);
  }

  // ---------------------------------------------------------------- close

  @Test
  void closingCompactsAnIndexItWroteToWhenThatFreesEnough() throws IOException {
    Path dir = initClosed("repo");
    Path data = dir.resolve("index").resolve("data.mdb");
    java.util.Random r = new java.util.Random(7);
    long[] inodes = new long[60_000];
    IndexFootprint f;
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      // Entries in random key order, two thirds deleted again: pages half empty and freed pages.
      for (int i = 0; i < inodes.length; i++) {
        inodes[i] = r.nextLong() >>> 1;
      }
      for (int from = 0; from < inodes.length; from += 5_000) {
        int start = from;
        repo.index().write(tx -> {
          for (int i = start; i < start + 5_000; i++) {
            tx.put(io.dedupfs.store.index.Table.INODES, ByteBuffer.allocate(8).putLong(inodes[i]).array(), new byte[64]);
          }
          return null;
        });
      }
      repo.index().write(tx -> {
        for (int i = 0; i < inodes.length; i++) {
          if (i % 3 != 0) {
            tx.delete(io.dedupfs.store.index.Table.INODES, ByteBuffer.allocate(8).putLong(inodes[i]).array());
          }
        }
        return null;
      });
      f = repo.index().footprint();
      assertTrue(f.worthCompacting(), f.toString());
      assertEquals(Files.size(data), f.fileBytes());
    }
    long compacted = Files.size(data);
    assertTrue(compacted < f.fileBytes() / 2 && compacted <= f.compactBytes() + 8 * 4096,
        f + " compacted to " + compacted);
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      for (int i = 0; i < inodes.length; i++) {
        byte[] key = ByteBuffer.allocate(8).putLong(inodes[i]).array();
        boolean kept = i % 3 == 0;
        assertEquals(kept, repo.index().read(tx -> tx.get(io.dedupfs.store.index.Table.INODES, key)).isPresent());
      }
    }
    // Opened only to read: closing leaves the file as it is.
    try (Repository repo = Repository.open(dir, OPTIONS)) {
      repo.index().counts();
    }
    assertEquals(compacted, Files.size(data));
  }
}
