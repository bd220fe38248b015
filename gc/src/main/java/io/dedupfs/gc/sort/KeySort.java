package io.dedupfs.gc.sort;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Sorts fixed-length keys packed back to back in a buffer, in place and in unsigned byte order,
 * then squeezes out repeats. MSD radix sort (American flag sort): chunk ids are uniformly random,
 * so two counting passes split a full buffer into buckets of a few dozen keys, which insertion
 * sort finishes. Keys are swapped in place; there is no index array, and the only extra memory is
 * one table of bucket bounds per byte position.
 */
final class KeySort {
  /** Below this many keys, insertion sort is cheaper than one more counting pass over 256 buckets. */
  private static final int INSERTION_SORT_MAX = 32;

  private final ByteBuffer keys;
  private final int keyLength;
  /** bounds[depth][b] to bounds[depth][b + 1]: the keys whose byte at depth is b. */
  private final int[][] bounds;
  private final int[] next = new int[256];
  private final ByteBuffer spare;

  KeySort(ByteBuffer keys, int keyLength) {
    this.keys = keys;
    this.keyLength = keyLength;
    this.bounds = new int[keyLength][257];
    this.spare = ByteBuffer.allocate(keyLength);
  }

  /** Sorts the keys in bytes {@code [0, length)}; returns the length of the distinct keys, now at the front. */
  int sortDistinct(int length) {
    int count = length / keyLength;
    sort(0, count, 0);
    return distinct(count) * keyLength;
  }

  /** Sorts keys {@code [lo, hi)}, which agree on their first {@code depth} bytes. */
  private void sort(int lo, int hi, int depth) {
    if (hi - lo <= INSERTION_SORT_MAX) {
      insertionSort(lo, hi, depth);
      return;
    }
    if (depth == keyLength) {
      return;
    }
    int[] bound = bounds[depth];
    Arrays.fill(bound, 0);
    for (int i = lo; i < hi; i++) {
      bound[digit(i, depth) + 1]++;
    }
    bound[0] = lo;
    for (int b = 0; b < 256; b++) {
      bound[b + 1] += bound[b];
    }
    System.arraycopy(bound, 0, next, 0, 256);
    // Each key that sits in the wrong bucket is swapped into the next free place of its own.
    for (int b = 0; b < 256; b++) {
      while (next[b] < bound[b + 1]) {
        int d = digit(next[b], depth);
        if (d == b) {
          next[b]++;
        } else {
          swap(next[b], next[d]++);
        }
      }
    }
    for (int b = 0; b < 256; b++) {
      if (bound[b + 1] - bound[b] > 1) {
        sort(bound[b], bound[b + 1], depth + 1);
      }
    }
  }

  private void insertionSort(int lo, int hi, int depth) {
    for (int i = lo + 1; i < hi; i++) {
      int j = i;
      while (j > lo && KeyOrder.compare(keys, (j - 1) * keyLength, keys, i * keyLength, depth, keyLength) > 0) {
        j--;
      }
      if (j < i) {
        spare.put(0, keys, i * keyLength, keyLength);
        keys.put((j + 1) * keyLength, keys, j * keyLength, (i - j) * keyLength);
        keys.put(j * keyLength, spare, 0, keyLength);
      }
    }
  }

  /** Moves the first of each run of equal keys to the front; returns how many there are. */
  private int distinct(int count) {
    if (count == 0) {
      return 0;
    }
    int kept = 1;
    for (int i = 1; i < count; i++) {
      if (KeyOrder.compare(keys, i * keyLength, keys, (kept - 1) * keyLength, 0, keyLength) != 0) {
        if (i != kept) {
          keys.put(kept * keyLength, keys, i * keyLength, keyLength);
        }
        kept++;
      }
    }
    return kept;
  }

  private int digit(int key, int depth) {
    return keys.get(key * keyLength + depth) & 0xff;
  }

  private void swap(int a, int b) {
    spare.put(0, keys, a * keyLength, keyLength);
    keys.put(a * keyLength, keys, b * keyLength, keyLength);
    keys.put(b * keyLength, spare, 0, keyLength);
  }
}
