package io.dedupfs.gc;

import java.nio.file.Path;

/**
 * The collector's safety and cost parameters, in one place.
 *
 * @param memoryBytes memory of the external sort of referenced ids ({@code --gc-memory}); what
 *     the collector's own memory is bounded by, whatever the number of chunks
 * @param tempDirectory where the sort spills its runs (the repository's disk, by default)
 * @param batch chunk entries read, set aside or buried per index transaction: transactions stay
 *     short so that the live tree's writers, which share LMDB's one writer lock, barely wait
 * @param rewriteBelow a pack whose live stored bytes fall below this fraction of its stored
 *     bytes is rewritten: copying its live half costs about what it gives back, and a pack more
 *     alive than that would be copied again and again for little
 */
public record GcSettings(long memoryBytes, Path tempDirectory, int batch, double rewriteBelow) {
  public static final long DEFAULT_MEMORY = 64L << 20;
  public static final int DEFAULT_BATCH = 4096;
  public static final double DEFAULT_REWRITE_BELOW = 0.5;

  public GcSettings {
    if (memoryBytes < (1 << 20)) {
      throw new IllegalArgumentException("--gc-memory must be at least 1M, got " + memoryBytes + " bytes");
    }
    if (batch <= 0 || rewriteBelow < 0 || rewriteBelow > 1) {
      throw new IllegalArgumentException("invalid collector settings: batch " + batch + ", rewrite below " + rewriteBelow);
    }
  }

  public static GcSettings defaults(Path repository) {
    return new GcSettings(DEFAULT_MEMORY, repository, DEFAULT_BATCH, DEFAULT_REWRITE_BELOW);
  }

  public GcSettings withMemory(long bytes) {
    return new GcSettings(bytes, tempDirectory, batch, rewriteBelow);
  }
}
