package io.dedupfs.gc.sort;

import java.nio.ByteBuffer;

/** Unsigned byte order of keys held in big-endian buffers, compared eight bytes at a time. */
final class KeyOrder {
  private KeyOrder() {}

  /**
   * Compares bytes {@code [from, keyLength)} of the key at {@code a[x]} with those of the key at
   * {@code b[y]}. Big-endian longs compared unsigned order as their bytes do.
   */
  static int compare(ByteBuffer a, int x, ByteBuffer b, int y, int from, int keyLength) {
    int i = from;
    for (; i + Long.BYTES <= keyLength; i += Long.BYTES) {
      long p = a.getLong(x + i);
      long q = b.getLong(y + i);
      if (p != q) {
        return Long.compareUnsigned(p, q);
      }
    }
    for (; i < keyLength; i++) {
      int d = (a.get(x + i) & 0xff) - (b.get(y + i) & 0xff);
      if (d != 0) {
        return d;
      }
    }
    return 0;
  }
}
