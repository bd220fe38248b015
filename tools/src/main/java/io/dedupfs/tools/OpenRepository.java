package io.dedupfs.tools;

import io.dedupfs.gc.Checker;
import io.dedupfs.gc.Collector;
import io.dedupfs.gc.GcSettings;
import io.dedupfs.gc.Repairer;
import io.dedupfs.gc.SpaceCounter;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.Snapshots;
import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.RepositoryStats;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * A repository opened by a command while no process has it mounted: the repository, an ingest
 * pipeline for what the command stores (such as a snapshot's tree nodes), the live tree and the
 * snapshots. Closing makes what was stored durable, then releases the repository, in the order
 * unmounting does.
 */
final class OpenRepository implements AutoCloseable {
  /** Ingest memory of a command: it stores tree nodes and metadata, not file data. */
  private static final long MEMORY = 64L << 20;
  /**
   * Ingest workers of a command, whatever the machine: each holds a scratch of the largest
   * chunk's size from the budget, so one per CPU would not fit it on a machine with many.
   */
  private static final int WORKERS = 2;

  /** Decoded tree nodes kept while a command walks snapshots. */
  private static final long TREE_CACHE_BYTES = 8L << 20;

  private final Repository repository;
  private final IngestPipeline pipeline;
  private final Namespace namespace;
  private final Snapshots snapshots;
  private final ChunkReader chunks;

  private OpenRepository(Repository repository, IngestPipeline pipeline, Namespace namespace, Snapshots snapshots) {
    this.repository = repository;
    this.pipeline = pipeline;
    this.namespace = namespace;
    this.snapshots = snapshots;
    this.chunks = ChunkReader.of(repository);
  }

  /** @throws io.dedupfs.store.RepositoryLockedException if another process has it open */
  static OpenRepository open(Path path, PassphraseSource passphrase) throws IOException {
    return open(Repository.open(path, Repository.OpenOptions.DEFAULT.withPassphrase(passphrase)));
  }

  /** Opens for {@code check --repair}: a missing index is started anew, for the repair to rebuild. */
  static OpenRepository openForRepair(Path path, PassphraseSource passphrase) throws IOException {
    return open(Repository.openForRepair(path, Repository.OpenOptions.DEFAULT.withPassphrase(passphrase)));
  }

  private static OpenRepository open(Repository repository) throws IOException {
    try {
      IngestPipeline pipeline = new IngestPipeline(repository,
          new IngestSettings(MEMORY, WORKERS, IngestSettings.DEFAULT_COMMIT_INTERVAL, 4), Clock.systemUTC());
      try {
        Namespace namespace = Namespace.open(repository.index(), Clock.systemUTC());
        // No file is open for writing here, so nothing is pending before a snapshot.
        Snapshots snapshots = Snapshots.open(repository, namespace, pipeline, () -> {});
        return new OpenRepository(repository, pipeline, namespace, snapshots);
      } catch (IOException | RuntimeException e) {
        closeAfterFailure(pipeline, e);
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      closeAfterFailure(repository, e);
      throw e;
    }
  }

  private static void closeAfterFailure(AutoCloseable resource, Exception failure) {
    try {
      resource.close();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }

  Snapshots snapshots() {
    return snapshots;
  }

  Repository repository() {
    return repository;
  }

  IngestPipeline pipeline() {
    return pipeline;
  }

  Namespace namespace() {
    return namespace;
  }

  /** Snapshots and collections carried out on this repository, in this process. */
  RepositoryOperations operations() {
    SnapshotReader trees = new SnapshotReader(chunks, TREE_CACHE_BYTES);
    GcSettings settings = GcSettings.defaults(repository.path());
    // No ingest or request counters: this process serves no mount and writes only what the command itself does.
    return RepositoryOperations.of(() -> RepositoryStats.of(repository.index(),
        new SpaceCounter(repository.index(), namespace, snapshots, trees, settings), Optional.empty(), List.of()),
        snapshots,
        memory -> new Collector(repository, namespace, pipeline, snapshots, trees, () -> {}, settings.withMemory(memory)),
        () -> new Checker(repository, namespace, snapshots, chunks, trees, settings),
        () -> new Repairer(repository, namespace, snapshots, pipeline, () -> {}, chunks, settings,
            Clock.systemUTC()));
  }

  /** Closes the pipeline (committing what it holds), then the repository, even if the first fails. */
  @Override
  public void close() throws IOException {
    // Resources close in reverse order: the pipeline first.
    try (repository; pipeline; chunks) {
      // Nothing to do but close.
    }
  }
}
