package io.dedupfs.store.index;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;

/** Where a chunk is stored and how: the value of the {@code chunks} table (FORMAT.md §6). */
public record ChunkLocation(
    PackNumber pack, int offset, int storedLength, int plainLength, ChunkKind kind, ChunkEncoding encoding) {
  public ChunkLocation {
    if (offset < 0 || storedLength < 0 || plainLength < 0) {
      throw new IllegalArgumentException("invalid chunk location in pack " + pack);
    }
  }

  public static ChunkLocation of(PackNumber pack, PackIndexEntry entry) {
    return new ChunkLocation(
        pack, Math.toIntExact(entry.offset()), entry.storedLength(), entry.plainLength(), entry.kind(), entry.encoding());
  }
}
