package io.dedupfs.tools.control;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.util.List;

/**
 * What the snapshot commands do, wherever they are carried out: on a repository open in this
 * process ({@link #of}), or by the mounted process through its control socket ({@link
 * ControlClient}). The exceptions are those of {@link Snapshots}.
 */
public interface SnapshotOperations {
  /** @throws java.nio.file.FileAlreadyExistsException if a snapshot has that name */
  SnapshotSummary create(Name name) throws IOException, InterruptedException;

  /** Every snapshot, oldest first. */
  List<SnapshotSummary> list() throws IOException;

  /** @throws java.nio.file.NoSuchFileException if no snapshot has that name */
  void delete(Name name) throws IOException;

  /** The operations carried out by {@code snapshots} in this process. */
  static SnapshotOperations of(Snapshots snapshots) {
    return new SnapshotOperations() {
      @Override
      public SnapshotSummary create(Name name) throws IOException, InterruptedException {
        return SnapshotSummary.of(snapshots.create(name));
      }

      @Override
      public List<SnapshotSummary> list() throws IOException {
        return snapshots.list().stream().map(SnapshotSummary::of).toList();
      }

      @Override
      public void delete(Name name) throws IOException {
        snapshots.delete(name);
      }
    };
  }
}
