package io.dedupfs.store.index;

import static io.dedupfs.store.index.ChunkIndexTest.MAP_SIZE;
import static io.dedupfs.store.index.ChunkIndexTest.assertIndexHolds;
import static io.dedupfs.store.index.ChunkIndexTest.pack;
import static io.dedupfs.store.index.ChunkIndexTest.repoId;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.StoreException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;

/** Compaction of the index at close (FORMAT.md §6.2), on real LMDB environments. */
class ChunkIndexCompactionTest {
  @TempDir Path tmp;

  /**
   * An index with slack: chunk ids in random order (half-full pages), live-tree entries with
   * values of every size up to overflow pages, and a third of everything deleted again.
   */
  static List<PackCommit> fill(ChunkIndex index, Random r) throws Exception {
    List<PackCommit> commits = new ArrayList<>();
    for (int p = 1; p <= 40; p++) {
      PackCommit c = pack(p, 500, r);
      index.commit(List.of(c));
      commits.add(c);
    }
    for (int round = 0; round < 20; round++) {
      index.write(tx -> {
        for (int i = 0; i < 1000; i++) {
          long inode = r.nextInt(200_000);
          byte[] key = ByteBuffer.allocate(8).putLong(inode).array();
          byte[] value = new byte[r.nextInt(50) == 0 ? 1 + r.nextInt(20_000) : 1 + r.nextInt(100)];
          r.nextBytes(value);
          tx.put(Table.INODES, key, value);
          byte[] name = new byte[1 + r.nextInt(40)];
          for (int k = 0; k < name.length; k++) {
            name[k] = (byte) ('a' + r.nextInt(26));
          }
          tx.put(Table.DIRENTS, ByteBuffer.allocate(8 + name.length).putLong(inode % 100).put(name).array(),
              new byte[] {1, 2, 3});
          if (r.nextInt(3) == 0) {
            tx.delete(Table.INODES, ByteBuffer.allocate(8).putLong(r.nextInt(200_000)).array());
          }
        }
        return null;
      });
    }
    return commits;
  }

  /** A closed index in {@code tmp/index} of repository 1, filled by {@link #fill} from {@code seed}. */
  private Path filledIndex(long seed) throws Exception {
    Path dir = tmp.resolve("index");
    try (ChunkIndex index = ChunkIndex.create(dir, repoId(1), MAP_SIZE, IndexSealing.NONE)) {
      fill(index, new Random(seed));
    }
    return dir;
  }

  /** Every entry of every table, in key order. */
  static Map<Table, List<IndexTransaction.Entry>> dump(ChunkIndex index) throws Exception {
    Map<Table, List<IndexTransaction.Entry>> out = new LinkedHashMap<>();
    for (Table t : Table.values()) {
      out.put(t, index.read(tx -> {
        List<IndexTransaction.Entry> all = new ArrayList<>();
        byte[] after = null;
        for (List<IndexTransaction.Entry> page; !(page = tx.scan(t, new byte[0], after, 1000)).isEmpty(); ) {
          all.addAll(page);
          after = page.get(page.size() - 1).key();
        }
        return all;
      }));
    }
    return out;
  }

  static void assertSameEntries(Map<Table, List<IndexTransaction.Entry>> expected,
      Map<Table, List<IndexTransaction.Entry>> actual) {
    for (Table t : Table.values()) {
      List<IndexTransaction.Entry> e = expected.get(t);
      List<IndexTransaction.Entry> a = actual.get(t);
      assertEquals(e.size(), a.size(), "entries of " + t);
      for (int i = 0; i < e.size(); i++) {
        assertArrayEquals(e.get(i).key(), a.get(i).key(), t + " key " + i);
        assertArrayEquals(e.get(i).value(), a.get(i).value(), t + " value " + i);
      }
    }
  }

  static long fileBytes(Path dir) throws Exception {
    return Files.size(dir.resolve("data.mdb"));
  }

  @Test
  void compactingKeepsEveryEntryShrinksTheFileAsEstimatedAndStaysWritable() throws Exception {
    Path dir = tmp.resolve("index");
    Random r = new Random(11);
    byte[] id = repoId(1);
    Map<Table, List<IndexTransaction.Entry>> before;
    List<PackCommit> commits;
    IndexFootprint footprint;
    ChunkIndex index = ChunkIndex.create(dir, id, MAP_SIZE, IndexSealing.NONE);
    commits = fill(index, r);
    before = dump(index);
    footprint = index.footprint();
    assertEquals(fileBytes(dir), footprint.fileBytes());
    assertTrue(footprint.compactBytes() < footprint.fileBytes(), footprint.toString());
    // Small transactions, so that the copy goes on appending across many of them.
    Optional<IndexFootprint> done = index.closeCompacting(f -> true, 64 << 10);
    assertTrue(done.isPresent(), "compacted");
    long after = fileBytes(dir);
    assertTrue(after < footprint.fileBytes(), "file " + footprint.fileBytes() + " -> " + after);
    // The estimate that decides whether to compact is within a few pages of what the copy takes.
    assertTrue(Math.abs(after - footprint.compactBytes()) <= 0.02 * after + 8 * 4096,
        "estimated " + footprint.compactBytes() + ", compacted " + after);
    assertFalse(Files.exists(dir.resolve(ChunkIndex.COMPACTING)), "the copy's directory is gone");

    try (ChunkIndex reopened = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      assertSameEntries(before, dump(reopened));
      assertIndexHolds(reopened, commits);
      assertEquals(41, reopened.nextPackNumber());
      // Writable as before: new entries go anywhere in the full pages.
      PackCommit more = pack(41, 2000, r);
      reopened.commit(List.of(more));
      commits.add(more);
      assertIndexHolds(reopened, commits);
    }
    try (ChunkIndex reopened = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      assertIndexHolds(reopened, commits);
      assertEquals(before.get(Table.INODES).size(), dump(reopened).get(Table.INODES).size());
    }
  }

