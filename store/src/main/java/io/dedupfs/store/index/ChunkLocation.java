package io.dedupfs.store.index;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;

/**
 * Where a chunk is stored and how: the value of the {@code chunks} table (FORMAT.md §6). For a
 * block member (§5.1) {@code offset} and {@code storedLength} are the block's, {@code
 * offsetInBlock} where the chunk starts in the decoded block, and {@code storedShare} its part of
 * the block's stored bytes; a chunk stored alone has 0 and its stored length.
 */
public record ChunkLocation(PackNumber pack, int offset, int storedLength, int plainLength, ChunkKind kind,
    ChunkEncoding encoding, int offsetInBlock, int storedShare) {
  public ChunkLocation {
    if (offset < 0 || storedLength < 0 || plainLength < 0 || offsetInBlock < 0 || storedShare < 0
        || storedShare > storedLength
        || (encoding != ChunkEncoding.BLOCK && (offsetInBlock != 0 || storedShare != storedLength))) {
      throw new IllegalArgumentException("invalid chunk location in pack " + pack);
    }
  }

  /** A chunk stored alone. */
  public ChunkLocation(PackNumber pack, int offset, int storedLength, int plainLength, ChunkKind kind,
      ChunkEncoding encoding) {
    this(pack, offset, storedLength, plainLength, kind, encoding, 0, storedLength);
  }

  public static ChunkLocation of(PackNumber pack, PackIndexEntry entry) {
    return new ChunkLocation(pack, Math.toIntExact(entry.offset()), entry.storedLength(), entry.plainLength(),
        entry.kind(), entry.encoding(), entry.offsetInBlock(), entry.storedShare());
  }

  /** Whether the chunk shares its stored bytes with other chunks of its block. */
  public boolean inBlock() {
    return encoding == ChunkEncoding.BLOCK;
  }
}
