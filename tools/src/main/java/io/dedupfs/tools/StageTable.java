package io.dedupfs.tools;

import io.dedupfs.store.stats.StageStats;
import java.util.List;
import java.util.Locale;

/** The ingest pipeline's stages as a table: where the time went, so that anyone can see the bottleneck. */
final class StageTable {
  private StageTable() {}

  /** A header, one line per stage in pipeline order, and a note on how times add up. */
  static String format(List<StageStats.Snapshot> stages) {
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-13s %10s %12s %12s %10s %13s%n", "stage",
        "items", "MB", "wait-input s", "work s", "wait-output s"));
    for (StageStats.Snapshot st : stages) {
      out.append(String.format(Locale.ROOT, "%-13s %,10d %12.1f %12.2f %10.2f %13.2f%n", st.name(), st.items(),
          st.bytes() / 1e6, st.waitInputNanos() / 1e9, st.workNanos() / 1e9, st.waitOutputNanos() / 1e9));
    }
    return out.append("(times are summed over each stage's threads)\n").toString();
  }
}
