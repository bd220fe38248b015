package io.dedupfs.store.index;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkId;
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
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

/**
 * The LMDB index of a repository (FORMAT.md §6): chunk id → location, the pack table and metadata.
 * Thread-safe: any thread may look up; writes should come from one thread ({@link IndexWriter})
 * since LMDB serializes write transactions anyway. Transactions are short and never span I/O.
 */
public final class ChunkIndex implements AutoCloseable {
  public static final int SCHEMA_VERSION = 1;
  /** Address space reserved for the map; the file grows only as pages are written. */
  public static final long DEFAULT_MAP_SIZE = 64L << 30;

  private static final String META_SCHEMA = "schema";
  private static final String META_REPOSITORY_ID = "repository-id";
  private static final String META_NEXT_PACK = "next-pack";
  private static final int MAX_READERS = 1024;

  private final Env<ByteBuffer> env;
  private final Dbi<ByteBuffer> chunks;
  private final Dbi<ByteBuffer> packs;
  private final Dbi<ByteBuffer> meta;
  private final Map<Table, Dbi<ByteBuffer>> tables = new EnumMap<>(Table.class);
  private final ThreadLocal<ByteBuffer> keyBuffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64));
  private final ThreadLocal<ByteBuffer> valueBuffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64));

  private ChunkIndex(Env<ByteBuffer> env) {
    this.env = env;
    this.chunks = env.openDbi("chunks", DbiFlags.MDB_CREATE);
    this.packs = env.openDbi("packs", DbiFlags.MDB_CREATE);
    this.meta = env.openDbi("meta", DbiFlags.MDB_CREATE);
    for (Table t : Table.values()) {
      tables.put(t, t == Table.META ? meta : env.openDbi(t.dbName, DbiFlags.MDB_CREATE));
    }
  }

  /** The body of a transaction over the byte-level tables. */
  public interface TransactionBody<T> {
    T run(IndexTransaction tx) throws IOException;
  }

  /** Runs {@code body} in a read transaction. */
  public <T> T read(TransactionBody<T> body) throws IOException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      return body.run(new IndexTransaction(txn, tables));
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "read the index");
    }
  }

  /** Runs {@code body} in a write transaction, committed if it returns and aborted if it throws. */
  public <T> T write(TransactionBody<T> body) throws IOException {
    try (Txn<ByteBuffer> txn = env.txnWrite()) {
      T result = body.run(new IndexTransaction(txn, tables));
      txn.commit();
      return result;
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "write the index");
    }
  }

  /** True if {@code dir} holds an index environment. */
  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve("data.mdb"));
  }

  /** Creates a new, empty index for the repository. */
  public static ChunkIndex create(Path dir, byte[] repositoryId, long mapSize) throws IOException {
    if (exists(dir)) {
      throw new StoreException("an index already exists in " + dir);
    }
    Files.createDirectories(dir);
    ChunkIndex index = openEnv(dir, mapSize);
    try {
      index.inWriteTxn("initialize the index", txn -> {
        index.putMeta(txn, META_SCHEMA, ByteBuffer.allocate(4).putInt(0, SCHEMA_VERSION));
        index.putMeta(txn, META_REPOSITORY_ID, ByteBuffer.wrap(repositoryId));
        index.putMeta(txn, META_NEXT_PACK, ByteBuffer.allocate(8).putLong(0, 1));
      });
    } catch (IOException | RuntimeException e) {
      index.close();
      throw e;
    }
    return index;
  }

  /** Opens an existing index, checking its schema version and that it belongs to this repository. */
  public static ChunkIndex open(Path dir, byte[] repositoryId, long mapSize) throws IOException {
    if (!exists(dir)) {
      throw new StoreException("no index in " + dir);
    }
    ChunkIndex index = openEnv(dir, mapSize);
    try {
      index.verifyMeta(repositoryId);
    } catch (IOException | RuntimeException e) {
      index.close();
      throw e;
    }
    return index;
  }

  private static ChunkIndex openEnv(Path dir, long mapSize) throws StoreException {
    try {
      Env<ByteBuffer> env = Env.create()
          .setMapSize(mapSize)
          .setMaxDbs(16)
          .setMaxReaders(MAX_READERS)
          // NOTLS: read transactions are not tied to threads, so FUSE and worker threads can share them.
          .open(dir.toFile(), EnvFlags.MDB_NOTLS);
      return new ChunkIndex(env);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "open " + dir);
    }
  }

  private void verifyMeta(byte[] repositoryId) throws IOException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      ByteBuffer schema = meta.get(txn, metaKey(META_SCHEMA));
      if (schema == null || schema.remaining() != 4) {
        throw new CorruptDataException("index has no schema version");
      }
      int version = schema.getInt(schema.position());
      if (version != SCHEMA_VERSION) {
        throw new FormatVersionException("index schema version " + version + " is not supported (this dedupfs reads "
            + SCHEMA_VERSION + ")");
      }
      ByteBuffer id = meta.get(txn, metaKey(META_REPOSITORY_ID));
      byte[] stored = new byte[id == null ? 0 : id.remaining()];
      if (id != null) {
        id.get(stored);
      }
      if (!Arrays.equals(stored, repositoryId)) {
        throw new CorruptDataException("index belongs to repository " + HexFormat.of().formatHex(stored)
            + ", not to this one (" + HexFormat.of().formatHex(repositoryId) + ")");
      }
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "read the index metadata");
    }
  }

  /** The location of a chunk, if the index has it. */
  public Optional<ChunkLocation> find(ChunkId id) throws StoreException {
    return get(chunks, chunkKey(id), IndexCodec::decodeLocation, "look up chunk " + id);
  }

  public Optional<PackRecord> findPack(PackNumber number) throws StoreException {
    return get(packs, packKey(number), IndexCodec::decodePack, "look up pack " + number);
  }

  private interface ValueDecoder<T> {
    T decode(ByteBuffer value) throws CorruptDataException;
  }

  /** One key in a short read transaction, decoded before the transaction ends (LMDB values live in the map). */
  private <T> Optional<T> get(Dbi<ByteBuffer> table, ByteBuffer key, ValueDecoder<T> decoder, String action)
      throws StoreException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      ByteBuffer v = table.get(txn, key);
      return v == null ? Optional.empty() : Optional.of(decoder.decode(v));
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, action);
    }
  }

  /** Every pack number named in the index is below this. */
  public long nextPackNumber() throws StoreException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      ByteBuffer v = meta.get(txn, metaKey(META_NEXT_PACK));
      return v == null ? 1 : v.getLong(v.position());
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "read the next pack number");
    }
  }

  /** Numbers of entries in the chunk and pack tables. */
  public Counts counts() throws StoreException {
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      return new Counts(chunks.stat(txn).entries, packs.stat(txn).entries);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "count index entries");
    }
  }

  /** Entry counts of the index tables. */
  public record Counts(long chunks, long packs) {}

  /**
   * Enters sealed, durable packs and their chunks in one transaction (FORMAT.md §8, invariants 1
   * and 2). A chunk already indexed keeps its first location.
   */
  public void commit(List<PackCommit> commits) throws StoreException {
    inWriteTxn("commit " + commits.size() + " packs", txn -> {
      long next = readNextPack(txn);
      ByteBuffer value = valueBuffer.get();
      for (PackCommit c : commits) {
        for (PackIndexEntry e : c.entries()) {
          value.clear();
          IndexCodec.encodeLocation(ChunkLocation.of(c.pack(), e), value);
          chunks.put(txn, chunkKey(e.id()), value, org.lmdbjava.PutFlags.MDB_NOOVERWRITE);
        }
        value.clear();
        IndexCodec.encodePack(c.record(), value);
        packs.put(txn, packKey(c.pack()), value);
        next = Math.max(next, c.pack().value() + 1);
      }
      putMeta(txn, META_NEXT_PACK, ByteBuffer.allocate(8).putLong(0, next));
    });
  }

  private long readNextPack(Txn<ByteBuffer> txn) {
    ByteBuffer v = meta.get(txn, metaKey(META_NEXT_PACK));
    return v == null ? 1 : v.getLong(v.position());
  }

  private interface WriteAction {
    void run(Txn<ByteBuffer> txn) throws StoreException;
  }

  private void inWriteTxn(String action, WriteAction body) throws StoreException {
    try (Txn<ByteBuffer> txn = env.txnWrite()) {
      body.run(txn);
      txn.commit();
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, action);
    }
  }

  private void putMeta(Txn<ByteBuffer> txn, String name, ByteBuffer heapValue) {
    ByteBuffer v = ByteBuffer.allocateDirect(heapValue.remaining());
    v.put(heapValue.duplicate()).flip();
    meta.put(txn, metaKey(name), v);
  }

  private ByteBuffer chunkKey(ChunkId id) {
    ByteBuffer key = keyBuffer.get().clear();
    id.writeTo(key);
    return key.flip();
  }

  private ByteBuffer packKey(PackNumber number) {
    ByteBuffer key = keyBuffer.get().clear();
    return key.putLong(number.value()).flip();
  }

  private static ByteBuffer metaKey(String name) {
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
  }

  @Override
  public void close() {
    env.close();
  }
}
