package io.dedupfs.store.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.StoreFullException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;

/** The LMDB index (FORMAT.md §6) on a real LMDB environment under a temporary directory. */
class ChunkIndexTest {
  static final long MAP_SIZE = 64L << 20;

  @TempDir Path tmp;

  static byte[] repoId(long seed) {
    byte[] id = new byte[16];
    new Random(seed).nextBytes(id);
    return id;
  }

  static ChunkId randomId(Random r) {
    byte[] b = new byte[32];
    r.nextBytes(b);
    return ChunkId.of(b);
  }

  /** A pack commit with {@code count} contiguous entries of random sizes, kinds and encodings. */
  static PackCommit pack(long number, int count, Random r) {
    List<PackIndexEntry> entries = new ArrayList<>();
    long offset = 24;
    for (int i = 0; i < count; i++) {
      int stored = 1 + r.nextInt(100_000);
      int plain = stored + r.nextInt(100_000);
      entries.add(new PackIndexEntry(randomId(r), offset, stored, plain,
          r.nextBoolean() ? ChunkKind.DATA : ChunkKind.TREE, r.nextBoolean() ? ChunkEncoding.RAW : ChunkEncoding.ZSTD));
      offset += stored;
    }
    long fileLength = offset + 4 + 52L * count + 48;
    return new PackCommit(new PackNumber(number),
        new PackRecord(fileLength, count, offset - 24, 1_700_000_000_000L + number), entries);
  }

  static void assertIndexHolds(ChunkIndex index, List<PackCommit> commits) throws StoreException {
    for (PackCommit c : commits) {
      assertEquals(Optional.of(c.record()), index.findPack(c.pack()), "pack record of " + c.pack());
      for (PackIndexEntry e : c.entries()) {
        Optional<ChunkLocation> found = index.find(e.id());
        assertTrue(found.isPresent(), "chunk " + e.id() + " of pack " + c.pack());
        ChunkLocation l = found.get();
        assertEquals(ChunkLocation.of(c.pack(), e), l);
        assertEquals(c.pack(), l.pack());
        assertEquals(e.offset(), l.offset());
        assertEquals(e.storedLength(), l.storedLength());
        assertEquals(e.plainLength(), l.plainLength());
        assertEquals(e.kind(), l.kind());
        assertEquals(e.encoding(), l.encoding());
      }
    }
  }

  @Test
  void commitFindAndReopen() throws Exception {
    Path dir = tmp.resolve("index");
    byte[] id = repoId(1);
    Random r = new Random(2);
    PackCommit a = pack(3, 50, r);
    PackCommit b = pack(10, 30, r);
    assertFalse(ChunkIndex.exists(dir));
    try (ChunkIndex index = ChunkIndex.create(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      assertTrue(ChunkIndex.exists(dir));
      assertTrue(Files.isRegularFile(dir.resolve("data.mdb")));
      assertEquals(1, index.nextPackNumber(), "a new index starts allocating at 1");
      assertEquals(new ChunkIndex.Counts(0, 0), index.counts());

      index.commit(List.of(a, b));

      assertIndexHolds(index, List.of(a, b));
      assertEquals(Optional.empty(), index.find(randomId(r)));
      assertEquals(Optional.empty(), index.findPack(new PackNumber(4)));
      assertTrue(index.nextPackNumber() > 10, "next pack " + index.nextPackNumber() + " must be above pack 10");
      assertEquals(11, index.nextPackNumber());
      assertEquals(new ChunkIndex.Counts(80, 2), index.counts());
    }
    try (ChunkIndex index = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      assertIndexHolds(index, List.of(a, b));
      assertEquals(11, index.nextPackNumber());
      assertEquals(new ChunkIndex.Counts(80, 2), index.counts());
      PackCommit c = pack(11, 5, r);
      index.commit(List.of(c));
      assertIndexHolds(index, List.of(a, b, c));
      assertEquals(12, index.nextPackNumber());
    }
  }

  @Test
  void separateCommitsAccumulateAndNextPackNeverGoesDown() throws Exception {
    Random r = new Random(3);
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index"), repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      PackCommit p20 = pack(20, 4, r);
      index.commit(List.of(p20));
      assertEquals(21, index.nextPackNumber());
      PackCommit p5 = pack(5, 4, r);
      index.commit(List.of(p5));
      assertEquals(21, index.nextPackNumber(), "committing a lower pack must not lower next-pack");
      index.commit(List.of());
      assertEquals(21, index.nextPackNumber());
      assertEquals(new ChunkIndex.Counts(8, 2), index.counts());
      assertIndexHolds(index, List.of(p20, p5));
    }
  }

