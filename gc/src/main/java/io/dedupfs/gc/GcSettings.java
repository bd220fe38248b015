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
 * @param share the fraction of time the collector may work ({@link Pacer}): 1 when asked for
 *     (dedupfs gc, prune), less when the mounted process collects in the background
 */
public record GcSettings(long memoryBytes, Path tempDirectory, int batch, double rewriteBelow, double share) {
  public static final long DEFAULT_MEMORY = 64L << 20;
  public static final int DEFAULT_BATCH = 4096;
  public static final double DEFAULT_REWRITE_BELOW = 0.5;
  /** A background collection works a quarter of the time, so ingest keeps most of the machine. */
  public static final double BACKGROUND_SHARE = 0.25;

  public GcSettings {
    if (memoryBytes < (1 << 20)) {
      throw new IllegalArgumentException("--gc-memory must be at least 1M, got " + memoryBytes + " bytes");
    }
    if (batch <= 0 || rewriteBelow < 0 || rewriteBelow > 1 || !(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("invalid collector settings: batch " + batch + ", rewrite below " + rewriteBelow
          + ", share " + share);
    }
  }

  public static GcSettings defaults(Path repository) {
    return new GcSettings(DEFAULT_MEMORY, repository, DEFAULT_BATCH, DEFAULT_REWRITE_BELOW, 1.0);
  }

  public GcSettings withMemory(long bytes) {
    return new GcSettings(bytes, tempDirectory, batch, rewriteBelow, share);
  }

  public GcSettings withShare(double fraction) {
    return new GcSettings(memoryBytes, tempDirectory, batch, rewriteBelow, fraction);
  }
}
