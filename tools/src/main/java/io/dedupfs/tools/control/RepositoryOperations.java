package io.dedupfs.tools.control;

import io.dedupfs.gc.CheckReport;
import io.dedupfs.gc.Checker;
import io.dedupfs.gc.Collector;
import io.dedupfs.gc.GcProgress;
import io.dedupfs.gc.GcReport;
import io.dedupfs.gc.Repairer;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What the commands on a repository do, wherever they are carried out: on a repository open in
 * this process ({@link #of}), or by the mounted process through its control socket ({@link
 * ControlClient}). The exceptions are those of {@link Snapshots} and {@link Collector}.
 */
public interface RepositoryOperations {
  /** @throws java.nio.file.FileAlreadyExistsException if a snapshot has that name */
  SnapshotSummary create(Name name) throws IOException, InterruptedException;

  /** Every snapshot, oldest first. */
  List<SnapshotSummary> list() throws IOException;

  /** @throws java.nio.file.NoSuchFileException if no snapshot has that name */
  void delete(Name name) throws IOException;

  /** Runs the collector with a sort budget of {@code memoryBytes}, telling {@code progress} how far it got. */
  GcReport collectGarbage(long memoryBytes, GcProgress progress) throws IOException, InterruptedException;

  /**
   * What {@link #collectGarbage} would free after deleting the snapshots numbered {@code
   * withoutSnapshots}; changes nothing.
   */
  GcReport estimateGarbage(long memoryBytes, Set<Long> withoutSnapshots) throws IOException, InterruptedException;

  /** Checks the repository's invariants, reading every chunk too if {@code readData}. */
  CheckReport check(boolean readData, GcProgress progress) throws IOException, InterruptedException;

  /** Repairs the repository from its packs and snapshot records, then checks it (FORMAT.md §13). */
  CheckReport repair(boolean readData, GcProgress progress) throws IOException, InterruptedException;

  /**
   * What the repository stores, what each snapshot holds, and when it was last collected. Reads
   * every chunk entry and walks every snapshot: it takes a while on a large repository.
   */
  RepositoryStats stats() throws IOException, InterruptedException;

  /** How this process counts what {@link #stats} shows. */
  @FunctionalInterface
  interface StatsSource {
    RepositoryStats read() throws IOException, InterruptedException;
  }

  /** How this process makes a collector for a sort budget. */
  @FunctionalInterface
  interface Collectors {
    Collector withMemory(long memoryBytes);
  }

  /**
   * The operations carried out in this process on {@code snapshots} and with {@code stats}, {@code
   * collectors}, {@code checkers} and {@code repairers}.
   */
  static RepositoryOperations of(StatsSource stats, Snapshots snapshots, Collectors collectors,
      Supplier<Checker> checkers, Supplier<Repairer> repairers) {
    return new RepositoryOperations() {
      @Override
      public CheckReport check(boolean readData, GcProgress progress) throws IOException, InterruptedException {
        progress.update("check", 0, -1);
        return checkers.get().run(readData);
      }

      @Override
      public CheckReport repair(boolean readData, GcProgress progress) throws IOException, InterruptedException {
        return repairers.get().run(readData, progress);
      }

      @Override
      public RepositoryStats stats() throws IOException, InterruptedException {
        return stats.read();
      }

      @Override
      public GcReport collectGarbage(long memoryBytes, GcProgress progress) throws IOException, InterruptedException {
        return collectors.withMemory(memoryBytes).run(progress);
      }

      @Override
      public GcReport estimateGarbage(long memoryBytes, Set<Long> withoutSnapshots)
          throws IOException, InterruptedException {
        return collectors.withMemory(memoryBytes).estimate(withoutSnapshots);
      }

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
