package io.dedupfs.gc;

import io.dedupfs.gc.sort.ExternalSorter;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mark-and-sweep collector (FORMAT.md §11), run by the process that holds the repository,
 * beside live writes: mark, set the unreferenced aside as fossils, wait for writes in flight,
 * mark again, then delete the fossils still unreferenced and the packs left empty. Memory is the
 * sort's budget plus a map of packs, whatever the number of chunks.
 */
public final class Collector {
  private static final Logger LOG = LoggerFactory.getLogger(Collector.class);

  private final ChunkIndex index;
  private final PackStorage packs;
  private final IngestPipeline pipeline;
  private final Snapshots snapshots;
  private final Snapshots.PendingWrites pending;
  private final ReferenceMarker marker;
  private final PackRewriter rewriter;
  private final GcSettings settings;

  public Collector(Repository repository, Namespace namespace, IngestPipeline pipeline, Snapshots snapshots,
      SnapshotReader trees, Snapshots.PendingWrites pending, GcSettings settings) {
    this.index = repository.index();
    this.packs = repository.packs();
    this.pipeline = pipeline;
    this.snapshots = snapshots;
    this.pending = pending;
    this.marker = new ReferenceMarker(namespace, trees, settings);
    this.rewriter = new PackRewriter(repository, pipeline);
    this.settings = settings;
  }

  /** The same collector working only {@code share} of the time (a background collection). */
  public Collector paced(double share) {
    return new Collector(index, packs, pipeline, snapshots, marker, pending, rewriter, settings.withShare(share));
  }

  private Collector(ChunkIndex index, PackStorage packs, IngestPipeline pipeline, Snapshots snapshots,
      ReferenceMarker marker, Snapshots.PendingWrites pending, PackRewriter rewriter, GcSettings settings) {
    this.index = index;
    this.packs = packs;
    this.pipeline = pipeline;
    this.snapshots = snapshots;
    this.marker = marker;
    this.pending = pending;
    this.rewriter = rewriter;
    this.settings = settings;
  }

  /** One collection; no snapshot is taken or deleted meanwhile, writes go on. */
  public GcReport run() throws IOException, InterruptedException {
    return run(GcProgress.NONE);
  }

  /** One collection telling {@code progress} how far it got. */
  public GcReport run(GcProgress progress) throws IOException, InterruptedException {
    if (settings.share() < 1) {
      // In the background: a snapshot waiting to be taken stops the run; the caller tries later.
      return snapshots.exclusively(records -> collect(records, progress));
    }
    while (true) {
      try {
        return snapshots.exclusively(records -> collect(records, progress));
      } catch (Pacer.GaveWayException e) {
        // Asked for: the snapshot is taken first (a mounted filesystem must not wait out a whole
        // collection for a mkdir), then the collection starts over.
        LOG.info("collection gave way to a snapshot; starting over");
      }
    }
  }

  /**
   * What a collection would free if the snapshots numbered in {@code without} were deleted first:
   * the chunks and stored bytes nothing else references, and the packs left with no live chunk.
   * Changes nothing.
   */
  public GcReport estimate(Set<Long> without) throws IOException, InterruptedException {
    return snapshots.exclusively(records -> {
      Map<String, Duration> phases = new LinkedHashMap<>();
      long t = System.nanoTime();
      List<SnapshotRecord> kept = records.stream().filter(r -> !without.contains(r.number())).toList();
      long chunks = 0;
      long bytes = 0;
      long marked;
      Map<PackNumber, Long> liveBytes = new HashMap<>();
      try (MarkedIds ids = marker.mark(kept, Pacer.UNPACED, n -> { })) {
        marked = ids.count();
        t = lap(phases, "mark", t);
        ChunkId after = null;
        for (List<ChunkEntry> page; !(page = index.chunks(after, settings.batch())).isEmpty(); ) {
          for (ChunkEntry e : page) {
            if (ids.contains(e.id())) {
              liveBytes.merge(e.location().pack(), (long) e.location().storedShare(), Long::sum);
            } else {
              chunks++;
              bytes += e.location().storedShare();
            }
          }
          after = page.get(page.size() - 1).id();
        }
      }
      long emptied = 0;
      long disk = 0;
      for (PackNumber p : index.packs().keySet()) {
        if (!liveBytes.containsKey(p)) {
          emptied++;
          disk += packs.size(p);
        }
      }
      lap(phases, "sweep", t);
      return new GcReport(marked, chunks, bytes, emptied, 0, disk, 0, phases);
    });
  }

