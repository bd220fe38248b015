package io.dedupfs.store.index;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lmdbjava.Cursor;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Dbi;
import org.lmdbjava.GetOp;
import org.lmdbjava.KeyRange;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;

/**
 * One LMDB transaction seen as byte arrays, for the store's own record codecs. Obtained from
 * {@link ChunkIndex#read} or {@link ChunkIndex#write}; valid only inside that call and on its
 * thread. Keys are compared as unsigned bytes. In an encrypted repository the live tree's entries
 * are stored sealed ({@link IndexSealing}); callers see them as written, but the entries of a
 * directory (and the xattrs of an inode) then come in the order of their names' tokens.
 */
public final class IndexTransaction {
  private static final int MAX_KEY = 511;

  /** Direct buffers for keys and values, per thread: a transaction never leaves its thread. */
  private static final ThreadLocal<ByteBuffer[]> BUFFERS =
      ThreadLocal.withInitial(() -> new ByteBuffer[] {ByteBuffer.allocateDirect(MAX_KEY), ByteBuffer.allocateDirect(256)});

  private final Txn<ByteBuffer> txn;
  private final Map<Table, Dbi<ByteBuffer>> tables;
  private final IndexSealing sealing;
  private final ByteBuffer[] buffers = BUFFERS.get();

  IndexTransaction(Txn<ByteBuffer> txn, Map<Table, Dbi<ByteBuffer>> tables, IndexSealing sealing) {
    this.txn = txn;
    this.tables = tables;
    this.sealing = sealing;
  }

  /** An entry of a scan: copies of the key and value bytes. */
  public record Entry(byte[] key, byte[] value) {}

  public Optional<byte[]> get(Table table, byte[] k) {
    byte[] stored = sealing.storedKey(table, k);
    ByteBuffer v = tables.get(table).get(txn, keyBuffer(stored));
    return v == null ? Optional.empty() : Optional.of(sealing.open(table, stored, bytes(v)).value());
  }

  public void put(Table table, byte[] k, byte[] v) {
    byte[] stored = sealing.storedKey(table, k);
    tables.get(table).put(txn, keyBuffer(stored), valueBuffer(sealing.storedValue(table, stored, k, v)));
  }

  /** Puts the entry unless the key exists; returns whether it was put. */
  public boolean putIfAbsent(Table table, byte[] k, byte[] v) {
    byte[] stored = sealing.storedKey(table, k);
    return tables.get(table).put(txn, keyBuffer(stored), valueBuffer(sealing.storedValue(table, stored, k, v)),
        PutFlags.MDB_NOOVERWRITE);
  }

  /** Deletes every entry of the table. */
  public void clear(Table table) {
    tables.get(table).drop(txn);
  }

  /** Deletes the key; returns whether it was there. */
  public boolean delete(Table table, byte[] k) {
    return tables.get(table).delete(txn, keyBuffer(sealing.storedKey(table, k)));
  }

  /**
   * Up to {@code limit} entries whose keys start with {@code prefix}, in key order, beginning
   * after the key {@code after} (or at the first such key when null).
   */
  public List<Entry> scan(Table table, byte[] prefix, byte[] after, int limit) {
    if (after == null && prefix.length == 0) {
      // LMDB refuses an empty key, even as the start of a range: the whole table from its first key.
      return scan(table, prefix, KeyRange.all(), limit);
    }
    ByteBuffer start = keyBuffer(after == null ? prefix : sealing.storedKey(table, after));
    return scan(table, prefix, after == null ? KeyRange.atLeast(start) : KeyRange.greaterThan(start), limit);
  }

  /** Up to {@code limit} entries whose keys start with {@code prefix}, from key {@code from} on (inclusive). */
  public List<Entry> scanFrom(Table table, byte[] prefix, byte[] from, int limit) {
    return scan(table, prefix, KeyRange.atLeast(keyBuffer(sealing.storedKey(table, from))), limit);
  }

  /** The entry with the greatest key at most {@code key} among keys starting with {@code prefix}. */
  public Optional<Entry> floor(Table table, byte[] prefix, byte[] key) {
    // An explicit cursor: set-range lands on the first key at least `key`; the floor is that key
    // if equal, else the one before it, or the last key of the table when none is greater.
    try (Cursor<ByteBuffer> cursor = tables.get(table).openCursor(txn)) {
      boolean positioned;
      byte[] stored = sealing.storedKey(table, key);
      if (cursor.get(keyBuffer(stored), GetOp.MDB_SET_RANGE)) {
        positioned = Arrays.equals(bytes(cursor.key()), stored) || cursor.prev();
      } else {
        positioned = cursor.last();
      }
      if (!positioned) {
        return Optional.empty();
      }
      byte[] k = bytes(cursor.key());
      if (k.length < prefix.length || !Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length)) {
        return Optional.empty();
      }
      return Optional.of(sealing.open(table, k, bytes(cursor.val())));
    }
  }

  private List<Entry> scan(Table table, byte[] prefix, KeyRange<ByteBuffer> range, int limit) {
    List<Entry> out = new ArrayList<>();
    if (limit <= 0) {
      return out;
    }
    try (CursorIterable<ByteBuffer> cursor = tables.get(table).iterate(txn, range)) {
      for (CursorIterable.KeyVal<ByteBuffer> kv : cursor) {
        byte[] k = bytes(kv.key());
        if (k.length < prefix.length || !Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length)) {
          break;
        }
        out.add(sealing.open(table, k, bytes(kv.val())));
        if (out.size() == limit) {
          break;
        }
      }
    }
    return out;
  }

  private ByteBuffer keyBuffer(byte[] k) {
    if (k.length == 0 || k.length > MAX_KEY) {
      throw new IllegalArgumentException("index keys are 1.." + MAX_KEY + " bytes, got " + k.length);
    }
    return buffers[0].clear().put(k).flip();
  }

  private ByteBuffer valueBuffer(byte[] v) {
    if (buffers[1].capacity() < v.length) {
      buffers[1] = ByteBuffer.allocateDirect(Math.max(v.length, buffers[1].capacity() * 2));
    }
    return buffers[1].clear().put(v).flip();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
