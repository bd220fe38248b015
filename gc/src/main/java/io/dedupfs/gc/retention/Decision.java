package io.dedupfs.gc.retention;

import java.util.List;

/**
 * The outcome of {@link Retention#decide}: one verdict per snapshot, newest first, so that {@code
 * prune --dry-run} can print each snapshot with its reasons in the order restic does.
 */
public record Decision(List<Verdict> verdicts) {

  public Decision {
    verdicts = List.copyOf(verdicts);
  }

  /** The snapshots to keep, newest first. */
  public List<Candidate> kept() {
    return verdicts.stream().filter(Verdict::keep).map(Verdict::snapshot).toList();
  }

  /** The snapshots to delete, newest first. */
  public List<Candidate> removed() {
    return verdicts.stream().filter(v -> !v.keep()).map(Verdict::snapshot).toList();
  }
}
