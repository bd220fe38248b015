package io.dedupfs.store.index;

import io.dedupfs.store.concurrent.Uninterruptibly;
import io.dedupfs.store.stats.StageStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The index's one writer thread. Pack commits queue up while a transaction runs and the next
 * transaction takes them all, so commit (and its fsync) cost is shared by every pack sealed
 * meanwhile.
 */
public final class IndexWriter implements AutoCloseable {
  private record Pending(PackCommit commit, CompletableFuture<Void> done) {}

  private static final Pending STOP = new Pending(null, null);

  private final ChunkIndex index;
  private final StageStats stats;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread thread;

  public IndexWriter(ChunkIndex index, StageStats stats) {
    this.index = index;
    this.stats = stats;
    this.thread = new Thread(this::run, "dedupfs-index-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues a commit; the future completes once it is committed, or fails with the commit's error. */
  public CompletableFuture<Void> submit(PackCommit commit) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    queue.add(new Pending(commit, done));
    return done;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    while (true) {
      long waitStart = System.nanoTime();
      Pending first;
      try {
        first = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      long workStart = System.nanoTime();
      stats.waitedForInput(workStart - waitStart);
      batch.clear();
      batch.add(first);
      queue.drainTo(batch);
      boolean stop = batch.remove(STOP);
      List<PackCommit> commits = new ArrayList<>(batch.size());
      long chunks = 0;
      for (Pending p : batch) {
        commits.add(p.commit());
        chunks += p.commit().entries().size();
      }
      if (!commits.isEmpty()) {
        try {
          index.commit(commits);
          batch.forEach(p -> p.done().complete(null));
        } catch (Exception e) {
          batch.forEach(p -> p.done().completeExceptionally(e));
        }
        stats.worked(System.nanoTime() - workStart);
        stats.processed(chunks, 0);
      }
      if (stop) {
        return;
      }
    }
  }

  /** Commits everything queued so far, then stops the thread. */
  @Override
  public void close() {
    queue.add(STOP);
    // The queued commits must finish before the index closes under them.
    Uninterruptibly.join(thread);
  }
}
