package io.dedupfs.gc;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.Table;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The last collection that finished, as {@code dedupfs stats} shows it: kept in the index's
 * {@code meta} table under {@code gc-last} (FORMAT.md §6).
 */
public record LastCollection(Instant finished, Duration took, boolean background, long chunksFreed, long bytesFreed,
    long packsDeleted, long packsRewritten, long bytesOnDiskFreed) {
  private static final byte[] KEY = "gc-last".getBytes(StandardCharsets.US_ASCII);
  private static final int LENGTH = 57;

  static LastCollection of(GcReport r, Instant finished, Duration took, boolean background) {
    return new LastCollection(finished, took, background, r.chunksFreed(), r.bytesFreed(),
        r.packsDeleted() + r.orphanPacksDeleted(), r.packsRewritten(), r.bytesOnDiskFreed());
  }

  void save(ChunkIndex index) throws IOException {
    byte[] v = ByteBuffer.allocate(LENGTH).putLong(finished.toEpochMilli()).putLong(took.toNanos())
        .put((byte) (background ? 1 : 0)).putLong(chunksFreed).putLong(bytesFreed).putLong(packsDeleted)
        .putLong(packsRewritten).putLong(bytesOnDiskFreed).array();
    index.write(tx -> {
      tx.put(Table.META, KEY, v);
      return null;
    });
  }

  /** The last collection recorded in {@code index}, if any finished. */
  public static Optional<LastCollection> of(ChunkIndex index) throws IOException {
    byte[] v = index.read(tx -> tx.get(Table.META, KEY).orElse(null));
    if (v == null) {
      return Optional.empty();
    }
    if (v.length != LENGTH) {
      throw new CorruptDataException("index: gc-last has " + v.length + " bytes, expected " + LENGTH);
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    return Optional.of(new LastCollection(Instant.ofEpochMilli(b.getLong()), Duration.ofNanos(b.getLong()),
        b.get() != 0, b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong()));
  }
}
