package io.dedupfs.store.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one pipeline stage: time spent waiting for input, working, and waiting on the
 * next stage, plus items and bytes through it. Updated from many threads without locks.
 */
public final class StageStats {
  private final String name;
  private final LongAdder waitInputNanos = new LongAdder();
  private final LongAdder workNanos = new LongAdder();
  private final LongAdder waitOutputNanos = new LongAdder();
  private final LongAdder items = new LongAdder();
  private final LongAdder bytes = new LongAdder();

  public StageStats(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  public void waitedForInput(long nanos) {
    waitInputNanos.add(nanos);
  }

  public void worked(long nanos) {
    workNanos.add(nanos);
  }

  public void waitedForOutput(long nanos) {
    waitOutputNanos.add(nanos);
  }

  public void processed(long itemCount, long byteCount) {
    items.add(itemCount);
    bytes.add(byteCount);
  }

  public Snapshot snapshot() {
    return new Snapshot(name, waitInputNanos.sum(), workNanos.sum(), waitOutputNanos.sum(), items.sum(), bytes.sum());
  }

  /** The counters at one moment. Times are summed over every thread of the stage. */
  public record Snapshot(String name, long waitInputNanos, long workNanos, long waitOutputNanos, long items, long bytes) {}
}
