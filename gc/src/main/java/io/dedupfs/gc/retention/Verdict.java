package io.dedupfs.gc.retention;

import java.util.List;
import java.util.Objects;

/** What retention decided for one snapshot: kept, for the reasons listed, or removed (no reason). */
public record Verdict(Candidate snapshot, List<Reason> reasons) {

  public Verdict {
    Objects.requireNonNull(snapshot, "snapshot");
    reasons = List.copyOf(reasons);
  }

  public boolean keep() {
    return !reasons.isEmpty();
  }
}
