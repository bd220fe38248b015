package io.dedupfs.store.chunk;

/** The chunker's 256 gear values, derived from the repository's gear seed by SplitMix64 (FORMAT.md §4). */
public final class GearTable {
  private GearTable() {}

  public static long[] fromSeed(long seed) {
    long[] gear = new long[256];
    long state = seed;
    for (int i = 0; i < gear.length; i++) {
      state += 0x9E3779B97F4A7C15L;
      long z = state;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      gear[i] = z ^ (z >>> 31);
    }
    return gear;
  }
}
