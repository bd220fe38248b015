package io.dedupfs.store.repo;

/** How chunks of a repository are compressed: an algorithm and its level. */
public record Compression(Algorithm algorithm, int level) {
  public static final Compression DEFAULT = new Compression(Algorithm.ZSTD, 3);
  public static final Compression NONE = new Compression(Algorithm.NONE, 0);

  /** Algorithms with their FORMAT.md code. */
  public enum Algorithm {
    NONE(0),
    ZSTD(1);

    public final int code;

    Algorithm(int code) {
      this.code = code;
    }

    static Algorithm fromCode(int code) {
      for (Algorithm a : values()) {
        if (a.code == code) {
          return a;
        }
      }
      throw new IllegalArgumentException("unknown compression code " + code);
    }
  }

  public Compression {
    if (algorithm == Algorithm.NONE && level != 0) {
      throw new IllegalArgumentException("compression 'none' takes no level");
    }
    if (algorithm == Algorithm.ZSTD && (level < 1 || level > 22)) {
      throw new IllegalArgumentException("zstd level must be 1..22, got " + level);
    }
  }

  /**
   * How blocks of small chunks are compressed (FORMAT.md §5.1): three levels higher. Small files
   * cost FUSE requests far more than compression time, and they come one block at a time off the
   * pipeline's workers, so a block can afford what a big file's chunks, bound by zstd's speed,
   * cannot: on the kernel's small files zstd 6 stores 9.6 % less than zstd 3, at a third the speed.
   */
  public Compression forBlocks() {
    return algorithm == Algorithm.NONE ? this : new Compression(algorithm, Math.min(22, level + 3));
  }

  /** Parses the command-line form {@code zstd:LEVEL}, {@code zstd} or {@code none}. */
  public static Compression parse(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("none")) {
      return NONE;
    }
    if (t.equals("zstd")) {
      return DEFAULT;
    }
    if (t.startsWith("zstd:")) {
      try {
        return new Compression(Algorithm.ZSTD, Integer.parseInt(t.substring(5)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("zstd level must be a number: " + text);
      }
    }
    throw new IllegalArgumentException("compression must be zstd:LEVEL or none, got " + text);
  }

  @Override
  public String toString() {
    return algorithm == Algorithm.NONE ? "none" : "zstd:" + level;
  }
}
