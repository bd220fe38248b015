package io.dedupfs.store.chunk;

/** How a stored chunk's bytes encode its plaintext, with its FORMAT.md code. */
public enum ChunkEncoding {
  /** The plaintext as is. */
  RAW(0),
  /** One zstd frame. */
  ZSTD(1);

  public final int code;

  ChunkEncoding(int code) {
    this.code = code;
  }

  public static ChunkEncoding fromCode(int code) {
    return switch (code) {
      case 0 -> RAW;
      case 1 -> ZSTD;
      default -> throw new IllegalArgumentException("unknown chunk encoding " + code);
    };
  }
}
