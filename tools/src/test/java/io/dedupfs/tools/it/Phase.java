package io.dedupfs.tools.it;

import java.io.IOException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/** What the crash harness's workload can be doing at the moment the filesystem process is killed. */
enum Phase {
  /** rsync copying a tree in, or a writer's writes before its fsync. */
  INGEST,
  /** mkdir or rmdir in {@code MOUNT/.snapshots}. */
  SNAPSHOT,
  /** An fsync: the filesystem seals the open pack for it, commits and syncs the index. */
  SEAL,
  /** The mounted process collecting garbage for a {@code dedupfs gc}. */
  GC,
  /**
   * A collection's last step, which rewrites mostly-dead packs and deletes empty ones: from the
   * first pack file it deletes to the collection's end (within {@link #GC}).
   */
  REWRITE;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Which phases are under way, as the workload's threads enter and leave them, and how long each
   * last took, so that a kill can be aimed at the inside of one.
   */
  static final class Tracker {
    private final AtomicIntegerArray underWay = new AtomicIntegerArray(values().length);
    private final AtomicLongArray lastNanos = new AtomicLongArray(values().length);

    /** Marks {@code phase} under way until the returned span is ended. */
    Span enter(Phase phase) {
      underWay.incrementAndGet(phase.ordinal());
      long start = System.nanoTime();
      return () -> {
        lastNanos.set(phase.ordinal(), System.nanoTime() - start);
        underWay.decrementAndGet(phase.ordinal());
      };
    }

    /** Runs {@code action} with {@code phase} marked under way. */
    void during(Phase phase, Action action) throws IOException, InterruptedException {
      Span span = enter(phase);
      try {
        action.run();
      } finally {
        span.end();
      }
    }

    Set<Phase> underWay() {
      Set<Phase> phases = EnumSet.noneOf(Phase.class);
      for (Phase p : values()) {
        if (underWay.get(p.ordinal()) > 0) {
          phases.add(p);
        }
      }
      return phases;
    }

    /** How long {@code phase} took the last time it ended; 0 if it never did. */
    long lastMillis(Phase phase) {
      return lastNanos.get(phase.ordinal()) / 1_000_000;
    }
  }

  /** A phase under way until ended. */
  interface Span {
    void end();
  }

  /** What a workload thread does during a phase. */
  interface Action {
    void run() throws IOException, InterruptedException;
  }
}
