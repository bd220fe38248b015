package io.dedupfs.store.concurrent;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Waiting that an interrupt cannot cut short, for shutdown paths where queued work (commits,
 * seals) must finish before what it uses is closed. The interrupt is restored afterwards.
 */
public final class Uninterruptibly {
  private Uninterruptibly() {}

  public static void join(Thread thread) {
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Shuts the executor down and waits for its queued tasks to finish. */
  public static void shutdown(ExecutorService executor) {
    executor.shutdown();
    boolean interrupted = false;
    while (!executor.isTerminated()) {
      try {
        executor.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
