package io.dedupfs.store.pack;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;

/**
 * One chunk as listed in a pack's PackIndex (FORMAT.md §5). A block member (§5.1) names its
 * block's offset and stored length, where its plaintext starts in the decoded block, and its share
 * of the block's stored bytes; a chunk stored alone has offset in block 0 and its whole stored
 * length as its share.
 */
public record PackIndexEntry(ChunkId id, long offset, int storedLength, int plainLength, ChunkKind kind,
    ChunkEncoding encoding, int offsetInBlock, int storedShare) {
  public PackIndexEntry {
    if (offset < PackCodec.HEADER_LENGTH || storedLength < 0 || plainLength < 0 || offsetInBlock < 0
        || storedShare < 0 || storedShare > storedLength
        || (encoding != ChunkEncoding.BLOCK && (offsetInBlock != 0 || storedShare != storedLength))) {
      throw new IllegalArgumentException("invalid pack index entry for chunk " + id);
    }
  }

  /** A chunk stored alone. */
  public PackIndexEntry(ChunkId id, long offset, int storedLength, int plainLength, ChunkKind kind, ChunkEncoding encoding) {
    this(id, offset, storedLength, plainLength, kind, encoding, 0, storedLength);
  }
}
