package io.dedupfs.store.ingest;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The one global byte budget of ingest (--memory): permits over bytes. Every pooled buffer in
 * use holds permits for its capacity, so a writer blocks here when the budget is spent and
 * resumes as chunks leave memory. Counted in KiB so budgets up to terabytes fit a semaphore.
 */
public final class MemoryBudget {
  static final int UNIT = 1024;

  private final long totalBytes;
  private final Semaphore permits;
  private final LongAdder blockedNanos = new LongAdder();

  public MemoryBudget(long totalBytes) {
    if (totalBytes < UNIT || totalBytes / UNIT > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("memory budget out of range: " + totalBytes);
    }
    // Whole KiB only, so that what is reported in use is exactly what the permits say.
    this.totalBytes = totalBytes / UNIT * UNIT;
    // Fair, so that a large request is not starved by a stream of small ones.
    this.permits = new Semaphore((int) (totalBytes / UNIT), true);
  }

  private static int units(long bytes) {
    return (int) ((bytes + UNIT - 1) / UNIT);
  }

  /** Takes permits for {@code bytes}, waiting as long as it takes. */
  public void acquire(long bytes) throws InterruptedException {
    if (bytes > totalBytes) {
      throw new IllegalArgumentException(bytes + " bytes can never fit a budget of " + totalBytes);
    }
    int n = units(bytes);
    if (!permits.tryAcquire(n, 0, TimeUnit.NANOSECONDS)) {
      long start = System.nanoTime();
      permits.acquire(n);
      blockedNanos.add(System.nanoTime() - start);
    }
  }

  /** Takes permits for {@code bytes} only if they are free now. */
  public boolean tryAcquire(long bytes) {
    try {
      return permits.tryAcquire(units(bytes), 0, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public void release(long bytes) {
    permits.release(units(bytes));
  }

  public long totalBytes() {
    return totalBytes;
  }

  public long inUseBytes() {
    return totalBytes - (long) permits.availablePermits() * UNIT;
  }

  /** Total time writers spent blocked on the budget. */
  public long blockedNanos() {
    return blockedNanos.sum();
  }
}
