package io.dedupfs.store.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The byte budget of ingest: permits counted in KiB, blocking and non-blocking acquisition. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class MemoryBudgetTest {

  /** Waits until {@code t} is parked (blocked in the semaphore), failing after 5 s. */
  static void awaitBlocked(Thread t) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
      assertTrue(t.isAlive(), "the thread ended instead of blocking");
      assertTrue(System.nanoTime() < deadline, "the thread did not block");
      Thread.sleep(1);
    }
  }

  @Test
  void validation() {
    assertThrows(IllegalArgumentException.class, () -> new MemoryBudget(1023));
    assertThrows(IllegalArgumentException.class, () -> new MemoryBudget(0));
    assertThrows(IllegalArgumentException.class, () -> new MemoryBudget(-1));
    assertThrows(IllegalArgumentException.class, () -> new MemoryBudget(((long) Integer.MAX_VALUE + 1) * 1024));
    assertEquals(1024, new MemoryBudget(1024).totalBytes());
    long big = (long) Integer.MAX_VALUE * 1024; // ~2 TiB: fits a semaphore of KiB permits
    assertEquals(big, new MemoryBudget(big).totalBytes());
    assertEquals(0, new MemoryBudget(big).inUseBytes());
  }

  @Test
  void accountingInKibUnits() throws Exception {
    MemoryBudget budget = new MemoryBudget(64 << 10);
    assertEquals(0, budget.inUseBytes());
    budget.acquire(1);
    assertEquals(1024, budget.inUseBytes(), "one byte takes one KiB permit");
    budget.acquire(4096);
    assertEquals(1024 + 4096, budget.inUseBytes());
    budget.acquire(1025);
    assertEquals(1024 + 4096 + 2048, budget.inUseBytes(), "rounded up to whole KiB");
    budget.release(1025);
    budget.release(4096);
    budget.release(1);
    assertEquals(0, budget.inUseBytes());
  }

  @Test
  void tryAcquireFailsWhenSpent() {
    MemoryBudget budget = new MemoryBudget(16 << 10);
    assertTrue(budget.tryAcquire(12 << 10));
    assertFalse(budget.tryAcquire(8 << 10), "only 4 KiB left");
    assertEquals(12 << 10, budget.inUseBytes(), "a failed tryAcquire takes nothing");
    assertTrue(budget.tryAcquire(4 << 10));
    assertFalse(budget.tryAcquire(1));
    budget.release(8 << 10);
    assertTrue(budget.tryAcquire(8 << 10));
    assertEquals(16 << 10, budget.inUseBytes());
  }

  @Test
  void acquireBlocksUntilReleased() throws Exception {
    MemoryBudget budget = new MemoryBudget(16 << 10);
    budget.acquire(16 << 10);
    CountDownLatch acquired = new CountDownLatch(1);
    AtomicReference<Throwable> error = new AtomicReference<>();
    Thread t = new Thread(() -> {
      try {
        budget.acquire(8 << 10);
        acquired.countDown();
      } catch (Throwable e) {
        error.set(e);
      }
    });
    t.start();
    awaitBlocked(t);
    assertFalse(acquired.await(100, TimeUnit.MILLISECONDS), "acquire must wait while the budget is spent");
    budget.release(4 << 10);
    assertFalse(acquired.await(100, TimeUnit.MILLISECONDS), "4 KiB free is not enough for 8 KiB");
    budget.release(4 << 10);
    assertTrue(acquired.await(5, TimeUnit.SECONDS), "acquire must resume once enough is released");
    t.join(5000);
    assertEquals(null, error.get());
    assertEquals(16 << 10, budget.inUseBytes());
    assertTrue(budget.blockedNanos() >= TimeUnit.MILLISECONDS.toNanos(150),
        "the time spent blocked is counted: " + budget.blockedNanos());
  }

  @Test
  void anUnblockedAcquireCountsNoBlockedTime() throws Exception {
    MemoryBudget budget = new MemoryBudget(16 << 10);
    budget.acquire(16 << 10);
    assertEquals(0, budget.blockedNanos());
  }

  @Test
  void interruptedAcquireTakesNothing() throws Exception {
    MemoryBudget budget = new MemoryBudget(8 << 10);
    budget.acquire(8 << 10);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread t = new Thread(() -> {
      try {
        budget.acquire(4 << 10);
      } catch (Throwable e) {
        outcome.set(e);
      }
    });
    t.start();
    awaitBlocked(t);
    t.interrupt();
    t.join(5000);
    assertTrue(outcome.get() instanceof InterruptedException, "got " + outcome.get());
    budget.release(8 << 10);
    assertEquals(0, budget.inUseBytes(), "the interrupted acquire took no permits");
    assertTrue(budget.tryAcquire(8 << 10));
  }

  /** The budget is fair: a waiting large request is not overtaken by later small ones. */
  @Test
  void aWaitingLargeRequestIsNotStarvedBySmallOnes() throws Exception {
    MemoryBudget budget = new MemoryBudget(16 << 10);
    budget.acquire(12 << 10);
    CountDownLatch acquired = new CountDownLatch(1);
    Thread large = new Thread(() -> {
      try {
        budget.acquire(8 << 10);
        acquired.countDown();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    large.start();
    awaitBlocked(large);
    assertFalse(budget.tryAcquire(4 << 10), "4 KiB are free, but a larger request waits first");
    budget.release(12 << 10);
    assertTrue(acquired.await(5, TimeUnit.SECONDS));
    large.join(5000);
    assertEquals(8 << 10, budget.inUseBytes());
  }
}
