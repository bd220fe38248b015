package io.dedupfs.tools.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link CrashHarness} for {@code -Dcrash.rounds} rounds, each one kill -9 point: 10 by
 * default, as CI runs it; {@code bench/crash-harness.sh} runs 60. Every kill must leave {@code
 * check --read-data} clean, every fsync'ed file byte for byte and every snapshot as it was; and
 * with a round per phase at least, some kill must have come during each phase.
 */
class CrashPointsIT {
  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void everyKillKeepsWhatWasFsyncedAndEverySnapshot() throws Exception {
    int rounds = Integer.getInteger("crash.rounds", 10);
    long seed = Data.seed("[CrashPoints] harness");
    fs = Mounted.fresh(dir);
    CrashSummary summary = assertTimeoutPreemptively(Duration.ofMinutes(2 + rounds),
        () -> new CrashHarness(fs, seed).run(rounds));
    assertEquals(List.of(), summary.failures(), summary.toString());
    for (Phase p : Phase.values()) {
      assertTrue(rounds < Phase.values().length || summary.killsDuring(p) > 0, "no kill during " + p + "\n" + summary);
    }
  }
}
