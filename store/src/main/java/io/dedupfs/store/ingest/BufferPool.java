package io.dedupfs.store.ingest;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers in fixed power-of-two size classes, reused so that steady-state ingest allocates
 * nothing. A buffer in use holds budget permits for its class size. Buffers kept free for reuse
 * plus buffers in use never exceed the budget: to make room for a new class, free buffers of
 * other classes are released to the OS at once rather than left for the garbage collector.
 */
public final class BufferPool {
  public static final int SMALLEST_CLASS = 4 << 10;
  public static final int LARGEST_CLASS = 16 << 20;
  private static final int CLASS_COUNT = Integer.numberOfTrailingZeros(LARGEST_CLASS) - Integer.numberOfTrailingZeros(SMALLEST_CLASS) + 1;

  private final MemoryBudget budget;
  private final ConcurrentLinkedDeque<ByteBuffer>[] free;
  private final AtomicLong allocatedBytes = new AtomicLong();

  @SuppressWarnings("unchecked")
  public BufferPool(MemoryBudget budget) {
    this.budget = budget;
    this.free = new ConcurrentLinkedDeque[CLASS_COUNT];
    for (int i = 0; i < CLASS_COUNT; i++) {
      free[i] = new ConcurrentLinkedDeque<>();
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

  private PooledBuffer take(int size) {
    ByteBuffer b = free[classIndex(size)].pollFirst();
    if (b == null) {
      makeRoom(size);
      b = ByteBuffer.allocateDirect(size);
    }
    return new PooledBuffer(this, b.clear());
  }

  /**
   * Releases free buffers until a new one of {@code size} fits within the budget, and counts it.
   * Synchronized so that two allocations cannot both pass the check; allocation is the rare path.
   * The caller holds permits for {@code size}, so buffers in use leave room for it once every free
   * buffer is gone; the scan repeats because a buffer may be given back into a list already
   * passed while its permits go to another thread.
   */
  private synchronized void makeRoom(int size) {
    long total = budget.totalBytes();
    boolean evicted = true;
    while (allocatedBytes.get() + size > total && evicted) {
      evicted = false;
      for (int i = CLASS_COUNT - 1; i >= 0 && allocatedBytes.get() + size > total; i--) {
        ByteBuffer b = free[i].pollFirst();
        if (b != null) {
          allocatedBytes.addAndGet(-b.capacity());
          DirectMemory.release(b);
          evicted = true;
          i++;
        }
      }
    }
    allocatedBytes.addAndGet(size);
  }

  void giveBack(ByteBuffer b) {
    free[classIndex(b.capacity())].addFirst(b);
    budget.release(b.capacity());
  }

  /** Bytes of direct memory the pool holds, in use or free. */
  public long allocatedBytes() {
    return allocatedBytes.get();
  }

  public MemoryBudget budget() {
    return budget;
  }

  /** Frees a direct buffer's memory now instead of whenever the collector gets to it. */
  private static final class DirectMemory {
    private static final sun.misc.Unsafe UNSAFE = unsafe();

    private static sun.misc.Unsafe unsafe() {
      try {
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        return (sun.misc.Unsafe) f.get(null);
      } catch (ReflectiveOperationException e) {
        return null;
      }
    }

    static void release(ByteBuffer b) {
      if (UNSAFE != null) {
        UNSAFE.invokeCleaner(b);
      }
    }
  }
}
