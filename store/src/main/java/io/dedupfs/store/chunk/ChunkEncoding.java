package io.dedupfs.store.chunk;

/** How a stored chunk's bytes encode its plaintext, with its FORMAT.md code. */
public enum ChunkEncoding {
  /** The plaintext as is. */
  RAW(0),
  /** One zstd frame. */
  ZSTD(1),
  /** A member of a block: small chunks compressed together as one zstd frame (FORMAT.md §5.1). */
  BLOCK(2);

  public final int code;

  ChunkEncoding(int code) {
    this.code = code;
  }

  public static ChunkEncoding fromCode(int code) {
    return switch (code) {
      case 0 -> RAW;
      case 1 -> ZSTD;
      case 2 -> BLOCK;
      default -> throw new IllegalArgumentException("unknown chunk encoding " + code);
    };
  }
}
