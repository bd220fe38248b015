package io.dedupfs.tools.it;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One round of the crash harness: the phases its workload goes through, the kill, and what the
 * checks afterwards found. Failures may come from any of the workload's threads.
 */
final class CrashRound {
  final int number;
  final Phase target;
  private final Phase.Tracker phases;
  private final CountDownLatch killed = new CountDownLatch(1);
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  /** Phases under way at the kill, and how long after the mount it came. */
  Set<Phase> killedDuring = Set.of();
  long killedAfterMillis;
  int filesExact;
  int filesCutOff;
  long bytesVerified;
  int snapshotsVerified;

  /** {@code phases} is shared by all rounds, so that how long a phase takes carries over. */
  CrashRound(int number, Phase target, Phase.Tracker phases) {
    this.number = number;
    this.target = target;
    this.phases = phases;
  }

  Phase.Tracker phases() {
    return phases;
  }

  /** Whether the kill has come (it is set just before): errors after it are expected. */
  boolean killed() {
    return killed.getCount() == 0;
  }

  void killing() {
    killed.countDown();
  }

  /** Sleeps {@code millis}, or less if the kill comes: the workload stops soon after it. */
  void pause(long millis) throws InterruptedException {
    killed.await(millis, TimeUnit.MILLISECONDS);
  }

  void fail(String what) {
    failures.add("round " + number + ": " + what);
  }

  List<String> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  void verifiedSnapshot(long bytes) {
    snapshotsVerified++;
    bytesVerified += bytes;
  }
}
