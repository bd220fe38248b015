package io.dedupfs.gc;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mounted process's own collections: one runs, paced to a share of the machine ({@link
 * GcSettings#BACKGROUND_SHARE}), a while after snapshots are deleted; deletions in quick
 * succession (a prune) make one collection. Thread-safe.
 */
public final class BackgroundCollector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BackgroundCollector.class);

  private final Supplier<Collector> collectors;
  private final long delayMillis;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "dedupfs-background-gc");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    return t;
  });
  private ScheduledFuture<?> pending;

  /** @param collectors makes a paced collector for each run */
  public BackgroundCollector(Supplier<Collector> collectors, long delayMillis) {
    this.collectors = collectors;
    this.delayMillis = delayMillis;
  }

  /** A snapshot was deleted: collect in a while, unless a collection is already due. */
  public synchronized void snapshotDeleted() {
    if (pending == null || pending.isDone()) {
      schedule();
    }
  }

  private synchronized void schedule() {
    pending = thread.schedule(this::collect, delayMillis, TimeUnit.MILLISECONDS);
  }

  private void collect() {
    try {
      GcReport report = collectors.get().run();
      LOG.info("background collection freed {} chunks, {} bytes of pack files", report.chunksFreed(),
          report.bytesOnDiskFreed());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Pacer.GaveWayException e) {
      LOG.info("background collection gave way to a snapshot; trying again later");
      schedule();
    } catch (Exception e) {
      // The next deletion, or dedupfs gc, tries again; an interrupted collection leaves nothing to repair.
      LOG.warn("background collection failed: {}", e.toString());
    }
  }

  /** Stops waiting and interrupts a collection under way (it is safe to stop at any point). */
  @Override
  public void close() throws InterruptedException {
    thread.shutdownNow();
    thread.awaitTermination(1, TimeUnit.MINUTES);
  }
}
