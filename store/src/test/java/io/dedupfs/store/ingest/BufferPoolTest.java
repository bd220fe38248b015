package io.dedupfs.store.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Pooled direct buffers in power-of-two classes under the memory budget. */
class BufferPoolTest {

  @Test
  void classSizes() {
    assertEquals(4096, BufferPool.classSize(4096));
    assertEquals(8192, BufferPool.classSize(4097));
    assertEquals(4096, BufferPool.classSize(1));
    assertEquals(4096, BufferPool.classSize(0));
    assertEquals(8192, BufferPool.classSize(8192));
    assertEquals(16384, BufferPool.classSize(8193));
    assertEquals(1 << 20, BufferPool.classSize((1 << 19) + 1));
    assertEquals(16 << 20, BufferPool.classSize(16 << 20));
    assertEquals(16 << 20, BufferPool.classSize((8 << 20) + 1));
    assertThrows(IllegalArgumentException.class, () -> BufferPool.classSize((16 << 20) + 1));
  }

  @Property(tries = 200)
  void classSizeIsTheSmallestPowerOfTwoFromFourKibThatHolds(@ForAll @IntRange(min = 1, max = 16 << 20) int bytes) {
    int c = BufferPool.classSize(bytes);
    assertEquals(1, Integer.bitCount(c), c + " is a power of two");
    assertTrue(c >= 4096 && c >= bytes, c + " holds " + bytes);
    assertTrue(c == 4096 || c / 2 < bytes, c + " is the smallest class holding " + bytes);
  }

  @Test
  void acquiredBuffersAreDirectClearedAndOfTheirClassSize() throws Exception {
    BufferPool pool = new BufferPool(new MemoryBudget(1 << 20));
    try (PooledBuffer b = pool.acquire(5000)) {
      ByteBuffer bb = b.buffer();
      assertTrue(bb.isDirect());
      assertEquals(8192, bb.capacity());
      assertEquals(8192, b.capacity());
      assertEquals(0, bb.position());
      assertEquals(8192, bb.limit());
      assertEquals(8192, pool.budget().inUseBytes(), "a buffer in use holds permits for its class size");
      assertEquals(8192, pool.allocatedBytes());
    }
    assertEquals(0, pool.budget().inUseBytes());
    assertEquals(8192, pool.allocatedBytes(), "a returned buffer is kept for reuse");
  }

  @Test
  void buffersAreReused() throws Exception {
    BufferPool pool = new BufferPool(new MemoryBudget(1 << 20));
    PooledBuffer first = pool.acquire(5000);
    ByteBuffer underlying = first.buffer();
    underlying.putInt(0, 0xdeadbeef).position(100).limit(200);
    first.close();
    long allocated = pool.allocatedBytes();

    PooledBuffer second = pool.acquire(6000); // same 8 KiB class
    assertSame(underlying, second.buffer(), "the returned buffer is handed out again");
    assertEquals(8192, second.capacity());
    assertEquals(0, second.buffer().position(), "handed out cleared");
    assertEquals(8192, second.buffer().limit(), "handed out cleared");
    assertEquals(allocated, pool.allocatedBytes(), "reuse allocates nothing");
    second.close();

    for (int i = 0; i < 100; i++) {
      try (PooledBuffer b = pool.acquire(4097 + i)) {
        assertSame(underlying, b.buffer());
      }
    }
    assertEquals(allocated, pool.allocatedBytes());
    // Another class is a different buffer.
    try (PooledBuffer small = pool.tryAcquire(10)) {
      assertNotNull(small);
      assertEquals(4096, small.capacity());
      assertEquals(allocated + 4096, pool.allocatedBytes());
    }
  }