  private GcReport collect(List<SnapshotRecord> records, GcProgress progress) throws IOException, InterruptedException {
    // Every run gives way to a snapshot waiting to be taken, at a step where stopping is safe.
    Pacer pacer = new Pacer(settings.share(), snapshots::someoneWaits);
    Map<String, Duration> phases = new LinkedHashMap<>();
    long started = System.nanoTime();
    long t = started;
    // A collection killed midway left fossils, and maybe sort runs: start from none.
    index.restoreEveryFossil(settings.batch());
    ExternalSorter.deleteLeftovers(settings.tempDirectory());
    pending.commitAll();
    long epoch = pipeline.flushToEpoch();
    t = lap(phases, "epoch", t);

    long marked;
    long chunkEntries = index.counts().chunks();
    try (MarkedIds ids = marker.mark(records, pacer, n -> progress.update("mark", n, -1))) {
      marked = ids.count();
      t = lap(phases, "mark", t);
      fossilize(ids, epoch, pacer, n -> progress.update("set aside", n, chunkEntries));
      t = lap(phases, "set aside", t);
    }
    // Writes that deduplicated against a chunk before it was set aside commit their extents now.
    pending.commitAll();
    pipeline.flush();
    t = lap(phases, "barrier", t);

    long[] freed;
    try (MarkedIds ids = marker.mark(records, pacer, n -> progress.update("mark again", n, marked))) {
      t = lap(phases, "mark again", t);
      freed = bury(ids, pacer, n -> progress.update("bury", n, -1));
    }
    index.sync();
    t = lap(phases, "bury", t);

    PackOutcome outcome = deletePacks(epoch, pacer, (done, total) -> progress.update("packs", done, total));
    lap(phases, "packs", t);
    GcReport report = new GcReport(marked, freed[0], freed[1], outcome.deleted, outcome.orphans, outcome.bytesOnDisk,
        outcome.rewritten, phases);
    LOG.info("collection done: {}", report);
    LastCollection.of(report, Instant.now(), Duration.ofNanos(System.nanoTime() - started), settings.share() < 1)
        .save(index);
    return report;
  }

  private static long lap(Map<String, Duration> phases, String phase, long since) {
    long now = System.nanoTime();
    phases.put(phase, Duration.ofNanos(now - since));
    return now;
  }

  /** Sets aside every unreferenced chunk of a pack written before the epoch. */
  private void fossilize(MarkedIds referenced, long epoch, Pacer pacer, java.util.function.LongConsumer swept)
      throws IOException, InterruptedException {
    List<ChunkEntry> batch = new ArrayList<>();
    ChunkId after = null;
    long done = 0;
    for (List<ChunkEntry> page; !(page = index.chunks(after, settings.batch())).isEmpty(); ) {
      for (ChunkEntry e : page) {
        if (e.location().pack().value() < epoch && !referenced.contains(e.id())) {
          batch.add(e);
        }
      }
      after = page.get(page.size() - 1).id();
      if (batch.size() >= settings.batch()) {
        index.fossilize(batch);
        batch.clear();
      }
      done += page.size();
      swept.accept(done);
      pacer.step();
    }
    index.fossilize(batch);
  }

