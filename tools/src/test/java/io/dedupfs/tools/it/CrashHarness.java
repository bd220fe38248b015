package io.dedupfs.tools.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * kill -9 of the filesystem process at moments aimed at ingest, snapshots, pack seals,
 * collections and their pack rewrites ({@link Phase}), then the checks that what DESIGN.md §7
 * promises holds, round after round on one repository.
 * Each round mounts, runs a workload ({@link RandomWriter}s writing and fsync'ing files at random
 * offsets, an {@link RsyncLoop} copying real trees in, a {@link SnapshotTaker} taking and
 * deleting snapshots, a {@link GcLoop} running {@code dedupfs gc}), waits until its target phase
 * is under way, kills somewhere inside it, detaches the dead mount, runs {@code dedupfs check
 * --read-data}, mounts again and verifies every fsync'ed file byte for byte, every snapshot and
 * every file of the live tree readable.
 */
final class CrashHarness {
  private static final int WRITERS = 3;
  private static final int FILES_PER_WRITER = 4;
  /** How long a round waits for its target phase before it kills during whatever is under way. */
  private static final long TARGET_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
  /**
   * A round lets the workload run up to this long before it aims: rounds killed early leave the
   * repository much as the last one did; longer ones take and delete snapshots and finish
   * collections.
   */
  private static final long MAX_WARM_UP_MILLIS = 5000;

  private final Mounted mounted;
  private final SplittableRandom random;
  private final List<List<SyncedFile>> files;
  private final RsyncLoop rsync;
  private final SnapshotTaker snapshots;
  private final GcLoop gc;
  private final CrashSummary summary;
  private final Phase.Tracker phases = new Phase.Tracker();
  private long mountedAt;

  /** On {@code mounted}, a new repository just mounted, which the caller unmounts if a round fails. */
  CrashHarness(Mounted mounted, long seed) throws IOException {
    this.random = new SplittableRandom(seed);
    this.summary = new CrashSummary(seed);
    this.mounted = mounted;
    this.mountedAt = System.nanoTime();
    this.files = IntStream.range(0, WRITERS).mapToObj(w -> IntStream.range(0, FILES_PER_WRITER)
        .mapToObj(f -> new SyncedFile("w" + w + "/f" + f)).toList()).toList();
    this.rsync = new RsyncLoop(mounted.mountpoint);
    List<KnownContent> known = new ArrayList<>(files.stream().flatMap(List::stream).toList());
    known.add(rsync);
    this.snapshots = new SnapshotTaker(mounted.mountpoint, known, rsync);
    this.gc = new GcLoop(mounted.repository);
  }

  /** {@code rounds} rounds, their targets taking turns in a random order; then a clean unmount and a last check. */
  CrashSummary run(int rounds) throws Exception {
    List<Phase> targets = new ArrayList<>();
    for (int n = 1; n <= rounds; n++) {
      if (targets.isEmpty()) {
        targets.addAll(List.of(Phase.values()));
        Collections.shuffle(targets, new Random(random.nextLong()));
      }
      CrashRound round = new CrashRound(n, targets.remove(targets.size() - 1), phases);
      crash(round);
      verify(round);
      summary.add(round);
    }
    mounted.unmount();
    summary.finished(checkFails(), snapshots, gc);
    return summary;
  }

  /** Runs the workload until the kill, waits for it to stop, and detaches the dead mount. */
  private void crash(CrashRound round) throws Exception {
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      List<Future<?>> work = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        RandomWriter writer = new RandomWriter(mounted.mountpoint, files.get(w), random.nextLong());
        SplittableRandom r = random.split();
        work.add(pool.submit(guarded(round, "writer " + w, () -> writer.run(round, r))));
      }
      SplittableRandom forRsync = random.split();
      work.add(pool.submit(guarded(round, "rsync", () -> rsync.run(round, forRsync))));
      SplittableRandom forSnapshots = random.split();
      work.add(pool.submit(guarded(round, "snapshots", () -> snapshots.run(round, forSnapshots, gc))));
      SplittableRandom forGc = random.split();
      work.add(pool.submit(guarded(round, "gc", () -> gc.run(round, forGc))));
      kill(round);
      for (Future<?> f : work) {
        f.get(2, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    // Only now: until the workload stopped, the dead mount answers ENOTCONN, not the directory beneath.
    mounted.detach();
    rsync.killed();
  }

  /** A workload thread's body. */
  private interface Work {
    void run() throws Exception;
  }

  /** Runs {@code work}; an exception before the kill is the round's failure, after it the expected end. */
  private static Runnable guarded(CrashRound round, String name, Work work) {
    return () -> {
      try {
        work.run();
      } catch (Exception e) {
        if (!round.killed()) {
          round.fail(name + ": " + e);
        }
      }
    };
  }

  /**
   * After a random warm-up, waits until the round's target phase is under way, then for a random
   * part of how long that phase last took, and kills the filesystem process; if the phase ended
   * meanwhile, the kill comes as it next starts.
   */
  private void kill(CrashRound round) throws InterruptedException {
    Thread.sleep(random.nextLong(MAX_WARM_UP_MILLIS));
    long deadline = System.nanoTime() + TARGET_WAIT_NANOS;
    awaitUnderWay(round.target, deadline);
    Thread.sleep(random.nextLong(phases.lastMillis(round.target) + 1));
    awaitUnderWay(round.target, deadline);
    round.killedDuring = phases.underWay();
    round.killedAfterMillis = (System.nanoTime() - mountedAt) / 1_000_000;
    round.killing();
    mounted.killProcess();
  }

  private void awaitUnderWay(Phase target, long deadline) throws InterruptedException {
    while (!phases.underWay().contains(target) && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
  }

  /** check --read-data of the killed repository, a new mount, and everything owed verified. */
  private void verify(CrashRound round) throws Exception {
    String check = checkFails();
    if (check != null) {
      round.fail(check);
    }
    mounted.mount();
    mountedAt = System.nanoTime();
    for (SyncedFile f : files.stream().flatMap(List::stream).toList()) {
      try {
        switch (f.verifyAfterKill(mounted.mountpoint)) {
          case EXACTLY -> {
            round.filesExact++;
            round.bytesVerified += f.syncedLength();
          }
          case CUT_OFF -> round.filesCutOff++;
          case NOTHING -> { }
        }
      } catch (AssertionError e) {
        round.fail(e.getMessage());
      } catch (IOException e) {
        round.fail("reading " + f.name + ": " + e);
      }
    }
    try {
      snapshots.verifyAfterKill(round);
    } catch (IOException e) {
      round.fail("reading the snapshots: " + e);
    }
    try {
      readLiveTree();
    } catch (IOException e) {
      round.fail("reading " + RsyncLoop.TREE + ": " + e);
    }
  }

  /** Whatever rsync left in the live tree reads without an error. */
  private void readLiveTree() throws IOException {
    Path tree = mounted.mountpoint.resolve(RsyncLoop.TREE);
    if (Files.isDirectory(tree)) {
      TreeManifest.read(tree, RsyncLoop.TREE);
    }
  }

  /** Runs {@code dedupfs check --read-data}; null if clean, else what it said. */
  private String checkFails() throws Exception {
    Mounted.Result check = Mounted.dedupfs("check", mounted.repository.toString(), "--read-data");
    return check.exit() == 0 ? null : "dedupfs check --read-data exited " + check.exit() + ": " + check.output().strip();
  }
}
