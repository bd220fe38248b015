package io.dedupfs.gc.sort;

import io.dedupfs.store.io.DirectBuffers;
import io.dedupfs.store.io.FileTrees;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Sorts fixed-length keys in a fixed memory budget and hands back each distinct key once, in
 * unsigned byte order.
 *
 * <p>All keys pass through one direct buffer of the budget's size, allocated up front. While keys
 * are added it holds them packed back to back; each time it is full it is sorted in place, repeats
 * are removed and it is written out as a run file. {@link #finish} then splits the same buffer into
 * one read buffer per run and merges the runs; when there are more runs than read buffers of a
 * useful size, groups of runs are first merged into longer runs. Input that fits the buffer is never
 * written. Memory is the budget plus a constant; only the list of run file names grows, by one name
 * per budget's worth of keys.
 *
 * <p>Not thread-safe. Use: {@code add} every key, {@code finish} once, read the {@link SortedKeys},
 * close both. Closing the sorter deletes the run files and frees the buffer, also after a failure.
 */
public final class ExternalSorter implements AutoCloseable {
  public static final long DEFAULT_BUDGET = 64L << 20;
  public static final long MIN_BUDGET = 1L << 20;
  /** The buffer is int-indexed; and at this budget one merge already covers 256 runs of 32 Mi chunk ids. */
  public static final long MAX_BUDGET = 1L << 30;
  public static final int MAX_KEY_LENGTH = 64;
  /** Smallest read buffer per run in a merge; smaller reads from many files at once turn into seeks. */
  static final int MIN_RUN_BUFFER = 64 << 10;
  /** Most runs merged at once: each holds a file descriptor, next to the many of a mounted repository. */
  static final int MAX_FAN_IN = 256;

  private final int keyLength;
  private final ByteBuffer memory;
  private final KeySort sort;
  private final RunFiles runFiles;
  /** Most runs in the final merge, which reads through every slot of the memory. */
  private final int finalFanIn;
  /** Most runs in an intermediate merge, which keeps one slot to write its output through. */
  private final int groupFanIn;
  private int filled;
  private List<Path> runs = new ArrayList<>();
  private int spilledRuns;
  private int mergePasses;
  private boolean adding = true;
  private boolean closed;
  private SortedKeys keys;

  /**
   * @param keyLength bytes per key, 1 to {@value #MAX_KEY_LENGTH}
   * @param budgetBytes memory for keys, {@link #MIN_BUDGET} to {@link #MAX_BUDGET}
   * @param tempDirectory where a private directory for run files is created if the keys do not fit
   */
  public ExternalSorter(int keyLength, long budgetBytes, Path tempDirectory) {
    this(keyLength, checkBudget(budgetBytes), tempDirectory, MIN_RUN_BUFFER);
  }

  /** Any budget with room for three read buffers, so that tests can force many runs and passes. */
  ExternalSorter(int keyLength, long budgetBytes, Path tempDirectory, int minRunBuffer) {
    if (keyLength < 1 || keyLength > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException("key length must be 1 to " + MAX_KEY_LENGTH + ", got " + keyLength);
    }
    if (budgetBytes > MAX_BUDGET) {
      throw new IllegalArgumentException("a budget of " + budgetBytes + " bytes is over the maximum");
    }
    int capacity = (int) (budgetBytes / keyLength * keyLength);
    int slots = capacity / roundUp(minRunBuffer, keyLength);
    if (slots < 3) {
      throw new IllegalArgumentException("a budget of " + budgetBytes + " bytes leaves no room to merge");
    }
    this.keyLength = keyLength;
    this.finalFanIn = Math.min(MAX_FAN_IN, slots);
    this.groupFanIn = Math.min(MAX_FAN_IN, slots - 1);
    this.runFiles = new RunFiles(tempDirectory);
    // Off the heap, like the ingest buffers: the heap holds metadata only, and close() frees it at once.
    this.memory = ByteBuffer.allocateDirect(capacity);
    this.sort = new KeySort(memory, keyLength);
  }

  private static long checkBudget(long bytes) {
    if (bytes < MIN_BUDGET || bytes > MAX_BUDGET) {
      throw new IllegalArgumentException(
          "gc memory must be " + (MIN_BUDGET >> 20) + " MiB to " + (MAX_BUDGET >> 20) + " MiB, got " + bytes + " bytes");
    }
    return bytes;
  }

  /** Adds a key of exactly the key length. */
  public void add(byte[] key) throws IOException {
    if (key.length != keyLength) {
      throw new IllegalArgumentException("key must be " + keyLength + " bytes, got " + key.length);
    }
    memory.put(freeOffset(), key);
    filled += keyLength;
  }

  /** Adds the key-length bytes at the buffer's position, advancing it. */
  public void add(ByteBuffer key) throws IOException {
    if (key.remaining() < keyLength) {
      throw new BufferUnderflowException();
    }
    memory.put(freeOffset(), key, key.position(), keyLength);
    key.position(key.position() + keyLength);
    filled += keyLength;
  }

  /** Where the next key goes, after spilling the buffer if it is full. */
  private int freeOffset() throws IOException {
    if (!adding) {
      throw new IllegalStateException("keys can no longer be added: the sort finished, failed or was closed");
    }
    if (filled == memory.capacity()) {
      // Cleared while spilling so that a failed spill leaves a sorter that refuses more keys.
      adding = false;
      spill();
      adding = true;
    }
    return filled;
  }

  private void spill() throws IOException {
    int length = sort.sortDistinct(filled);
    Path run = runFiles.next();
    runs.add(run);
    RunWriter.write(run, memory, 0, length);
    filled = 0;
    spilledRuns++;
  }

  /**
   * Deletes the run directories a sorter killed before closing left in {@code tempDirectory}. Only
   * while no sorter uses that directory.
   */
  public static void deleteLeftovers(Path tempDirectory) throws IOException {
    try (var dirs = Files.newDirectoryStream(tempDirectory, RunFiles.PREFIX + "*")) {
      for (Path dir : dirs) {
        FileTrees.delete(dir);
      }
    }
  }

  /**
   * Ends the input and returns the distinct keys in order. Merges runs as needed first, so this may
   * take a while on a large input.
   */
  public SortedKeys finish() throws IOException {
    if (!adding) {
      throw new IllegalStateException("finish() may be called once, on a sorter that has not failed or been closed");
    }
    adding = false;
    if (runs.isEmpty()) {
      int length = sort.sortDistinct(filled);
      keys = new SortedKeys(KeyMerge.inMemory(memory, length, keyLength), runFiles);
      return keys;
    }
    if (filled > 0) {
      spill();
    }
    while (runs.size() > finalFanIn) {
      mergePass();
    }
    keys = new SortedKeys(KeyMerge.open(runs, memory, slotLength(runs.size()), keyLength), runFiles);
    mergePasses++;
    return keys;
  }

  /**
   * One pass that merges groups of runs until the rest fits the final merge. It merges no more runs
   * than that takes: each group of n runs makes n - 1 fewer.
   */
  private void mergePass() throws IOException {
    List<Path> next = new ArrayList<>();
    int excess = runs.size() - finalFanIn;
    int i = 0;
    while (excess > 0) {
      int group = Math.min(Math.min(groupFanIn, excess + 1), runs.size() - i);
      if (group < 2) {
        break;
      }
      next.add(merge(runs.subList(i, i + group)));
      excess -= group - 1;
      i += group;
    }
    next.addAll(runs.subList(i, runs.size()));
    runs = next;
    mergePasses++;
  }

  /** Merges runs into a new one, deleting them. */
  private Path merge(List<Path> group) throws IOException {
    int slot = slotLength(group.size() + 1);
    Path merged = runFiles.next();
    try (KeyMerge merge = KeyMerge.open(group, memory, slot, keyLength);
        RunWriter out = new RunWriter(merged, memory, group.size() * slot, slot)) {
      while (merge.next()) {
        out.append(merge.current());
      }
    }
    for (Path run : group) {
      runFiles.delete(run);
    }
    return merged;
  }

  /** The memory split into {@code parts} slots of whole keys. */
  private int slotLength(int parts) {
    return memory.capacity() / parts / keyLength * keyLength;
  }

  private static int roundUp(int bytes, int multiple) {
    return (bytes + multiple - 1) / multiple * multiple;
  }

  /** Runs written from the full buffer while adding; 0 if the keys fitted in memory. */
  public int spilledRuns() {
    return spilledRuns;
  }

  /** Passes over the spilled keys: intermediate merges plus the final one; 0 if nothing was spilled. */
  public int mergePasses() {
    return mergePasses;
  }

  /** Closes the sorted keys if {@link #finish} returned them, deletes the run files and frees the memory. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    adding = false;
    try (runFiles) {
      if (keys != null) {
        keys.close();
      }
    } finally {
      DirectBuffers.release(memory);
    }
  }
}
