package io.dedupfs.store.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one kind of request a filesystem serves (the FUSE adapter keeps one per
 * operation): how many, the time spent handling them, how many were answered with an error, and
 * the bytes of file data they moved. Updated from many threads without locks.
 */
public final class RequestStats {
  private final String name;
  private final LongAdder count = new LongAdder();
  private final LongAdder nanos = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder bytes = new LongAdder();

  public RequestStats(String name) {
    this.name = name;
  }

  /** One request served in {@code tookNanos}, failed or not, having moved {@code byteCount} bytes of file data. */
  public void served(long tookNanos, boolean failed, long byteCount) {
    count.increment();
    nanos.add(tookNanos);
    if (failed) {
      errors.increment();
    }
    if (byteCount != 0) {
      bytes.add(byteCount);
    }
  }

  public Snapshot snapshot() {
    return new Snapshot(name, count.sum(), nanos.sum(), errors.sum(), bytes.sum());
  }

  /**
   * The counters at one moment.
   *
   * @param nanos time spent handling the requests, summed over every thread that served them
   * @param errors requests answered with an error
   * @param bytes file data read or written by them
   */
  public record Snapshot(String name, long count, long nanos, long errors, long bytes) {
    /** The mean time of one request; 0 if none was served. */
    public long meanNanos() {
      return count == 0 ? 0 : nanos / count;
    }
  }
}
