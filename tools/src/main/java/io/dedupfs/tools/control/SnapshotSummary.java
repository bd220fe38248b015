package io.dedupfs.tools.control;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.snapshot.SnapshotRecord;
import java.time.Instant;
import java.util.Objects;

/**
 * A snapshot as commands show it: the fields of its record (FORMAT.md §10.2) without the root
 * entry, which only the process that reads the tree needs.
 */
public record SnapshotSummary(long number, Name name, long createdNanos, long bytes, long files, long directories) {
  public SnapshotSummary {
    Objects.requireNonNull(name, "name");
  }

  public static SnapshotSummary of(SnapshotRecord r) {
    return new SnapshotSummary(r.number(), r.name(), r.createdNanos(), r.bytes(), r.files(), r.directories());
  }

  public Instant created() {
    return Instant.ofEpochSecond(0, createdNanos);
  }
}
