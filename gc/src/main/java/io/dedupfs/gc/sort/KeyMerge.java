package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * K-way merge of sorted runs that yields each distinct key once. The heads of the runs form a
 * binary min-heap, compared where they lie in the sort memory. The current key is copied out
 * because its run's slot may be refilled before the next key is compared with it.
 */
final class KeyMerge implements Closeable {
  private final ByteBuffer memory;
  private final int keyLength;
  private final List<RunReader> runs;
  private final RunReader[] heap;
  private int size;
  private final ByteBuffer current;
  private boolean started;

  private KeyMerge(ByteBuffer memory, int keyLength, List<RunReader> runs) throws IOException {
    this.memory = memory;
    this.keyLength = keyLength;
    this.runs = runs;
    this.heap = new RunReader[runs.size()];
    this.current = ByteBuffer.allocate(keyLength);
    for (RunReader run : runs) {
      if (run.advance()) {
        heap[size++] = run;
      }
    }
    for (int i = size / 2 - 1; i >= 0; i--) {
      siftDown(i);
    }
  }

  /** Merges run files, each read through its own slot: the i-th {@code slotLength} bytes of the memory. */
  static KeyMerge open(List<Path> files, ByteBuffer memory, int slotLength, int keyLength) throws IOException {
    List<RunReader> runs = new ArrayList<>(files.size());
    try {
      for (Path file : files) {
        runs.add(RunReader.open(file, memory, runs.size() * slotLength, slotLength, keyLength));
      }
      return new KeyMerge(memory, keyLength, runs);
    } catch (IOException | RuntimeException e) {
      try {
        closeAll(runs);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** The keys already sorted in bytes {@code [0, length)} of the memory. */
  static KeyMerge inMemory(ByteBuffer memory, int length, int keyLength) throws IOException {
    return new KeyMerge(memory, keyLength, List.of(RunReader.inMemory(length, keyLength)));
  }

  /** Moves to the next distinct key; false at the end. */
  boolean next() throws IOException {
    while (size > 0) {
      RunReader top = heap[0];
      int offset = top.offset();
      boolean fresh = !started || KeyOrder.compare(memory, offset, current, 0, 0, keyLength) != 0;
      if (fresh) {
        current.put(0, memory, offset, keyLength);
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

  /** The current key; the same buffer throughout, overwritten by {@link #next}. */
  ByteBuffer current() {
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
    return KeyOrder.compare(memory, a.offset(), memory, b.offset(), 0, keyLength) < 0;
  }

  @Override
  public void close() throws IOException {
    closeAll(runs);
  }

  /** Closes every run even if one fails to; throws the first failure, with the others suppressed. */
  private static void closeAll(List<RunReader> runs) throws IOException {
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
