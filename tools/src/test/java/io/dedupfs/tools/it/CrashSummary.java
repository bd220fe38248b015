package io.dedupfs.tools.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The crash harness's figures: a row per round, printed as it ends, and the totals at the end,
 * each line tagged {@code [CrashPoints]} for bench/crash-harness.sh to pick out.
 */
final class CrashSummary {
  private static final String TAG = "[CrashPoints] ";
  private static final String ROW = "%5s %-8s %-24s %8s %15s %11s %9s %8s%n";

  private final long seed;
  private final long start = System.nanoTime();
  private final List<CrashRound> rounds = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private String totals = "";

  CrashSummary(long seed) {
    this.seed = seed;
    System.out.print(TAG + String.format(Locale.ROOT, ROW, "round", "target", "killed during", "after mount",
        "files exact/cut", "bytes", "snapshots", "failures"));
  }

  void add(CrashRound r) {
    rounds.add(r);
    failures.addAll(r.failures());
    String during = r.killedDuring.isEmpty() ? "(nothing)"
        : r.killedDuring.stream().map(Phase::toString).collect(Collectors.joining("+"));
    System.out.print(TAG + String.format(Locale.ROOT, ROW, r.number, r.target, during,
        String.format(Locale.ROOT, "%.1f s", r.killedAfterMillis / 1000.0), r.filesExact + "/" + r.filesCutOff,
        Data.size(r.bytesVerified), r.snapshotsVerified, r.failures().size()));
    r.failures().forEach(f -> System.out.println(TAG + "  " + f));
  }

  /** The last check, after a clean unmount (null if clean), and the collections' figures. */
  void finished(String lastCheck, SnapshotTaker snapshots, GcLoop gc) {
    if (lastCheck != null) {
      failures.add("after the last round's clean unmount: " + lastCheck);
    }
    StringBuilder s = new StringBuilder();
    s.append(TAG).append(String.format(Locale.ROOT, "%d rounds (kill points) in %.0f s, -Dit.seed=%d%n", rounds.size(),
        (System.nanoTime() - start) / 1e9, seed));
    s.append(TAG).append("kills during:");
    for (Phase p : Phase.values()) {
      s.append(' ').append(p).append(' ').append(killsDuring(p)).append(" (aimed ")
          .append(rounds.stream().filter(r -> r.target == p).count()).append(')');
    }
    s.append('\n');
    s.append(TAG).append(String.format(Locale.ROOT,
        "verified: %d fsync'ed files byte for byte (%s with the snapshots' files), %d cut-off write cycles as allowed,"
            + " %d snapshot readings%n",
        rounds.stream().mapToInt(r -> r.filesExact).sum(), Data.size(rounds.stream().mapToLong(r -> r.bytesVerified).sum()),
        rounds.stream().mapToInt(r -> r.filesCutOff).sum(), rounds.stream().mapToInt(r -> r.snapshotsVerified).sum()));
    s.append(TAG).append(String.format(Locale.ROOT,
        "snapshots: %d read against what was known of the live tree when taken (%d entries), %d of them with a"
            + " finished rsync's tree%n", snapshots.checkedAgainstKnown, snapshots.expectedEntries,
        snapshots.holdingKnownTree));
    s.append(TAG).append(String.format(Locale.ROOT,
        "dedupfs gc: %d runs, %d completed (%d chunks freed, %d packs deleted, %d packs rewritten)%n", gc.runs,
        gc.completed, gc.chunksFreed, gc.packsDeleted, gc.packsRewritten));
    s.append(TAG).append("failures: ").append(failures.size()).append('\n');
    failures.forEach(f -> s.append(TAG).append("  ").append(f).append('\n'));
    totals = s.toString();
    System.out.print(totals);
  }

  long killsDuring(Phase p) {
    return rounds.stream().filter(r -> r.killedDuring.contains(p)).count();
  }

  List<String> failures() {
    return List.copyOf(failures);
  }

  @Override
  public String toString() {
    return totals;
  }
}
