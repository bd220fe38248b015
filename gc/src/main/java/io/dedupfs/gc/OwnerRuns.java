package io.dedupfs.gc;

import io.dedupfs.gc.sort.SortedKeys;
import io.dedupfs.store.chunk.ChunkId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Sorted keys of chunk id (32 bytes) then owner (u64), read one chunk id at a time: the run of
 * keys with that id lists its owners. Asked in increasing id order, beside the index, which LMDB
 * also lists in id order.
 */
final class OwnerRuns {
  static final int KEY_LENGTH = ChunkId.LENGTH + Long.BYTES;

  private final SortedKeys keys;
  private final byte[] id = new byte[ChunkId.LENGTH];
  private long owner;
  private boolean exhausted;

  OwnerRuns(SortedKeys keys) throws IOException {
    this.keys = keys;
    advance();
  }

  static byte[] key(ChunkId id, long owner) {
    return ByteBuffer.allocate(KEY_LENGTH).put(id.toBytes()).putLong(owner).array();
  }

  /**
   * Puts the owners of {@code chunk}, in increasing order, into {@code owners} (cleared first).
   * Keys of ids below it, which no asked chunk had, are skipped.
   */
  void ownersOf(ChunkId chunk, List<Long> owners) throws IOException {
    owners.clear();
    byte[] wanted = chunk.toBytes();
    while (!exhausted && Arrays.compareUnsigned(id, wanted) < 0) {
      advance();
    }
    while (!exhausted && Arrays.equals(id, wanted)) {
      owners.add(owner);
      advance();
    }
  }

  private void advance() throws IOException {
    if (keys.next()) {
      ByteBuffer k = keys.key();
      k.get(id);
      owner = k.getLong();
    } else {
      exhausted = true;
    }
  }
}
