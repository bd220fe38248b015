package io.dedupfs.store.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

/**
 * The size of the index file, and what it would take rewritten in key order (FORMAT.md §6.2):
 * LMDB never shrinks its file (pages freed by copy-on-write stay in it for reuse) and a B-tree
 * filled in random key order keeps its pages partly empty, while a copy appended in key order
 * fills every page.
 */
public record IndexFootprint(long fileBytes, long compactBytes) {
  /** A compaction pays off when it frees at least this share of the file ... */
  static final double MIN_SHARE = 0.25;
  /** ... and at least this many bytes. */
  static final long MIN_BYTES = 1L << 20;

  /** What a compaction would free. */
  public long reclaimable() {
    return Math.max(0, fileBytes - compactBytes);
  }

  /** True if a compaction frees enough to pay for rewriting the file. */
  public boolean worthCompacting() {
    return reclaimable() >= MIN_BYTES && reclaimable() >= fileBytes * MIN_SHARE;
  }

  /**
   * Measures {@code file} and estimates its compact size by reading the length of every key and
   * value of {@code tables} (no value is copied): pages filled as LMDB fills them when appending.
   */
  static IndexFootprint measure(Path file, Env<ByteBuffer> env, Map<Table, Dbi<ByteBuffer>> tables)
      throws IOException {
    long fileBytes = Files.size(file);
    try (Txn<ByteBuffer> txn = env.txnRead()) {
      int pageSize = env.stat().pageSize;
      PageEstimate estimate = new PageEstimate(pageSize);
      for (Table t : Table.values()) {
        estimate.startTable();
        try (Cursor<ByteBuffer> c = tables.get(t).openCursor(txn)) {
          for (boolean more = c.first(); more; more = c.next()) {
            estimate.add(c.key().remaining(), c.val().remaining());
          }
        }
        estimate.endTable();
      }
      // Two meta pages, the main database (one leaf per few hundred tables) and the free list's root.
      return new IndexFootprint(fileBytes, (estimate.pages + 4) * pageSize);
    } catch (LmdbException e) {
      throw LmdbFailures.translate(e, "measure the index");
    }
  }

  /** Pages a B-tree appended in key order takes, as mdb_page_split and mdb_node_add lay them out. */
  private static final class PageEstimate {
    private static final int PAGE_HEADER = 16;
    private static final int NODE_HEADER = 8;
    private static final int POINTER = 2;
    private final int usable;
    private final int nodeMax;
    private final int pageSize;
    long pages;
    private long leaves;
    private int leafUsed;
    private long branchBytes;

    PageEstimate(int pageSize) {
      this.pageSize = pageSize;
      this.usable = pageSize - PAGE_HEADER;
      this.nodeMax = ((usable / 2) & -2) - POINTER;
    }

    void startTable() {
      leaves = 0;
      leafUsed = usable;  // the first entry starts a leaf
      branchBytes = 0;
    }

    void add(int key, int value) {
      int node = NODE_HEADER + key + value;
      if (node > nodeMax) {
        pages += (PAGE_HEADER - 1 + value) / pageSize + 1;  // the value goes to overflow pages
        node = NODE_HEADER + key + 8;
      }
      int cost = ((node + 1) & -2) + POINTER;
      if (leafUsed + cost > usable) {
        leaves++;
        leafUsed = 0;
        branchBytes += ((NODE_HEADER + key + 1) & -2) + POINTER;  // the leaf's first key in its parent
      }
      leafUsed += cost;
    }

    void endTable() {
      pages += leaves;
      // Branch levels above the leaves: each holds one node per page below it.
      for (long bytes = branchBytes, below = leaves; below > 1; ) {
        long level = Math.max(1, (bytes + usable - 1) / usable);
        pages += level;
        bytes = bytes * level / below;
        below = level;
      }
    }
  }
}
