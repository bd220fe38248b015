package io.dedupfs.store.chunk;

/** What a chunk holds, with its FORMAT.md code. */
public enum ChunkKind {
  /** File content. */
  DATA(0),
  /** A serialized directory of a snapshot. */
  TREE(1);

  public final int code;

  ChunkKind(int code) {
    this.code = code;
  }

  public static ChunkKind fromCode(int code) {
    return switch (code) {
      case 0 -> DATA;
      case 1 -> TREE;
      default -> throw new IllegalArgumentException("unknown chunk kind " + code);
    };
  }
}
