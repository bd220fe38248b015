package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * K-way merge of sorted runs that yields each distinct key once. The heads of the runs form a
 * binary min-heap, compared where they lie in the sort memory. The current key is copied out
 * because its run's slot may be refilled before the next key is compared with it.
 */
final class KeyMerge implements Closeable {
  private final byte[] memory;
  private final int keyLength;
  private final List<RunReader> runs;
  private final RunReader[] heap;
  private int size;
  private final byte[] current;
  private boolean started;

  /** Takes over the runs: closing the merge closes them. */
  KeyMerge(byte[] memory, int keyLength, List<RunReader> runs) throws IOException {
    this.memory = memory;
    this.keyLength = keyLength;
    this.runs = runs;
    this.heap = new RunReader[runs.size()];
    this.current = new byte[keyLength];
    for (RunReader run : runs) {
      if (run.advance()) {
        heap[size++] = run;
      }
    }
    for (int i = size / 2 - 1; i >= 0; i--) {
      siftDown(i);
    }
  }

  /** Moves to the next distinct key; false at the end. */
  boolean next() throws IOException {
    while (size > 0) {
      RunReader top = heap[0];
      int offset = top.offset();
      boolean fresh = !started || !Arrays.equals(memory, offset, offset + keyLength, current, 0, keyLength);
      if (fresh) {
        System.arraycopy(memory, offset, current, 0, keyLength);
        started = true;
      }
      if (!top.advance()) {
        heap[0] = heap[--size];
        heap[size] = null;
      }
      siftDown(0);
      if (fresh) {
        return true;
      }
    }
    return false;
  }

  /** The current key; the same array throughout, overwritten by {@link #next}. */
  byte[] current() {
    return current;
  }

  private void siftDown(int i) {
    RunReader moving = heap[i];
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && less(heap[child + 1], heap[child])) {
        child++;
      }
      if (!less(heap[child], moving)) {
        break;
      }
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = moving;
  }

  private boolean less(RunReader a, RunReader b) {
    int x = a.offset();
    int y = b.offset();
    return Arrays.compareUnsigned(memory, x, x + keyLength, memory, y, y + keyLength) < 0;
  }

  @Override
  public void close() throws IOException {
    IOException failure = null;
    for (RunReader run : runs) {
      try {
        run.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
