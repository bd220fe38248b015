package io.dedupfs.gc;

import io.dedupfs.gc.sort.ExternalSorter;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkIdSink;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Mark: every chunk id the live tree, the tree cache and the snapshots reference, sorted and
 * without repeats by an external sort in the collector's memory budget (FORMAT.md §11 step 2).
 */
final class ReferenceMarker {
  /**
   * Tree nodes remembered as walked, so that snapshots sharing subtrees cost their differences.
   * Bounded: forgetting a node only means walking it again.
   */
  static final int SEEN_NODES = 1 << 16;

  private final Namespace namespace;
  private final SnapshotReader trees;
  private final GcSettings settings;

  ReferenceMarker(Namespace namespace, SnapshotReader trees, GcSettings settings) {
    this.namespace = namespace;
    this.trees = trees;
    this.settings = settings;
  }

  /** Ids handed to the sort between two steps of the pacer. */
  static final int PACE_EVERY = 1 << 14;

  /** Marks; {@code marked} hears the number of references emitted so far, every few thousand. */
  MarkedIds mark(List<SnapshotRecord> snapshots, Pacer pacer, java.util.function.LongConsumer marked)
      throws IOException {
    ExternalSorter sorter = new ExternalSorter(ChunkId.LENGTH, settings.memoryBytes(), settings.tempDirectory());
    try {
      long[] count = {0};
      // One set for every owner: a subtree any owner reached is not walked again, its root is still marked.
      SnapshotReader.Seen seen = recentlySeen();
      walk(snapshots, (owner, id) -> {
        sorter.add(id.toBytes());
        if (++count[0] % PACE_EVERY == 0) {
          marked.accept(count[0]);
          pace(pacer);
        }
      }, () -> seen);
      return new MarkedIds(sorter, count[0]);
    } catch (IOException | RuntimeException e) {
      sorter.close();
      throw e;
    }
  }

  /** The owner of the references of the live tree and of the tree cache; a snapshot's is its number, above 0. */
  static final long LIVE = 0;

  /** Where a walk hands each reference, with its owner: {@link #LIVE} or a snapshot's number. */
  @FunctionalInterface
  interface OwnedSink {
    void accept(long owner, ChunkId id) throws IOException;
  }

  /**
   * Hands {@code sink} every chunk id the live tree, the tree cache and {@code snapshots} reference,
   * repeats included. Each owner walks with the set {@code seenOfOwner} gives it: the same set for
   * all marks each shared subtree once, a fresh one per owner hands every owner all its references.
   */
  void walk(List<SnapshotRecord> snapshots, OwnedSink sink, Supplier<SnapshotReader.Seen> seenOfOwner)
      throws IOException {
    // One read transaction: the live tree and the tree cache as of one instant.
    namespace.readTree(source -> {
      ChunkIdSink live = id -> sink.accept(LIVE, id);
      SnapshotReader.Seen seen = seenOfOwner.get();
      source.extentChunks(live);
      source.cachedTreeIds(tree -> trees.walk(tree, live, seen));
      return null;
    });
    for (SnapshotRecord s : snapshots) {
      trees.walk(s.root().tree(), id -> sink.accept(s.number(), id), seenOfOwner.get());
    }
  }

  /** A step of {@code pacer} where only I/O exceptions may be thrown: a walk's sink. */
  static void pace(Pacer pacer) throws java.io.InterruptedIOException {
    try {
      pacer.step();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while marking");
    }
  }

  static SnapshotReader.Seen recentlySeen() {
    Set<ChunkId> recent = recentTreeIds();
    return recent::add;
  }

  /** A set of at most {@link #SEEN_NODES} tree ids, forgetting the least recently used. */
  static Set<ChunkId> recentTreeIds() {
    return Collections.newSetFromMap(new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<ChunkId, Boolean> eldest) {
        return size() > SEEN_NODES;
      }
    });
  }
}
