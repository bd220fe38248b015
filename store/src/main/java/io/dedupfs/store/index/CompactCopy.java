package io.dedupfs.store.index;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.io.FileTrees;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.LmdbException;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;

/** The copy a compaction writes (FORMAT.md §6.2): every table of an index appended in key order to a new environment. */
final class CompactCopy {
  private CompactCopy() {}

  /**
   * Writes every entry of every table of {@code env} into a new environment in {@code copy}
   * (opened as the index is, with the same map size), about {@code txnBytes} of keys and values per
   * write transaction, checks the counts and syncs it. A table this dedupfs does not know stops it:
   * the copy would lose it.
   */
  static void write(Env<ByteBuffer> env, Map<Table, Dbi<ByteBuffer>> tables, Path copy, long txnBytes)
      throws IOException {
    FileTrees.delete(copy);
    Files.createDirectories(copy);
    List<byte[]> names = env.getDbiNames();
    for (byte[] name : names) {
      String s = new String(name, StandardCharsets.UTF_8);
      if (Arrays.stream(Table.values()).noneMatch(t -> t.dbName.equals(s))) {
        throw new StoreException("the index holds a table this dedupfs does not know: " + s);
      }
    }
    try (Env<ByteBuffer> target = ChunkIndex.environment(copy, env.info().mapSize);
        Txn<ByteBuffer> source = env.txnRead()) {
      for (Table t : Table.values()) {
        Dbi<ByteBuffer> from = tables.get(t);
        Dbi<ByteBuffer> to = target.openDbi(t.dbName, DbiFlags.MDB_CREATE);
        long copied = 0;
        try (Cursor<ByteBuffer> c = from.openCursor(source)) {
          boolean more = c.first();
          while (more) {
            try (Txn<ByteBuffer> txn = target.txnWrite()) {
              for (long bytes = 0; more && bytes < txnBytes; copied++) {
                // In key order, so each entry is appended: every leaf is filled before the next is begun.
                bytes += c.key().remaining() + c.val().remaining();
                to.put(txn, c.key(), c.val(), PutFlags.MDB_APPEND);
                more = c.next();
              }
              txn.commit();
            }
          }
        }
        long expected = from.stat(source).entries;
        try (Txn<ByteBuffer> check = target.txnRead()) {
          long entries = to.stat(check).entries;
          if (copied != expected || entries != expected) {
            throw new StoreException("compacting table " + t.dbName + " copied " + copied + " of " + expected
                + " entries (the copy holds " + entries + ")");
          }
        }
      }
      target.sync(true);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "write a compact copy of the index");
    }
  }
}
