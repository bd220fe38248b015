package io.dedupfs.gc;

import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.snapshot.LiveTreeRestore;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * {@code dedupfs check --repair} (FORMAT.md §13): rebuilds the chunk index from the packs, makes
 * the newest snapshot the live tree again when the index was lost, turns the live files' lost
 * data into named holes, reports every snapshot path whose data is lost, drops cached trees that
 * are not whole, and then checks. Runs with no collection and no snapshot change meanwhile; in a
 * mounted repository, writes go on.
 */
public final class Repairer {
  private final Repository repository;
  private final Namespace namespace;
  private final Snapshots snapshots;
  private final IngestPipeline pipeline;
  private final Snapshots.PendingWrites pending;
  private final ChunkReader chunks;
  /**
   * Tree nodes read after the tables were repaired: a reader shared with the mount may hold nodes
   * parsed before, whose chunks the repair found gone, and would take them for whole.
   */
  private static final long TREE_CACHE_BYTES = 8L << 20;
  private final GcSettings settings;
  private final Clock clock;

  public Repairer(Repository repository, Namespace namespace, Snapshots snapshots, IngestPipeline pipeline,
      Snapshots.PendingWrites pending, ChunkReader chunks, GcSettings settings, Clock clock) {
    this.repository = repository;
    this.namespace = namespace;
    this.snapshots = snapshots;
    this.pipeline = pipeline;
    this.pending = pending;
    this.chunks = chunks;
    this.settings = settings;
    this.clock = clock;
  }

  /** Repairs, then checks (reading every chunk if {@code readData}); the report has both. */
  public CheckReport run(boolean readData, GcProgress progress) throws IOException, InterruptedException {
    ChunkIndex index = repository.index();
    PackStorage packs = repository.packs();
    Findings repaired = new Findings();
    Findings lost = new Findings();
    SnapshotReader trees = new SnapshotReader(chunks, TREE_CACHE_BYTES);
    snapshots.exclusively(records -> {
      // Everything written so far is in sealed, committed packs: those at or above the epoch are the writers'.
      pending.commitAll();
      long epoch = pipeline.flushToEpoch();
      ChunkTableRepair.Outcome tables = new ChunkTableRepair(index, packs, repository.encryption(), settings, clock,
          repaired)
          .run(epoch, progress);
      LostDataScan scan = new LostDataScan(index, namespace, trees, tables.lostChunks());
      if (index.rebuilding()) {
        restoreLiveTree(records, trees, tables.sealedPacks(), repaired, lost);
      }
      progress.update("live tree", 0, -1);
      scan.liveTree(lost);
      for (long directory : scan.treeCache()) {
        repaired.add("tree cache: the cached tree of directory inode " + directory + " is not whole: dropped");
      }
      long done = 0;
      for (SnapshotRecord s : records) {
        progress.update("snapshots", done++, records.size());
        scan.snapshot(s, lost);
      }
      if (index.rebuilding()) {
        index.finishRebuild();
      }
      return null;
    });
    progress.update("check", 0, -1);
    return new Checker(repository, namespace, snapshots, chunks, trees, settings).run(readData).after(repaired, lost);
  }

  /**
   * The live tree lived only in the lost index: the newest snapshot is the best there is, and what
   * changed after it is gone, which the report says.
   */
  private void restoreLiveTree(List<SnapshotRecord> records, SnapshotReader trees, long sealedPacks,
      Findings repaired, Findings lost) throws IOException {
    String rebuilt = "the index was missing: rebuilt from " + sealedPacks + " packs and " + records.size()
        + " snapshot records; ";
    if (records.isEmpty()) {
      repaired.add(rebuilt + "with no snapshot the live tree is empty: every file written is lost");
      lost.add("live tree: every file (no snapshot to restore it from)");
      return;
    }
    SnapshotRecord newest = records.get(records.size() - 1);
    new LiveTreeRestore(trees, namespace, (path, why) ->
        lost.add("live tree: " + path + ": could not be restored from snapshot " + newest.name() + " (" + why.getMessage()
            + ")")).restore(newest);
    repaired.add(rebuilt + "the live tree is snapshot " + newest.name() + " of "
        + Instant.ofEpochSecond(0, newest.createdNanos()) + " again: changes made after it are lost");
  }
}
