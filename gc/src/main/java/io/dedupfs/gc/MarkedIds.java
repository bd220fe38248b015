package io.dedupfs.gc;

import io.dedupfs.gc.sort.ExternalSorter;
import io.dedupfs.gc.sort.SortedKeys;
import io.dedupfs.store.chunk.ChunkId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The referenced chunk ids of one mark, sorted, asked about in increasing order: the merge join
 * of the sweep walks them once, beside the index, which LMDB also lists in id order.
 */
final class MarkedIds implements AutoCloseable {
  private final ExternalSorter sorter;
  private final SortedKeys keys;
  private final long count;
  private final byte[] current = new byte[ChunkId.LENGTH];
  private boolean exhausted;
  private boolean started;

  /** The sorted output of {@code sorter}, which this closes (freeing its buffer and run files). */
  MarkedIds(ExternalSorter sorter, long count) throws IOException {
    this.sorter = sorter;
    this.keys = sorter.finish();
    this.count = count;
  }

  /** References emitted by the mark, repeats included. */
  long count() {
    return count;
  }

  /** Whether {@code id} was marked; ids must be asked about in increasing order. */
  boolean contains(ChunkId id) throws IOException {
    byte[] wanted = id.toBytes();
    if (!started) {
      started = true;
      advance();
    }
    while (!exhausted && Arrays.compareUnsigned(current, wanted) < 0) {
      advance();
    }
    return !exhausted && Arrays.equals(current, wanted);
  }

  /** The next marked id in order, or null after the last (not to be mixed with {@link #contains}). */
  ChunkId next() throws IOException {
    if (!keys.next()) {
      return null;
    }
    return ChunkId.read(keys.key());
  }

  private void advance() throws IOException {
    if (keys.next()) {
      ByteBuffer k = keys.key();
      k.get(current);
    } else {
      exhausted = true;
    }
  }

  @Override
  public void close() throws IOException {
    sorter.close();
  }
}
