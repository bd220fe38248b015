package io.dedupfs.tools.control;

import io.dedupfs.gc.LastCollection;
import io.dedupfs.gc.SpaceCounter;
import io.dedupfs.gc.SpaceReport;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.ingest.IngestStats;
import io.dedupfs.store.stats.RequestStats;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code dedupfs stats} shows: what the repository stores and what each snapshot holds, its
 * pack files, the last collection, and the counters of the ingest pipeline and of the requests
 * served when the process that answers is a mount.
 *
 * @param snapshots every snapshot, oldest first, as {@code space} counted them
 * @param packs pack files the index names
 * @param packBytes their length on disk
 * @param ingest the counters of the mounted process's pipeline since it started; empty unmounted
 * @param requests the mounted process's counters of the filesystem requests it served since it
 *     started, one per kind of request; empty unmounted
 */
public record RepositoryStats(List<SnapshotSummary> snapshots, SpaceReport space, long packs, long packBytes,
    Optional<LastCollection> lastGc, Optional<IngestStats> ingest, List<RequestStats.Snapshot> requests) {
  public RepositoryStats {
    snapshots = List.copyOf(snapshots);
    requests = List.copyOf(requests);
    Objects.requireNonNull(space, "space");
  }

  /**
   * Counts the repository open in this process (see {@link SpaceCounter#count}). {@code ingest} and
   * {@code requests} are the pipeline's and the filesystem's counters if this process is a mount.
   */
  public static RepositoryStats of(ChunkIndex index, SpaceCounter counter, Optional<IngestStats> ingest,
      List<RequestStats.Snapshot> requests) throws IOException, InterruptedException {
    return counter.count((records, space) -> {
      long packs = 0;
      long packBytes = 0;
      for (PackRecord p : index.packs().values()) {
        packs++;
        packBytes += p.fileLength();
      }
      return new RepositoryStats(records.stream().map(SnapshotSummary::of).toList(), space, packs, packBytes,
          LastCollection.of(index), ingest, requests);
    });
  }

  /** The bytes of the live tree and of every snapshot, as if each were stored in full. */
  public long logicalBytes() {
    return space.liveBytes() + snapshots.stream().mapToLong(SnapshotSummary::bytes).sum();
  }

  /** Logical bytes per plain byte stored: what deduplication saves; 1 for an empty repository. */
  public double dedupRatio() {
    return ratio(logicalBytes(), space.plainBytes());
  }

  /** Plain bytes per stored byte: what compression saves. */
  public double compressionRatio() {
    return ratio(space.plainBytes(), space.storedBytes());
  }

  private static double ratio(long of, long to) {
    return to == 0 ? 1.0 : (double) of / to;
  }
}