  /** Puts referenced fossils back and deletes the rest; returns the chunks and stored bytes freed. */
  private long[] bury(MarkedIds referenced, Pacer pacer, java.util.function.LongConsumer buried)
      throws IOException, InterruptedException {
    long done = 0;
    long chunks = 0;
    long bytes = 0;
    ChunkId after = null;
    for (List<ChunkEntry> page; !(page = index.fossils(after, settings.batch())).isEmpty(); ) {
      List<ChunkId> back = new ArrayList<>();
      List<ChunkId> dead = new ArrayList<>();
      for (ChunkEntry e : page) {
        if (referenced.contains(e.id())) {
          back.add(e.id());
        } else {
          dead.add(e.id());
          chunks++;
          bytes += e.location().storedShare();
        }
      }
      after = page.get(page.size() - 1).id();
      index.restoreFossils(back);
      index.buryFossils(dead);
      done += page.size();
      buried.accept(done);
      pacer.step();
    }
    return new long[] {chunks, bytes};
  }

  private record PackOutcome(long deleted, long orphans, long bytesOnDisk, long rewritten) {}

  /**
   * Rewrites the packs before the epoch whose live bytes fell below the rewrite threshold, deletes
   * those no chunk names any more, and pack files no entry names that earlier processes left.
   */
  /** Packs handled so far, of how many. */
  private interface PackCount {
    void handled(long done, long total);
  }

  private PackOutcome deletePacks(long epoch, Pacer pacer, PackCount count) throws IOException, InterruptedException {
    Map<PackNumber, Long> liveBytes = new HashMap<>();
    ChunkId after = null;
    for (List<ChunkEntry> page; !(page = index.chunks(after, settings.batch())).isEmpty(); ) {
      for (ChunkEntry e : page) {
        liveBytes.merge(e.location().pack(), (long) e.location().storedShare(), Long::sum);
      }
      after = page.get(page.size() - 1).id();
      pacer.step();
    }
    Map<PackNumber, PackRecord> entries = index.packs();
    List<PackNumber> empty = new ArrayList<>();
    List<PackNumber> worthRewriting = new ArrayList<>();
    for (Map.Entry<PackNumber, PackRecord> p : entries.entrySet()) {
      Long live = liveBytes.get(p.getKey());
      if (p.getKey().value() >= epoch) {
        continue;
      }
      if (live == null) {
        empty.add(p.getKey());
      } else if (live < settings.rewriteBelow() * p.getValue().storedBytes()) {
        worthRewriting.add(p.getKey());
      }
    }
    long bytesOnDisk = 0;
    long rewritten = 0;
    for (PackNumber p : worthRewriting) {
      try {
        bytesOnDisk += rewriter.rewrite(p);
        rewritten++;
      } catch (CorruptDataException e) {
        // A damaged block cannot be decoded to leave its dead members out: the pack stays as it is,
        // and the collection goes on with the others.
        LOG.warn("pack {} is not rewritten: {}; dedupfs check --read-data lists what is damaged", p, e.getMessage());
      }
      count.handled(rewritten, worthRewriting.size() + empty.size());
      pacer.step();
    }
    for (PackNumber p : empty) {
      index.removePack(p);
    }
    // The entries go, durably, before the files: a crash in between leaves files nothing names.
    index.sync();
    for (PackNumber p : empty) {
      bytesOnDisk += deleteFile(p);
    }
    count.handled(rewritten + empty.size(), worthRewriting.size() + empty.size());
    long orphans = 0;
    for (PackNumber p : packs.list()) {
      if (!entries.containsKey(p) && p.value() < pipeline.firstPackOfThisProcess()) {
        bytesOnDisk += deleteFile(p);
        orphans++;
      }
    }
    return new PackOutcome(empty.size(), orphans, bytesOnDisk, rewritten);
  }

  private long deleteFile(PackNumber p) throws IOException {
    long size = packs.size(p);
    packs.delete(p);
    return size;
  }
}
