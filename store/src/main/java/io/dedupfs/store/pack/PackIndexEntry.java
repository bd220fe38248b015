package io.dedupfs.store.pack;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;

/** One chunk as listed in a pack's PackIndex (FORMAT.md §5). */
public record PackIndexEntry(
    ChunkId id, long offset, int storedLength, int plainLength, ChunkKind kind, ChunkEncoding encoding) {
  public PackIndexEntry {
    if (offset < PackCodec.HEADER_LENGTH || storedLength < 0 || plainLength < 0) {
      throw new IllegalArgumentException("invalid pack index entry for chunk " + id);
    }
  }
}