  @Test
  void closeIsIdempotentAndEndsAccess() throws Exception {
    BufferPool pool = new BufferPool(new MemoryBudget(64 << 10));
    PooledBuffer b = pool.acquire(4096);
    b.close();
    b.close();
    assertEquals(0, pool.budget().inUseBytes(), "a second close must not release permits twice");
    assertThrows(IllegalStateException.class, b::buffer);
    assertThrows(IllegalStateException.class, b::capacity);
    // Releasing twice would let more than the budget be acquired.
    List<PooledBuffer> held = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      held.add(pool.acquire(4096));
    }
    assertNull(pool.tryAcquire(4096), "16 x 4 KiB spend a 64 KiB budget");
    held.forEach(PooledBuffer::close);
  }

  @Test
  void tryAcquireReturnsNullWhenTheBudgetIsSpent() throws Exception {
    BufferPool pool = new BufferPool(new MemoryBudget(32 << 10));
    PooledBuffer a = pool.tryAcquire(16 << 10);
    PooledBuffer b = pool.tryAcquire(9 << 10); // 16 KiB class
    assertNotNull(a);
    assertNotNull(b);
    assertNull(pool.tryAcquire(1), "the budget is spent");
    assertEquals(32 << 10, pool.budget().inUseBytes());
    b.close();
    assertNull(pool.tryAcquire(17 << 10), "32 KiB class does not fit in the 16 KiB left");
    PooledBuffer c = pool.tryAcquire(4096);
    assertNotNull(c);
    assertEquals(4096, c.capacity());
    a.close();
    c.close();
    assertEquals(0, pool.budget().inUseBytes());
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void acquireBeyondTheBudgetBlocksUntilABufferIsClosed() throws Exception {
    BufferPool pool = new BufferPool(new MemoryBudget(16 << 10));
    PooledBuffer a = pool.acquire(8 << 10);
    PooledBuffer b = pool.acquire(8 << 10);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch acquired = new CountDownLatch(1);
    AtomicReference<PooledBuffer> got = new AtomicReference<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    Thread t = new Thread(() -> {
      started.countDown();
      try {
        got.set(pool.acquire(8 << 10));
        acquired.countDown();
      } catch (Throwable e) {
        error.set(e);
      }
    });
    t.start();
    assertTrue(started.await(5, TimeUnit.SECONDS));
    assertFalse(acquired.await(200, TimeUnit.MILLISECONDS), "acquire must block while the budget is spent");
    assertNull(got.get());
    ByteBuffer released = a.buffer();
    a.close();
    assertTrue(acquired.await(5, TimeUnit.SECONDS), "acquire must resume once a buffer is closed");
    t.join(5000);
    assertNull(error.get());
    assertSame(released, got.get().buffer(), "the closed buffer is the one handed to the waiter");
    assertTrue(pool.allocatedBytes() <= 16 << 10);
    got.get().close();
    b.close();
  }

  @Test
  void makingRoomForANewClassReleasesFreeBuffersOfOtherClasses() throws Exception {
    BufferPool pool = new BufferPool(new MemoryBudget(64 << 10));
    List<PooledBuffer> small = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      small.add(pool.acquire(4096));
    }
    small.forEach(PooledBuffer::close);
    assertEquals(64 << 10, pool.allocatedBytes(), "16 free 4 KiB buffers are kept");
    try (PooledBuffer big = pool.acquire(64 << 10)) {
      assertEquals(64 << 10, big.capacity());
      assertEquals(64 << 10, pool.allocatedBytes(), "the free small buffers made room for the big one");
    }
    try (PooledBuffer mid = pool.acquire(16 << 10)) {
      assertEquals(16 << 10, pool.allocatedBytes(), "the free 64 KiB buffer made room");
      assertEquals(16 << 10, mid.capacity());
    }
  }

  /** Single-threaded: whatever the sequence of classes, free plus in-use buffers stay within the budget. */
  @Property(tries = 30)
  void allocatedBytesNeverExceedTheBudget(@ForAll long seed) throws Exception {
    long total = 1 << 20;
    BufferPool pool = new BufferPool(new MemoryBudget(total));
    Random r = new Random(seed);
    List<PooledBuffer> held = new ArrayList<>();
    for (int step = 0; step < 300; step++) {
      if (!held.isEmpty() && (r.nextInt(3) == 0)) {
        held.remove(r.nextInt(held.size())).close();
      } else {
        int size = 1 + r.nextInt(4096 << r.nextInt(9)); // up to 1 MiB, classes 4 KiB .. 1 MiB
        PooledBuffer b = pool.tryAcquire(size);
        if (b == null) {
          long inUse = held.stream().mapToLong(PooledBuffer::capacity).sum();
          assertTrue(inUse + BufferPool.classSize(size) > total, "tryAcquire failed although the budget had room");
          if (!held.isEmpty()) {
            held.remove(0).close();
          }
          continue;
        }
        assertTrue(b.capacity() >= size);
        held.add(b);
      }
      long inUse = held.stream().mapToLong(PooledBuffer::capacity).sum();
      assertEquals(inUse, pool.budget().inUseBytes());
      assertTrue(pool.allocatedBytes() <= total, "allocated " + pool.allocatedBytes() + " > budget " + total);
      assertTrue(pool.allocatedBytes() >= inUse, "allocated counts the buffers in use");
    }
    held.forEach(PooledBuffer::close);
    assertEquals(0, pool.budget().inUseBytes());
    assertTrue(pool.allocatedBytes() <= total);
  }

  /**
   * The same invariant with concurrent users, as in the ingest pipeline (workers and writers share
   * one pool): allocations racing with buffers given back must not push free plus in-use buffers
   * beyond the budget.
   */
  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void allocatedBytesNeverExceedTheBudgetUnderConcurrency() throws Exception {
    long total = 64 << 10;
    BufferPool pool = new BufferPool(new MemoryBudget(total));
    AtomicLong maxSeen = new AtomicLong();
    int threads = 4;
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(executor.submit(() -> {
          ThreadLocalRandom r = ThreadLocalRandom.current();
          while (System.nanoTime() < end && maxSeen.get() <= total) {
            try (PooledBuffer b = pool.acquire(4096 << r.nextInt(3))) {
              b.buffer().put(0, (byte) 1);
              maxSeen.accumulateAndGet(pool.allocatedBytes(), Math::max);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
    } finally {
      executor.shutdownNow();
    }
    assertEquals(0, pool.budget().inUseBytes());
    assertTrue(maxSeen.get() <= total && pool.allocatedBytes() <= total,
        "with 4 threads sharing a " + total + "-byte budget the pool allocated up to "
            + maxSeen.get() + " bytes and still holds " + pool.allocatedBytes()
            + " bytes after all buffers were closed; free plus in-use buffers must never exceed the budget");
  }
}
