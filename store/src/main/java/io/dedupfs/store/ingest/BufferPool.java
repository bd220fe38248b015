package io.dedupfs.store.ingest;

import io.dedupfs.store.io.DirectBuffers;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers in fixed power-of-two size classes, reused so that steady-state ingest allocates
 * nothing. A buffer in use holds budget permits for its class size. Buffers kept free for reuse
 * plus buffers in use never exceed the budget: to make room for a new class, free buffers of
 * other classes are released to the OS at once rather than left for the garbage collector.
 *
 * <p>Free lists and the allocation count change only under the pool's lock, so a buffer is always
 * either free or in use and the count is exact; a buffer in use holds permits, so once every free
 * buffer is released a new one always fits. Pool calls happen per chunk, not per byte.
 */
public final class BufferPool {
  public static final int SMALLEST_CLASS = 4 << 10;
  public static final int LARGEST_CLASS = 16 << 20;
  private static final int CLASS_COUNT = Integer.numberOfTrailingZeros(LARGEST_CLASS) - Integer.numberOfTrailingZeros(SMALLEST_CLASS) + 1;

  private final MemoryBudget budget;
  private final ArrayDeque<ByteBuffer>[] free;
  private long allocatedBytes;

  @SuppressWarnings({"unchecked", "rawtypes"})
  public BufferPool(MemoryBudget budget) {
    this.budget = budget;
    this.free = new ArrayDeque[CLASS_COUNT];
    for (int i = 0; i < CLASS_COUNT; i++) {
      free[i] = new ArrayDeque<>();
    }
  }

  /** The size class that holds {@code bytes}. */
  public static int classSize(int bytes) {
    if (bytes > LARGEST_CLASS) {
      throw new IllegalArgumentException("no buffer class holds " + bytes + " bytes");
    }
    return Math.max(SMALLEST_CLASS, Integer.highestOneBit(Math.max(1, bytes - 1)) << 1);
  }

  private static int classIndex(int classSize) {
    return Integer.numberOfTrailingZeros(classSize) - Integer.numberOfTrailingZeros(SMALLEST_CLASS);
  }

  /** A buffer of at least {@code minCapacity} bytes, waiting for budget if needed. */
  public PooledBuffer acquire(int minCapacity) throws InterruptedException {
    int size = classSize(minCapacity);
    budget.acquire(size);
    return take(size);
  }

  /** A buffer of at least {@code minCapacity} bytes, or null if the budget has no room now. */
  public PooledBuffer tryAcquire(int minCapacity) {
    int size = classSize(minCapacity);
    return budget.tryAcquire(size) ? take(size) : null;
  }

  private synchronized PooledBuffer take(int size) {
    ByteBuffer b = free[classIndex(size)].pollFirst();
    if (b == null) {
      releaseFreeBuffersFor(size);
      b = ByteBuffer.allocateDirect(size);
      allocatedBytes += size;
    }
    return new PooledBuffer(this, b.clear());
  }

  /** Releases free buffers, largest first, until a new buffer of {@code size} fits within the budget. */
  private void releaseFreeBuffersFor(int size) {
    long total = budget.totalBytes();
    for (int i = CLASS_COUNT - 1; i >= 0 && allocatedBytes + size > total; i--) {
      for (ByteBuffer b; allocatedBytes + size > total && (b = free[i].pollFirst()) != null; ) {
        allocatedBytes -= b.capacity();
        DirectBuffers.release(b);
      }
    }
  }

  synchronized void giveBack(ByteBuffer b) {
    free[classIndex(b.capacity())].addFirst(b);
    budget.release(b.capacity());
  }

  /** Bytes of direct memory the pool holds, in use or free. */
  public synchronized long allocatedBytes() {
    return allocatedBytes;
  }

  public MemoryBudget budget() {
    return budget;
  }
}
