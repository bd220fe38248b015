package io.dedupfs.gc;

import java.util.List;

/**
 * What {@code dedupfs check} found: how much it looked at, and each finding in a line (at most
 * {@link Checker#MAX_PROBLEMS} of each kind; the counts count them all). {@code problems} are what
 * is wrong (after a repair: what is still wrong); a repair adds what it {@code repairs}ed and the
 * data it found {@code losses} of (FORMAT.md §13). Clean when nothing is wrong and no data is lost.
 */
public record CheckReport(long packs, long chunks, long references, long chunksRead, long problemCount,
    List<String> problems, long repairCount, List<String> repairs, long lossCount, List<String> losses) {
  public CheckReport {
    problems = List.copyOf(problems);
    repairs = List.copyOf(repairs);
    losses = List.copyOf(losses);
  }

  /** The report of a check that repaired nothing. */
  public CheckReport(long packs, long chunks, long references, long chunksRead, long problemCount,
      List<String> problems) {
    this(packs, chunks, references, chunksRead, problemCount, problems, 0, List.of(), 0, List.of());
  }

  public boolean clean() {
    return problemCount == 0 && lossCount == 0;
  }

  /** This check's findings after those of the repair that came before it. */
  CheckReport after(Findings repaired, Findings lost) {
    return new CheckReport(packs, chunks, references, chunksRead, problemCount, problems, repaired.count(),
        repaired.listed(), lost.count(), lost.listed());
  }
}
