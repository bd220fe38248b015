package io.dedupfs.gc.retention;

import java.time.Instant;
import java.util.Objects;

/**
 * A snapshot as retention sees it: its number (unique; of two snapshots taken at the same instant
 * the higher number counts as the newer), its name for messages, and when it was taken.
 */
public record Candidate(long number, String name, Instant created) {

  public Candidate {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(created, "created");
  }
}
