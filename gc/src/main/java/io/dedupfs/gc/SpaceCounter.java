package io.dedupfs.gc;

import io.dedupfs.gc.sort.ExternalSorter;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.TreeSource;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts what a repository stores and what each snapshot holds alone ({@code dedupfs stats}), in
 * the collector's fixed memory whatever the number of chunks.
 *
 * <p>Every reference is emitted as a key (chunk id, owner), the owner being the live tree with the
 * tree cache, or a snapshot, and sorted by the external sorter, which drops repeats. Each owner
 * walks its trees on its own, so a subtree two snapshots share is listed under both. The sorted
 * keys are then merged with the index, both in id order: a chunk with no owner is garbage, a chunk
 * whose only owner is a snapshot is held by that snapshot alone, so exactly what deleting it and
 * collecting frees (FORMAT.md §11 keeps what the live tree, the tree cache and the other snapshots
 * reference). The cost is a walk of every snapshot in full and a sort of the sum of their
 * references (run files on the repository's disk), not memory: memory is the sort's budget plus two
 * sums per snapshot.
 */
public final class SpaceCounter {
  private static final Logger LOG = LoggerFactory.getLogger(SpaceCounter.class);

  private final ChunkIndex index;
  private final Namespace namespace;
  private final Snapshots snapshots;
  private final ReferenceMarker marker;
  private final GcSettings settings;

  public SpaceCounter(ChunkIndex index, Namespace namespace, Snapshots snapshots, SnapshotReader trees,
      GcSettings settings) {
    this.index = index;
    this.namespace = namespace;
    this.snapshots = snapshots;
    this.marker = new ReferenceMarker(namespace, trees, settings);
    this.settings = settings;
  }

  /** What is made of a count, with the snapshots it counted. */
  @FunctionalInterface
  public interface Use<T> {
    T apply(List<SnapshotRecord> counted, SpaceReport report) throws IOException;
  }

  /**
   * Counts, no snapshot coming or going and no collection running meanwhile (writes go on), and
   * hands the report to {@code use} with the snapshots counted. A snapshot asked for meanwhile is
   * taken first and the count starts over: a mkdir under {@code .snapshots} must not wait out a
   * count of a large repository.
   */
  public <T> T count(Use<T> use) throws IOException, InterruptedException {
    while (true) {
      try {
        return snapshots.exclusively(records -> use.apply(records, count(records)));
      } catch (Pacer.GaveWayException e) {
        LOG.info("counting gave way to a snapshot; starting over");
      }
    }
  }

  private SpaceReport count(List<SnapshotRecord> records) throws IOException, InterruptedException {
    Pacer pacer = new Pacer(1.0, snapshots::someoneWaits);
    long liveBytes = namespace.readTree(TreeSource::regularFileBytes);
    try (ExternalSorter sorter = new ExternalSorter(OwnerRuns.KEY_LENGTH, settings.memoryBytes(),
        settings.tempDirectory())) {
      long[] emitted = {0};
      marker.walk(records, (owner, id) -> {
        sorter.add(OwnerRuns.key(id, owner));
        if (++emitted[0] % ReferenceMarker.PACE_EVERY == 0) {
          ReferenceMarker.pace(pacer);
        }
      }, ReferenceMarker::recentlySeen);
      OwnerRuns runs = new OwnerRuns(sorter.finish());
      Tally tally = new Tally();
      List<Long> owners = new ArrayList<>();
      ChunkId after = null;
      for (List<ChunkEntry> page; !(page = index.chunks(after, settings.batch())).isEmpty(); ) {
        for (ChunkEntry e : page) {
          runs.ownersOf(e.id(), owners);
          tally.add(e, owners);
        }
        after = page.get(page.size() - 1).id();
        pacer.step();
      }
      return tally.report(liveBytes, records);
    }
  }

  /** The sums of a count, a chunk at a time. */
  private static final class Tally {
    private long chunks;
    private long plainBytes;
    private long storedBytes;
    private long unreferencedChunks;
    private long unreferencedBytes;
    private final Map<Long, long[]> uniqueAndShared = new HashMap<>();

    void add(ChunkEntry chunk, List<Long> owners) {
      long stored = chunk.location().storedShare();
      chunks++;
      plainBytes += chunk.location().plainLength();
      storedBytes += stored;
      if (owners.isEmpty()) {
        unreferencedChunks++;
        unreferencedBytes += stored;
      }
      for (long owner : owners) {
        if (owner != ReferenceMarker.LIVE) {
          uniqueAndShared.computeIfAbsent(owner, o -> new long[2])[owners.size() == 1 ? 0 : 1] += stored;
        }
      }
    }

    SpaceReport report(long liveBytes, List<SnapshotRecord> snapshots) {
      Map<Long, SpaceReport.SnapshotSpace> bySnapshot = new HashMap<>();
      for (SnapshotRecord s : snapshots) {
        long[] sums = uniqueAndShared.getOrDefault(s.number(), new long[2]);
        bySnapshot.put(s.number(), new SpaceReport.SnapshotSpace(sums[0], sums[1]));
      }
      return new SpaceReport(liveBytes, chunks, plainBytes, storedBytes, unreferencedChunks, unreferencedBytes,
          bySnapshot);
    }
  }
}
