package io.dedupfs.store.snapshot;

import io.dedupfs.store.namespace.Name;

/**
 * A snapshot as its record describes it (FORMAT.md §10.2): number, name, creation time in
 * nanoseconds since the epoch, what the tree holds, and the root directory's entry.
 */
public record SnapshotRecord(long number, Name name, long createdNanos, long bytes, long files, long directories,
    TreeEntry root) {

  public SnapshotRecord renamed(Name newName) {
    return new SnapshotRecord(number, newName, createdNanos, bytes, files, directories, root);
  }
}
