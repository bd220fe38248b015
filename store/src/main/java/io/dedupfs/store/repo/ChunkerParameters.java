package io.dedupfs.store.repo;

/**
 * Content-defined chunking parameters of a repository (FORMAT.md §3–4).
 *
 * @param min no cut before this many bytes
 * @param avg target average chunk size, a power of two
 * @param max cut unconditionally at this many bytes
 */
public record ChunkerParameters(int min, int avg, int max) {
  public static final int LOWEST_MIN = 1024;
  public static final int HIGHEST_MAX = 16 << 20;
  public static final ChunkerParameters DEFAULT = new ChunkerParameters(256 << 10, 1 << 20, 4 << 20);

  public ChunkerParameters {
    if (min < LOWEST_MIN || !(min < avg && avg < max) || max > HIGHEST_MAX) {
      throw new IllegalArgumentException(
          "chunk sizes must satisfy 1K <= min < avg < max <= 16M, got " + min + "," + avg + "," + max);
    }
    if (Integer.bitCount(avg) != 1) {
      throw new IllegalArgumentException("average chunk size must be a power of two, got " + avg);
    }
  }
}
