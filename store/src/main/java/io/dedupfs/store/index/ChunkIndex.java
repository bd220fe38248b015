package io.dedupfs.store.index;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.io.DurableFiles;
import io.dedupfs.store.io.FileTrees;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Predicate;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LMDB index of a repository (FORMAT.md §6): chunk id → location, the pack table and metadata.
 * Thread-safe: any thread may look up; writes should come from one thread ({@link IndexWriter})
 * since LMDB serializes write transactions anyway. Transactions are short and never span I/O.
 */
public final class ChunkIndex implements AutoCloseable {
  public static final int SCHEMA_VERSION = 1;
  /** Address space reserved for the map; the file grows only as pages are written. */
  public static final long DEFAULT_MAP_SIZE = 64L << 30;

  private static final byte[] META_SCHEMA = "schema".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] META_REPOSITORY_ID = "repository-id".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] META_NEXT_PACK = "next-pack".getBytes(StandardCharsets.US_ASCII);
  /** A file beside the environment while it is rebuilt from the packs (FORMAT.md §13): it is not whole yet. */
  private static final String REBUILDING = "rebuilding";
  /** u8: 1 if the live tree's tables are sealed (FORMAT.md §12.4); an index without it predates sealing: 0. */
  private static final byte[] META_SEALED = "sealed".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_READERS = 1024;
  /**
   * The directory, inside the index directory, where {@link #closeCompacting} writes the compact
   * copy (FORMAT.md §6.2); whatever a crash left there is deleted when the index is opened.
   */
  static final String COMPACTING = "compacting";
  /**
   * Bytes of keys and values copied per write transaction of a compaction: LMDB keeps a write
   * transaction's dirty pages in memory, so this bounds what compacting an index of any size takes.
   */
  private static final long COMPACT_TXN_BYTES = 8L << 20;
  private static final Logger LOG = LoggerFactory.getLogger(ChunkIndex.class);

  private final Env<ByteBuffer> env;
  private final Path dir;
  private final Map<Table, Dbi<ByteBuffer>> tables = new EnumMap<>(Table.class);
  private final IndexSealing sealing;
  /**
   * Write transactions hold it shared; a compaction holds it exclusively and then closes the
   * index, so that no commit can land in the old file after the copy was taken (it would be lost).
   */
  private final ReentrantReadWriteLock writeGate = new ReentrantReadWriteLock();
  /** True once a compaction began: writes are refused from then on. */
  private boolean writesClosed;
  /** True once a write transaction committed since the index was opened. */
  private volatile boolean written;

  private ChunkIndex(Env<ByteBuffer> env, Path dir, IndexSealing sealing) {
    this.env = env;
    this.dir = dir;
    this.sealing = sealing;
    for (Table t : Table.values()) {
      tables.put(t, env.openDbi(t.dbName, DbiFlags.MDB_CREATE));
    }
  }

  /** The body of a transaction over the byte-level tables. */
  public interface TransactionBody<T> {
    T run(IndexTransaction tx) throws IOException;
  }

  /** Runs {@code body} in a read transaction. */
  public <T> T read(TransactionBody<T> body) throws IOException {
    return read("read the index", body);
  }

  /** Runs {@code body} in a write transaction, committed if it returns and aborted if it throws. */
  public <T> T write(TransactionBody<T> body) throws IOException {
    return write("write the index", body);
  }

  private interface IndexCall<T> {
    T call() throws IOException;
  }

  /** For the index's own operations, whose bodies fail only with store exceptions: keeps that narrower type. */
  private static <T> T storeOnly(String action, IndexCall<T> call) throws StoreException {
    try {
      return call.call();
    } catch (StoreException e) {
      throw e;
    } catch (IOException e) {
      throw new StoreException("index failed to " + action + ": " + e.getMessage(), e);
    }
  }

  private <T> T readStore(String action, TransactionBody<T> body) throws StoreException {
    return storeOnly(action, () -> read(action, body));
  }

  private <T> T read(String action, TransactionBody<T> body) throws IOException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      return body.run(new IndexTransaction(txn, tables, sealing));
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, action);
    }
  }

  private <T> T write(String action, TransactionBody<T> body) throws IOException {
    writeGate.readLock().lock();
    try {
      if (writesClosed) {
        throw new StoreException("index failed to " + action + ": the index is closed");
      }
      try (Txn<ByteBuffer> txn = env.txnWrite()) {
        T result = body.run(new IndexTransaction(txn, tables, sealing));
        txn.commit();
        written = true;
        return result;
      } catch (LmdbException e) {
        throw LmdbFailures.translate(e, action);
      }
    } finally {
      writeGate.readLock().unlock();
    }
  }

  /** True if {@code dir} holds an index environment. */
  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve("data.mdb"));
  }

  /** Creates a new, empty index for the repository, its live tree kept as {@code sealing} says. */
  public static ChunkIndex create(Path dir, byte[] repositoryId, long mapSize, IndexSealing sealing) throws IOException {
    if (exists(dir)) {
      throw new StoreException("an index already exists in " + dir);
    }
    Files.createDirectories(dir);
    ChunkIndex index = openEnv(dir, mapSize, sealing);
    try {
      index.write("initialize the index", tx -> {
        tx.put(Table.META, META_SCHEMA, ByteBuffer.allocate(4).putInt(0, SCHEMA_VERSION).array());
        tx.put(Table.META, META_REPOSITORY_ID, repositoryId);
        tx.put(Table.META, META_SEALED, new byte[] {(byte) (sealing.sealsAnything() ? 1 : 0)});
        tx.put(Table.META, META_NEXT_PACK, ByteBuffer.allocate(8).putLong(0, 1).array());
        return null;
      });
    } catch (IOException | RuntimeException e) {
      index.close();
      throw e;
    }
    return index;
  }

  /**
   * Creates a new, empty index to be rebuilt from the packs: until {@link #finishRebuild}, {@link
   * #open} refuses it, so that a rebuild cut short is never taken for a whole index.
   */
  public static ChunkIndex createForRebuild(Path dir, byte[] repositoryId, long mapSize, IndexSealing sealing)
      throws IOException {
    Files.createDirectories(dir);
    DurableFiles.writeAtomically(dir.resolve(REBUILDING), new byte[0]);
    return create(dir, repositoryId, mapSize, sealing);
  }

  /** True if {@code dir} holds an index whose rebuild has not finished. */
  public static boolean isRebuilding(Path dir) {
    return Files.exists(dir.resolve(REBUILDING));
  }

  /** True while this index is being rebuilt from the packs. */
  public boolean rebuilding() {
    return isRebuilding(dir);
  }

  /** Makes the rebuilt index durable, then marks it whole. */
  public void finishRebuild() throws IOException {
    sync();
    DurableFiles.delete(dir.resolve(REBUILDING));
  }

  /**
   * Opens an existing index, checking its schema version, that it belongs to this repository and
   * that its live tree is kept as {@code sealing} says.
   */
  public static ChunkIndex open(Path dir, byte[] repositoryId, long mapSize, IndexSealing sealing) throws IOException {
    if (!exists(dir)) {
      throw new StoreException("no index in " + dir);
    }
    if (isRebuilding(dir)) {
      throw new StoreException("the index in " + dir + " was being rebuilt and is not whole; run dedupfs check --repair");
    }
    // A compaction cut short by a crash left its copy; the index beside it is the whole one.
    FileTrees.delete(dir.resolve(COMPACTING));
    ChunkIndex index = openEnv(dir, mapSize, sealing);
    try {
      index.verifyMeta(repositoryId);
    } catch (IOException | RuntimeException e) {
      index.close();
      throw e;
    }
    return index;
  }

  private static ChunkIndex openEnv(Path dir, long mapSize, IndexSealing sealing) throws StoreException {
    try {
      Env<ByteBuffer> env = environment(dir, mapSize);
      ExtractedLibrary.deleteLoaded();
      return new ChunkIndex(env, dir, sealing);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "open " + dir);
    }
  }

  /** Opens (creating if need be) an LMDB environment in {@code dir} as every index is opened. */
  static Env<ByteBuffer> environment(Path dir, long mapSize) {
    return Env.create()
        .setMapSize(mapSize)
        .setMaxDbs(16)
        .setMaxReaders(MAX_READERS)
        // NOTLS: read transactions are not tied to threads, so FUSE and worker threads can share them.
        // NOSYNC: a commit is visible at once and survives the process being killed (the pages are
        // in the kernel's cache); it reaches the disk at the next sync() (FORMAT.md §8 invariant 8).
        // An fsync per metadata operation would cap a FUSE mount at a few hundred files/s.
        .open(dir.toFile(), EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOSYNC);
  }

  private void verifyMeta(byte[] repositoryId) throws IOException {
    read("read the index metadata", tx -> {
      byte[] schema = tx.get(Table.META, META_SCHEMA).orElse(null);
      if (schema == null || schema.length != 4) {
        throw new CorruptDataException("index has no schema version");
      }
      int version = ByteBuffer.wrap(schema).getInt();
      if (version != SCHEMA_VERSION) {
        throw new FormatVersionException("index schema version " + version + " is not supported (this dedupfs reads "
            + SCHEMA_VERSION + ")");
      }
      byte[] stored = tx.get(Table.META, META_REPOSITORY_ID).orElse(new byte[0]);
      if (!Arrays.equals(stored, repositoryId)) {
        throw new CorruptDataException("index belongs to repository " + HexFormat.of().formatHex(stored)
            + ", not to this one (" + HexFormat.of().formatHex(repositoryId) + ")");
      }
      boolean sealed = tx.get(Table.META, META_SEALED).map(v -> v.length == 1 && v[0] == 1).orElse(false);
      if (sealed != sealing.sealsAnything()) {
        throw new CorruptDataException("the index keeps the live tree " + (sealed ? "sealed" : "in the clear")
            + ", but the repository is " + (sealing.sealsAnything() ? "encrypted" : "not encrypted")
            + "; move REPO/index aside, then run dedupfs check --repair to rebuild it");
      }
      return null;
    });
  }

  /** How this index keeps the live tree: what orders a directory's entries (FORMAT.md §10.1, §12.4). */
  public IndexSealing sealing() {
    return sealing;
  }

  /** The location of a chunk, if the index has it. */
  public Optional<ChunkLocation> find(ChunkId id) throws StoreException {
    byte[] v = readStore("look up chunk " + id, tx -> tx.get(Table.CHUNKS, id.toBytes()).orElse(null));
    return v == null ? Optional.empty() : Optional.of(IndexCodec.decodeLocation(v));
  }

  public Optional<PackRecord> findPack(PackNumber number) throws StoreException {
    byte[] v = readStore("look up pack " + number, tx -> tx.get(Table.PACKS, IndexCodec.packKey(number)).orElse(null));
    return v == null ? Optional.empty() : Optional.of(IndexCodec.decodePack(v));
  }

  /** Every pack number named in the index is below this. */
  public long nextPackNumber() throws StoreException {
    return readStore("read the next pack number", ChunkIndex::readNextPack);
  }

  private static long readNextPack(IndexTransaction tx) {
    return tx.get(Table.META, META_NEXT_PACK).map(v -> ByteBuffer.wrap(v).getLong()).orElse(1L);
  }

  /** Numbers of entries in the chunk and pack tables. */
  public Counts counts() throws StoreException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      return new Counts(tables.get(Table.CHUNKS).stat(txn).entries, tables.get(Table.PACKS).stat(txn).entries);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "count index entries");
    }
  }

  /** Entry counts of the index tables. */
  public record Counts(long chunks, long packs) {}

  /**
   * Enters sealed, durable packs and their chunks in one transaction (FORMAT.md §8, invariants 1
   * and 2), and syncs: a pack commit is durable on return. A chunk already indexed keeps its first
   * location.
   */
  public void commit(List<PackCommit> commits) throws StoreException {
    String action = "commit " + commits.size() + " packs";
    storeOnly(action, () -> write(action, tx -> {
      long next = readNextPack(tx);
      for (PackCommit c : commits) {
        for (PackIndexEntry e : c.entries()) {
          tx.putIfAbsent(Table.CHUNKS, e.id().toBytes(), IndexCodec.encodeLocation(ChunkLocation.of(c.pack(), e)));
        }
        tx.put(Table.PACKS, IndexCodec.packKey(c.pack()), IndexCodec.encodePack(c.record()));
        next = Math.max(next, c.pack().value() + 1);
      }
      tx.put(Table.META, META_NEXT_PACK, ByteBuffer.allocate(8).putLong(0, next).array());
      return null;
    }));
    sync();
  }

  // ---------------------------------------------------------------- for the collector (FORMAT.md §11)

  /** A chunk entry: id and location. */
  public record ChunkEntry(ChunkId id, ChunkLocation location) {}

  /** The location of a chunk the collector set aside, if it is one. */
  public Optional<ChunkLocation> findFossil(ChunkId id) throws StoreException {
    byte[] v = readStore("look up fossil " + id, tx -> tx.get(Table.FOSSILS, id.toBytes()).orElse(null));
    return v == null ? Optional.empty() : Optional.of(IndexCodec.decodeLocation(v));
  }

  /** Up to {@code limit} chunk entries after {@code after} (null: from the first), in id order. */
  public List<ChunkEntry> chunks(ChunkId after, int limit) throws StoreException {
    return entries(Table.CHUNKS, after, limit);
  }

  /** Up to {@code limit} fossils after {@code after} (null: from the first), in id order. */
  public List<ChunkEntry> fossils(ChunkId after, int limit) throws StoreException {
    return entries(Table.FOSSILS, after, limit);
  }

  private List<ChunkEntry> entries(Table table, ChunkId after, int limit) throws StoreException {
    return readStore("list " + table.dbName, tx -> {
      List<ChunkEntry> out = new java.util.ArrayList<>();
      for (IndexTransaction.Entry e : tx.scan(table, new byte[0], after == null ? null : after.toBytes(), limit)) {
        out.add(new ChunkEntry(ChunkId.of(e.key()), IndexCodec.decodeLocation(e.value())));
      }
      return out;
    });
  }

  /**
   * Moves chunks from {@code chunks} to {@code fossils}, each only if its entry is still the
   * given one: writes stop deduplicating against them, readers still find them.
   */
  public void fossilize(List<ChunkEntry> unreferenced) throws StoreException {
    storeOnly("set aside unreferenced chunks", () -> write("set aside unreferenced chunks", tx -> {
      for (ChunkEntry e : unreferenced) {
        byte[] key = e.id().toBytes();
        byte[] value = IndexCodec.encodeLocation(e.location());
        if (tx.get(Table.CHUNKS, key).filter(v -> Arrays.equals(v, value)).isPresent()) {
          tx.delete(Table.CHUNKS, key);
          tx.put(Table.FOSSILS, key, value);
        }
      }
      return null;
    }));
  }

  /** Puts fossils back into {@code chunks}, unless a newer copy is there, and forgets them as fossils. */
  public void restoreFossils(List<ChunkId> referenced) throws StoreException {
    storeOnly("restore referenced chunks", () -> write("restore referenced chunks", tx -> {
      for (ChunkId id : referenced) {
        byte[] key = id.toBytes();
        Optional<byte[]> fossil = tx.get(Table.FOSSILS, key);
        if (fossil.isPresent()) {
          tx.putIfAbsent(Table.CHUNKS, key, fossil.get());
          tx.delete(Table.FOSSILS, key);
        }
      }
      return null;
    }));
  }

  /** Puts every fossil back into {@code chunks} (a collection cut short left them), {@code batch} per transaction. */
  public void restoreEveryFossil(int batch) throws StoreException {
    for (List<ChunkEntry> page; !(page = fossils(null, batch)).isEmpty(); ) {
      restoreFossils(page.stream().map(ChunkEntry::id).toList());
    }
  }

  /**
   * A change to one chunk entry, made only if the entry is still {@code was}: null {@code was}
   * means absent, null {@code becomes} deletes.
   */
  public record ChunkChange(ChunkId id, ChunkLocation was, ChunkLocation becomes) {}

  /**
   * Makes each change whose entry is still as expected, in one transaction; returns how many were
   * made. Expecting the old value lets a repair run beside writers: an entry they changed meanwhile
   * is theirs.
   */
  public int compareAndSet(List<ChunkChange> changes) throws StoreException {
    return storeOnly("repair chunk entries", () -> write("repair chunk entries", tx -> {
      int made = 0;
      for (ChunkChange c : changes) {
        byte[] key = c.id().toBytes();
        Optional<byte[]> now = tx.get(Table.CHUNKS, key);
        boolean expected = c.was() == null ? now.isEmpty()
            : now.filter(v -> Arrays.equals(v, IndexCodec.encodeLocation(c.was()))).isPresent();
        if (!expected) {
          continue;
        }
        if (c.becomes() == null) {
          tx.delete(Table.CHUNKS, key);
        } else {
          tx.put(Table.CHUNKS, key, IndexCodec.encodeLocation(c.becomes()));
        }
        made++;
      }
      return made;
    }));
  }

  /** Forgets fossils for good: nothing references them. */
  public void buryFossils(List<ChunkId> dead) throws StoreException {
    storeOnly("delete unreferenced chunks", () -> write("delete unreferenced chunks", tx -> {
      for (ChunkId id : dead) {
        tx.delete(Table.FOSSILS, id.toBytes());
      }
      return null;
    }));
  }

  /** Every pack entry, in number order. */
  public Map<PackNumber, PackRecord> packs() throws StoreException {
    return readStore("list packs", tx -> {
      Map<PackNumber, PackRecord> out = new java.util.TreeMap<>();
      byte[] after = null;
      for (List<IndexTransaction.Entry> page; !(page = tx.scan(Table.PACKS, new byte[0], after, 4096)).isEmpty(); ) {
        for (IndexTransaction.Entry e : page) {
          out.put(new PackNumber(ByteBuffer.wrap(e.key()).getLong()), IndexCodec.decodePack(e.value()));
        }
        after = page.get(page.size() - 1).key();
      }
      return out;
    });
  }

  /**
   * Enters a sealed, durable pack holding copies of chunks of pack {@code old}, points those
   * chunks at it (each only if its entry still names {@code old}) and removes {@code old}'s entry,
   * in one transaction, then syncs. The caller deletes the old file afterwards.
   */
  public void replacePack(PackNumber old, PackCommit copy) throws StoreException {
    String action = "move the live chunks of pack " + old + " to pack " + copy.pack();
    storeOnly(action, () -> write(action, tx -> {
      for (PackIndexEntry e : copy.entries()) {
        byte[] key = e.id().toBytes();
        Optional<byte[]> now = tx.get(Table.CHUNKS, key);
        if (now.isPresent() && IndexCodec.decodeLocation(now.get()).pack().equals(old)) {
          tx.put(Table.CHUNKS, key, IndexCodec.encodeLocation(ChunkLocation.of(copy.pack(), e)));
        }
      }
      tx.put(Table.PACKS, IndexCodec.packKey(copy.pack()), IndexCodec.encodePack(copy.record()));
      tx.delete(Table.PACKS, IndexCodec.packKey(old));
      long next = Math.max(readNextPack(tx), copy.pack().value() + 1);
      tx.put(Table.META, META_NEXT_PACK, ByteBuffer.allocate(8).putLong(0, next).array());
      return null;
    }));
    sync();
  }

  /** Removes a pack's entry; the caller has made sure no chunk or fossil names it. */
  public void removePack(PackNumber number) throws StoreException {
    storeOnly("remove pack " + number, () -> write("remove pack " + number, tx -> {
      tx.delete(Table.PACKS, IndexCodec.packKey(number));
      return null;
    }));
  }

  // ---------------------------------------------------------------- compaction (FORMAT.md §6.2)

  /** The index file's size and what a compaction would leave of it (reads every key's and value's length). */
  public IndexFootprint footprint() throws IOException {
    return IndexFootprint.measure(dir.resolve("data.mdb"), env, tables);
  }

  /**
   * Closes the index, first rewriting it compactly when this process wrote to it and {@link
   * #footprint} says that pays off. The copy is written beside the index, entry by entry in key
   * order, synced, and renamed over {@code data.mdb} after the environment is closed, then the
   * directory synced: a crash leaves the old index or the new one, each whole (FORMAT.md §6.2).
   * Must be called when nothing else uses the index (as {@link #close}); a write that comes
   * anyway is refused, never lost. A compaction that fails leaves the old index as it was.
   *
   * @return the footprint before, if the index was compacted
   */
  public Optional<IndexFootprint> closeCompacting() throws IOException {
    return closeCompacting(IndexFootprint::worthCompacting);
  }

  /** As {@link #closeCompacting()}, compacting when {@code when} holds for the footprint. */
  Optional<IndexFootprint> closeCompacting(Predicate<IndexFootprint> when) throws IOException {
    return closeCompacting(when, COMPACT_TXN_BYTES);
  }

  /** As {@link #closeCompacting(Predicate)}, copying about {@code txnBytes} per write transaction. */
  Optional<IndexFootprint> closeCompacting(Predicate<IndexFootprint> when, long txnBytes) throws IOException {
    writeGate.writeLock().lock();
    try {
      writesClosed = true;
      IndexFootprint before = null;
      Path copy = dir.resolve(COMPACTING);
      try {
        if (written && !rebuilding()) {
          IndexFootprint f = footprint();
          if (when.test(f)) {
            CompactCopy.write(env, tables, copy, txnBytes);
            before = f;
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("could not compact the index; it stays as it was: {}", e.toString());
        deleteQuietly(copy);
      }
      close();
      if (before == null) {
        return Optional.empty();
      }
      DurableFiles.replace(copy.resolve("data.mdb"), dir.resolve("data.mdb"));
      FileTrees.delete(copy);
      LOG.info("index compacted from {} to {} bytes", before.fileBytes(), Files.size(dir.resolve("data.mdb")));
      return Optional.of(before);
    } finally {
      writeGate.writeLock().unlock();
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      FileTrees.delete(dir);
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", dir, e.toString());
    }
  }

  /** Makes every transaction committed so far durable (mdb_env_sync). */
  public void sync() throws StoreException {
    try {
      env.sync(true);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "sync the index");
    }
  }

  /** Syncs, then closes the environment; with MDB_NOSYNC, closing alone would not make commits durable. */
  @Override
  public void close() {
    try {
      env.sync(true);
    } catch (LmdbException e) {
      // Closing must still release the environment; the commits stay in the kernel's cache.
    } finally {
      env.close();
    }
  }
}