  @Test
  void anIndexNotWrittenSinceOpenIsNotRewritten() throws Exception {
    Path dir = filledIndex(12);
    byte[] id = repoId(1);
    long size = fileBytes(dir);
    Object file = Files.readAttributes(dir.resolve("data.mdb"), BasicFileAttributes.class).fileKey();
    ChunkIndex index = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE);
    index.find(ChunkIndexTest.randomId(new Random(1)));
    assertEquals(Optional.empty(), index.closeCompacting(f -> true));
    assertEquals(size, fileBytes(dir));
    assertEquals(file, Files.readAttributes(dir.resolve("data.mdb"), BasicFileAttributes.class).fileKey(),
        "the same file");
  }

  @Test
  void theDefaultPolicyCompactsOnlyWhenAQuarterAndAMebibyteAreFreed() {
    assertTrue(new IndexFootprint(40 << 20, 26 << 20).worthCompacting());
    assertFalse(new IndexFootprint(40 << 20, 31 << 20).worthCompacting(), "less than a quarter");
    assertFalse(new IndexFootprint(2 << 20, (2 << 20) - (900 << 10)).worthCompacting(), "less than 1 MiB");
    assertFalse(new IndexFootprint(1 << 20, 2 << 20).worthCompacting(), "larger when compacted");
    assertEquals(0, new IndexFootprint(1 << 20, 2 << 20).reclaimable());
  }

  @Test
  void theDefaultPolicyLeavesASmallIndexAlone() throws Exception {
    Path dir = tmp.resolve("index");
    ChunkIndex index = ChunkIndex.create(dir, repoId(1), MAP_SIZE, IndexSealing.NONE);
    index.commit(List.of(pack(1, 100, new Random(3))));
    assertEquals(Optional.empty(), index.closeCompacting());
    ChunkIndex.open(dir, repoId(1), MAP_SIZE, IndexSealing.NONE).close();
  }

  @Test
  void writesAfterACompactionBeganAreRefusedNotLost() throws Exception {
    Path dir = tmp.resolve("index");
    ChunkIndex index = ChunkIndex.create(dir, repoId(1), MAP_SIZE, IndexSealing.NONE);
    fill(index, new Random(13));
    index.closeCompacting(f -> true);
    StoreException e = assertThrows(StoreException.class, () -> index.commit(List.of(pack(99, 1, new Random(4)))));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void aCopyLeftByACrashIsDeletedOnOpenAndTheIndexIsWhole() throws Exception {
    Path dir = tmp.resolve("index");
    byte[] id = repoId(1);
    Random r = new Random(14);
    List<PackCommit> commits;
    Map<Table, List<IndexTransaction.Entry>> before;
    try (ChunkIndex index = ChunkIndex.create(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      commits = fill(index, r);
      before = dump(index);
    }
    // A crash while the copy was written: a partial environment beside the index.
    Path copy = dir.resolve(ChunkIndex.COMPACTING);
    Files.createDirectories(copy);
    Files.write(copy.resolve("data.mdb"), new byte[12345]);
    Files.write(copy.resolve("lock.mdb"), new byte[100]);
    try (ChunkIndex index = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      assertFalse(Files.exists(copy));
      assertSameEntries(before, dump(index));
      assertIndexHolds(index, commits);
    }
  }

  @Test
  void aFailedCompactionLeavesTheIndexAsItWas() throws Exception {
    Path dir = filledIndex(15);
    byte[] id = repoId(1);
    // A table this dedupfs does not know (as a later release might add): the copy would lose it.
    try (Env<ByteBuffer> env = Env.create().setMapSize(MAP_SIZE).setMaxDbs(16).open(dir.toFile())) {
      Dbi<ByteBuffer> other = env.openDbi("later", DbiFlags.MDB_CREATE);
      try (Txn<ByteBuffer> txn = env.txnWrite()) {
        other.put(txn, ChunkIndexTest.direct(new byte[] {1}), ChunkIndexTest.direct(new byte[] {2}));
        txn.commit();
      }
    }
    ChunkIndex index = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE);
    List<PackCommit> commits = new ArrayList<>(List.of(pack(100, 10, new Random(16))));
    index.commit(commits);
    Map<Table, List<IndexTransaction.Entry>> before = dump(index);
    long size = fileBytes(dir);
    assertEquals(Optional.empty(), index.closeCompacting(f -> true));
    assertEquals(size, fileBytes(dir));
    assertFalse(Files.exists(dir.resolve(ChunkIndex.COMPACTING)), "the partial copy is deleted");
    try (ChunkIndex reopened = ChunkIndex.open(dir, id, MAP_SIZE, IndexSealing.NONE)) {
      assertSameEntries(before, dump(reopened));
      assertIndexHolds(reopened, commits);
    }
    try (Env<ByteBuffer> env = Env.create().setMapSize(MAP_SIZE).setMaxDbs(16).open(dir.toFile())) {
      Dbi<ByteBuffer> other = env.openDbi("later");
      try (Txn<ByteBuffer> txn = env.txnRead()) {
        assertArrayEquals(new byte[] {2}, ChunkIndexTest.bytes(other.get(txn, ChunkIndexTest.direct(new byte[] {1}))));
      }
    }
  }
}
