package io.dedupfs.gc;

import java.util.function.BooleanSupplier;

/**
 * Keeps a background collection to a share of the machine: after each step it sleeps so that
 * its working time stays at most {@code share} of the time that passes. The step is what the
 * collector does between two calls (a batch of index entries, a pack), so the sleeps are short
 * and writes are never held up for long. {@link #UNPACED} never sleeps.
 */
public final class Pacer {
  public static final Pacer UNPACED = new Pacer(1.0, () -> false);
  /** Longest single pause: a paced collection still makes progress every second. */
  private static final long MAX_PAUSE_NANOS = 1_000_000_000L;

  private final double share;
  private final BooleanSupplier giveWay;
  private long stepStart = System.nanoTime();

  /**
   * @param share the fraction of time the collector may work, in (0, 1]
   * @param giveWay when true at a step, the collection stops ({@link GaveWayException})
   */
  public Pacer(double share, BooleanSupplier giveWay) {
    this.giveWay = giveWay;
    if (!(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("a collector's share of the time is in (0, 1], got " + share);
    }
    this.share = share;
  }

  /** Ends a step: sleeps long enough that the step's work was {@code share} of the time. */
  void step() throws InterruptedException {
    if (giveWay.getAsBoolean()) {
      throw new GaveWayException();
    }
    long worked = System.nanoTime() - stepStart;
    long pause = Math.min(MAX_PAUSE_NANOS, (long) (worked * (1 - share) / share));
    if (pause > 0) {
      Thread.sleep(pause / 1_000_000, (int) (pause % 1_000_000));
    }
    stepStart = System.nanoTime();
  }

  /** A background collection stopped for a snapshot; stopping at a step is safe, the next run starts over. */
  public static final class GaveWayException extends RuntimeException {
    GaveWayException() {
      super("the collection gave way to a snapshot being taken", null, false, false);
    }
  }
}
