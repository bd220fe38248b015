package io.dedupfs.store.namespace;

import io.dedupfs.store.chunk.ChunkId;

/** {@code length} bytes of a file at {@code fileOffset}, stored in {@code chunk} from {@code chunkOffset} (FORMAT.md §6.1). */
public record Extent(long fileOffset, ChunkId chunk, int chunkOffset, int length) {
  public Extent {
    if (fileOffset < 0 || chunkOffset < 0 || length <= 0) {
      throw new IllegalArgumentException("invalid extent at " + fileOffset + ": chunk offset " + chunkOffset
          + ", length " + length);
    }
  }

  /** The file offset just past this extent. */
  public long end() {
    return fileOffset + length;
  }

  /** The part of this extent within {@code [from, to)}, which must overlap it. */
  public Extent clip(long from, long to) {
    long start = Math.max(from, fileOffset);
    long stop = Math.min(to, end());
    return new Extent(start, chunk, chunkOffset + (int) (start - fileOffset), (int) (stop - start));
  }
}