  @Test
  void aChunkAlreadyIndexedKeepsItsFirstLocation() throws Exception {
    Random r = new Random(4);
    PackCommit first = pack(1, 3, r);
    PackIndexEntry dup = first.entries().get(1);
    PackIndexEntry again = new PackIndexEntry(dup.id(), 24, 7, 9, ChunkKind.DATA, ChunkEncoding.RAW);
    PackCommit second = new PackCommit(new PackNumber(2), new PackRecord(24 + 7 + 56 + 48, 1, 7, 5), List.of(again));
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index"), repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      index.commit(List.of(first));
      index.commit(List.of(second));
      assertEquals(Optional.of(ChunkLocation.of(first.pack(), dup)), index.find(dup.id()));
      assertEquals(new ChunkIndex.Counts(3, 2), index.counts());
      assertEquals(Optional.of(second.record()), index.findPack(second.pack()));
      assertEquals(3, index.nextPackNumber());
    }
    // Within one transaction too.
    PackCommit third = pack(7, 2, r);
    PackIndexEntry d = third.entries().get(0);
    PackCommit fourth = new PackCommit(new PackNumber(8), new PackRecord(200, 1, 100, 1),
        List.of(new PackIndexEntry(d.id(), 24, 100, 100, ChunkKind.TREE, ChunkEncoding.ZSTD)));
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index2"), repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      index.commit(List.of(third, fourth));
      assertEquals(Optional.of(ChunkLocation.of(third.pack(), d)), index.find(d.id()));
      assertEquals(new ChunkIndex.Counts(2, 2), index.counts());
    }
  }

  @Test
  void openingWithAnotherRepositoryIdIsRefused() throws Exception {
    Path dir = tmp.resolve("index");
    try (ChunkIndex index = ChunkIndex.create(dir, repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      index.commit(List.of(pack(1, 2, new Random(5))));
    }
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> ChunkIndex.open(dir, repoId(2), MAP_SIZE, IndexSealing.NONE));
    assertTrue(e.getMessage().contains("repository"), e.getMessage());
    // The refused open released the environment: the right id still opens it.
    try (ChunkIndex index = ChunkIndex.open(dir, repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      assertEquals(new ChunkIndex.Counts(2, 1), index.counts());
    }
  }

  @Test
  void createAndOpenCheckWhetherAnIndexExists() throws Exception {
    Path dir = tmp.resolve("index");
    assertThrows(StoreException.class, () -> ChunkIndex.open(dir, repoId(1), MAP_SIZE, IndexSealing.NONE), "no index yet");
    ChunkIndex.create(dir, repoId(1), MAP_SIZE, IndexSealing.NONE).close();
    assertThrows(StoreException.class, () -> ChunkIndex.create(dir, repoId(1), MAP_SIZE, IndexSealing.NONE), "index already there");
    ChunkIndex.open(dir, repoId(1), MAP_SIZE, IndexSealing.NONE).close();
  }

  /** The stored values follow FORMAT.md §6 byte for byte (read with lmdbjava directly). */
  @Test
  void storedBytesFollowTheFormat() throws Exception {
    Path dir = tmp.resolve("index");
    byte[] id = repoId(9);
    PackIndexEntry e = new PackIndexEntry(randomId(new Random(6)), 0x01020304L, 0x0a0b0c0d, 0x11121314, ChunkKind.TREE,
        ChunkEncoding.ZSTD);
    PackRecord record = new PackRecord(0x0102030405060708L, 0x0a0b0c0d, 0x1112131415161718L, 0x2122232425262728L);
    PackNumber packNumber = new PackNumber(0x3132333435363738L);
    try (ChunkIndex index = ChunkIndex.create(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      index.commit(List.of(new PackCommit(packNumber, record, List.of(e))));
    }
    try (Env<ByteBuffer> env = Env.create().setMapSize(MAP_SIZE).setMaxDbs(8).open(dir.toFile())) {
      Dbi<ByteBuffer> chunks = env.openDbi("chunks");
      Dbi<ByteBuffer> packs = env.openDbi("packs");
      Dbi<ByteBuffer> meta = env.openDbi("meta");
      try (Txn<ByteBuffer> txn = env.txnRead()) {

      byte[] location = bytes(chunks.get(txn, direct(e.id().toBytes())));
      assertArrayEquals(new byte[] {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d,
          0x11, 0x12, 0x13, 0x14, 1, 1}, location, "ChunkLocation (22 bytes)");

      byte[] packValue = bytes(packs.get(txn, direct(ByteBuffer.allocate(8).putLong(0, packNumber.value()).array())));
      ByteBuffer pv = ByteBuffer.wrap(packValue);
      assertEquals(28, packValue.length, "PackRecord (28 bytes)");
      assertEquals(record.fileLength(), pv.getLong(0));
      assertEquals(record.chunkCount(), pv.getInt(8));
      assertEquals(record.storedBytes(), pv.getLong(12));
      assertEquals(record.sealedAtMillis(), pv.getLong(20));

      assertArrayEquals(new byte[] {0, 0, 0, 1}, bytes(meta.get(txn, direct(ascii("schema")))));
      assertArrayEquals(id, bytes(meta.get(txn, direct(ascii("repository-id")))));
      assertArrayEquals(ByteBuffer.allocate(8).putLong(0, packNumber.value() + 1).array(),
          bytes(meta.get(txn, direct(ascii("next-pack")))));
      }
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static ByteBuffer direct(byte[] b) {
    return ByteBuffer.allocateDirect(b.length).put(b).flip();
  }

  static byte[] bytes(ByteBuffer b) {
    assertTrue(b != null, "key not found");
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Test
  void indexCodecRoundTrip() throws Exception {
    ChunkLocation l = new ChunkLocation(new PackNumber(Long.MAX_VALUE), Integer.MAX_VALUE, 0, 16 << 20, ChunkKind.DATA,
        ChunkEncoding.RAW);
    byte[] b = IndexCodec.encodeLocation(l);
    assertEquals(22, b.length);
    assertEquals(l, IndexCodec.decodeLocation(b));
    PackRecord p = new PackRecord(Long.MAX_VALUE, 0, 12345, -1);
    byte[] pb = IndexCodec.encodePack(p);
    assertEquals(28, pb.length);
    assertEquals(p, IndexCodec.decodePack(pb));
    assertThrows(CorruptDataException.class, () -> IndexCodec.decodeLocation(new byte[21]));
    assertThrows(CorruptDataException.class, () -> IndexCodec.decodePack(new byte[29]));
    byte[] badKind = new byte[22];
    badKind[20] = 9;
    assertThrows(CorruptDataException.class, () -> IndexCodec.decodeLocation(badKind));
  }

  /**
   * A tiny map fills up: the commit must fail with StoreFullException (not hang, not crash the
   * JVM), leave nothing of the failed transaction behind, and the index must stay readable.
   */
  @Test
  void aFullMapThrowsStoreFullAndStaysReadable() throws Exception {
    Path dir = tmp.resolve("index");
    long tinyMap = 256L << 10; // 64 pages of 4 KiB
    Random r = new Random(7);
    List<PackCommit> committed = new ArrayList<>();
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      try (ChunkIndex index = ChunkIndex.create(dir, repoId(1), tinyMap, IndexSealing.NONE)) {
        StoreFullException full = null;
        long number = 1;
        // Batches of 300 chunk ids, up to 60000 in all; a 256 KiB map holds a few thousand.
        for (int attempt = 0; attempt < 200 && full == null; attempt++) {
          PackCommit c = pack(number, 300, r);
          ChunkIndex.Counts before = index.counts();
          try {
            index.commit(List.of(c));
            committed.add(c);
            number++;
          } catch (StoreFullException e) {
            full = e;
            assertEquals(before, index.counts(), "a failed commit leaves nothing behind");
            for (PackIndexEntry e2 : c.entries()) {
              assertEquals(Optional.empty(), index.find(e2.id()), "chunk of the failed commit");
            }
            assertEquals(Optional.empty(), index.findPack(c.pack()));
          }
        }
        assertTrue(full != null, "committing 60000 chunk ids into a 256 KiB map must fail");
        assertTrue(full.getMessage().contains("full"), full.getMessage());
        assertInstanceOf(org.lmdbjava.Env.MapFullException.class, full.getCause());
        assertFalse(committed.isEmpty(), "the first batch fits");

        // Still readable after the failure.
        assertIndexHolds(index, committed);
        assertEquals(new ChunkIndex.Counts(300L * committed.size(), committed.size()), index.counts());
        assertEquals(committed.size() + 1, index.nextPackNumber());
        // And a second failing commit fails the same way instead of wedging the environment.
        assertThrows(StoreFullException.class, () -> index.commit(List.of(pack(1000, 5000, r))));
        assertIndexHolds(index, committed);
      }
      // Reopened with a larger map, the same index accepts the commit that failed.
      try (ChunkIndex index = ChunkIndex.open(dir, repoId(1), MAP_SIZE, IndexSealing.NONE)) {
        assertIndexHolds(index, committed);
        PackCommit more = pack(5000, 5000, r);
        index.commit(List.of(more));
        assertIndexHolds(index, List.of(more));
      }
    });
  }

  @Test
  void concurrentReadersSeeCommittedData() throws Exception {
    Random r = new Random(8);
    List<PackCommit> commits = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      commits.add(pack(i, 50, r));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index"), repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      List<Future<?>> readers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        readers.add(pool.submit(() -> {
          for (int round = 0; round < 20; round++) {
            for (PackCommit c : commits) {
              Optional<PackRecord> rec = index.findPack(c.pack());
              if (rec.isPresent()) {
                // A pack visible means all of its chunks are visible (one transaction).
                assertEquals(c.record(), rec.get());
                for (PackIndexEntry e : c.entries()) {
                  assertEquals(Optional.of(ChunkLocation.of(c.pack(), e)), index.find(e.id()));
                }
              }
            }
          }
          return null;
        }));
      }
      for (PackCommit c : commits) {
        index.commit(List.of(c));
      }
      for (Future<?> f : readers) {
        f.get(20, TimeUnit.SECONDS);
      }
      assertIndexHolds(index, commits);
    } finally {
      pool.shutdownNow();
    }
  }
}
