package io.dedupfs.store.chunk;

import io.dedupfs.store.repo.ChunkerParameters;
import java.nio.ByteBuffer;

/**
 * FastCDC-style content-defined chunker with normalized chunking (FORMAT.md §4). It is fed a
 * stream in pieces of any size and says where the current chunk ends; it keeps only the rolling
 * hash and the length of the chunk so far, never the bytes. One per stream; not thread-safe.
 */
public final class Chunker {
  /** Returned by {@link #scan} when the piece holds no cut point. */
  public static final int NO_CUT = -1;

  private final long[] gear;
  private final int min;
  private final int avg;
  private final int max;
  private final long maskSmall;
  private final long maskLarge;
  private long hash;
  private int length;

  /**
   * @param gear the repository's gear table; shared by every chunker of the repository and not
   *     copied (a stream may be short-lived and thousands wait for their pack at once), so it must
   *     not be modified
   */
  public Chunker(ChunkerParameters parameters, long[] gear) {
    if (gear.length != 256) {
      throw new IllegalArgumentException("gear table must have 256 entries");
    }
    this.gear = gear;
    this.min = parameters.min();
    this.avg = parameters.avg();
    this.max = parameters.max();
    int bits = Integer.numberOfTrailingZeros(avg);
    this.maskSmall = topBits(bits + 2);
    this.maskLarge = topBits(bits - 2);
  }

  private static long topBits(int n) {
    return -1L << (64 - n);
  }

  /** Bytes of the current chunk seen so far. */
  public int currentLength() {
    return length;
  }

  /**
   * Feeds {@code buffer[from, to)} as the next bytes of the stream.
   *
   * @return the number of bytes of this piece that complete the current chunk (the chunker is
   *     then reset for the next one), or {@link #NO_CUT} if the whole piece belongs to it
   */
  public int scan(ByteBuffer buffer, int from, int to) {
    // The chunk already holds `length` bytes, so the byte at buffer index j is chunk byte base + j.
    int base = length - from;
    int j = Math.max(from, min - base);
    if (j >= to) {
      length = base + to;
      return NO_CUT;
    }
    long h = hash;
    // Two loops instead of a per-byte choice of mask: the cut test is the hot path of ingest.
    int smallEnd = Math.min(to, avg - base);
    for (; j < smallEnd; j++) {
      h = (h << 1) + gear[buffer.get(j) & 0xff];
      if ((h & maskSmall) == 0) {
        return cut(j + 1 - from);
      }
    }
    int largeEnd = Math.min(to, max - base);
    for (; j < largeEnd; j++) {
      h = (h << 1) + gear[buffer.get(j) & 0xff];
      if ((h & maskLarge) == 0) {
        return cut(j + 1 - from);
      }
    }
    if (base + j == max) {
      return cut(j - from);
    }
    hash = h;
    length = base + to;
    return NO_CUT;
  }

  /** Forgets the current chunk: the next byte fed starts a new one. */
  public void reset() {
    cut(0);
  }

  private int cut(int consumed) {
    hash = 0;
    length = 0;
    return consumed;
  }
}
