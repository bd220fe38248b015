package io.dedupfs.store.snapshot;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkIdScheme;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.Table;
import io.dedupfs.store.ingest.ChunkRef;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.ChangeWatch;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.repo.Repository;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Taking, listing, renaming and deleting the snapshots of one open repository (FORMAT.md §10).
 * Thread-safe: calls that change the set of snapshots run one at a time; writes to the live tree
 * go on while a snapshot is taken.
 */
public final class Snapshots {
  private static final byte[] NEXT_SNAPSHOT = "next-snapshot".getBytes(StandardCharsets.US_ASCII);
  /** Snapshot numbers fit above the live inode numbers in {@code st_ino} (FORMAT.md §10.2). */
  public static final int INODE_BITS = 40;
  private static final long MAX_NUMBER = (1L << (63 - INODE_BITS)) - 1;
  /** How long to let the workers append a snapshot's nodes before sealing the open pack for them. */
  private static final long SEAL_AFTER_MILLIS = 50;

  /** Commits the writes that open files still buffer, so that a snapshot includes them. */
  @FunctionalInterface
  public interface PendingWrites {
    void commitAll() throws IOException, InterruptedException;
  }

  private final ChunkIndex index;
  private final Namespace namespace;
  private final IngestPipeline pipeline;
  private final PendingWrites pending;
  private final SnapshotRecords records;
  private final ChunkIdScheme chunkIds;
  /** Threads waiting to take a snapshot. */
  private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();
  private final List<Runnable> deletionListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  private Snapshots(ChunkIndex index, Namespace namespace, IngestPipeline pipeline, PendingWrites pending,
      SnapshotRecords records, ChunkIdScheme chunkIds) {
    this.index = index;
    this.namespace = namespace;
    this.pipeline = pipeline;
    this.pending = pending;
    this.records = records;
    this.chunkIds = chunkIds;
  }

  /**
   * The snapshots of {@code repository}, whose live tree is {@code namespace}; new tree nodes are
   * stored through {@code pipeline}, after {@code pending} committed what open files buffer.
   */
  public static Snapshots open(Repository repository, Namespace namespace, IngestPipeline pipeline,
      PendingWrites pending) throws IOException {
    return new Snapshots(repository.index(), namespace, pipeline, pending,
        SnapshotRecords.open(repository.path().resolve("snapshots"), repository.encryption()), repository.chunkIds());
  }

  /**
   * Takes a snapshot of the live tree named {@code name}: a consistent point in time after every
   * write made so far, at the cost of the directories changed since the last snapshot.
   *
   * @throws FileAlreadyExistsException if a snapshot has that name
   */
  public SnapshotRecord create(Name name) throws IOException, InterruptedException {
    SnapshotRecord created;
    waiting.incrementAndGet();
    synchronized (this) {
      waiting.decrementAndGet();
      created = createExclusively(name);
    }
    changeListeners.forEach(Runnable::run);
    return created;
  }

  /** Whether a snapshot is waiting to be taken: a background collection gives way to it. */
  public boolean someoneWaits() {
    return waiting.get() > 0;
  }

  private SnapshotRecord createExclusively(Name name) throws IOException, InterruptedException {
    requireFree(name);
    long number = allocateNumber();
    pending.commitAll();
    ChangeWatch watch = new ChangeWatch();
    namespace.startWatching(watch);
    try {
      long created = namespace.now();
      List<CompletableFuture<ChunkRef>> stored = new ArrayList<>();
      ChunkHasher hasher = chunkIds.newHasher();
      TreeSerializer.Result tree = namespace.readTree(source -> new TreeSerializer(source, node -> {
        try {
          stored.add(pipeline.store(ChunkKind.TREE, node));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while storing a snapshot");
        }
        return hasher.idOf(node);
      }).serialize());
      awaitCommitted(stored);
      // The record names the tree only once all of it is on disk (FORMAT.md §10.3).
      namespace.sync();
      SnapshotRecord record = new SnapshotRecord(number, name, created, tree.rootTree().bytes(),
          tree.rootTree().files(), tree.rootTree().directories(), tree.root());
      records.write(record);
      namespace.cacheTrees(tree.serialized(), watch);
      return record;
    } finally {
      namespace.stopWatching(watch);
    }
  }

  /** Work that must not overlap the taking, renaming or deleting of a snapshot. */
  @FunctionalInterface
  public interface ExclusiveWork<T> {
    T run(List<SnapshotRecord> snapshots) throws IOException, InterruptedException;
  }

  /**
   * Runs {@code work} with the snapshots as they are, none being taken or deleted meanwhile: the
   * collector must see every tree that references chunks, and a snapshot being taken has stored
   * nodes its record does not name yet.
   */
  public synchronized <T> T exclusively(ExclusiveWork<T> work) throws IOException, InterruptedException {
    return work.run(records.all());
  }

  /** Every snapshot, oldest first (by number). */
  public List<SnapshotRecord> list() {
    return records.all();
  }

  public Optional<SnapshotRecord> find(Name name) {
    return records.find(name);
  }

  /** @throws NoSuchFileException if no snapshot has that name */
  public SnapshotRecord get(Name name) throws NoSuchFileException {
    return find(name).orElseThrow(() -> new NoSuchFileException(name.toString(), null, "no such snapshot"));
  }

  /** Deletes a snapshot's record; its space comes back at the next garbage collection. */
  public void delete(Name name) throws IOException {
    synchronized (this) {
      records.delete(get(name));
    }
    // Outside the lock: a listener may start a collection, which takes it.
    deletionListeners.forEach(Runnable::run);
    changeListeners.forEach(Runnable::run);
  }

  /** Runs {@code listener} after each deletion (the mounted process collects in the background). */
  public void whenDeleted(Runnable listener) {
    deletionListeners.add(listener);
  }

  /** Runs {@code listener} after each creation, deletion and rename (the kernel keeps the list's listing). */
  public void whenChanged(Runnable listener) {
    changeListeners.add(listener);
  }

  /**
   * @throws NoSuchFileException if no snapshot is named {@code from}
   * @throws FileAlreadyExistsException if one is named {@code to}
   */
  public void rename(Name from, Name to) throws IOException {
    synchronized (this) {
      SnapshotRecord r = get(from);
      if (from.equals(to)) {
        return;
      }
      requireFree(to);
      records.write(r.renamed(to));
    }
    changeListeners.forEach(Runnable::run);
  }

  private void requireFree(Name name) throws FileAlreadyExistsException {
    if (records.find(name).isPresent()) {
      throw new FileAlreadyExistsException(name.toString(), null, "a snapshot with this name exists");
    }
  }

  /** A number above every one used, recorded before use so it is never handed out twice. */
  private long allocateNumber() throws IOException {
    return index.write(tx -> {
      long next = tx.get(Table.META, NEXT_SNAPSHOT).map(v -> ByteBuffer.wrap(v).getLong()).orElse(1L);
      long number = Math.max(next, records.highestNumber() + 1);
      if (number > MAX_NUMBER) {
        throw new StoreException("no snapshot numbers left (" + MAX_NUMBER + " used)");
      }
      tx.put(Table.META, NEXT_SNAPSHOT, ByteBuffer.allocate(8).putLong(0, number + 1).array());
      return number;
    });
  }

  /**
   * Waits for the snapshot's nodes to be committed. The open pack is sealed for them, as an fsync
   * would, rather than left to fill or age.
   */
  private void awaitCommitted(List<CompletableFuture<ChunkRef>> stored) throws IOException, InterruptedException {
    CompletableFuture<Void> all = CompletableFuture.allOf(stored.toArray(new CompletableFuture<?>[0]));
    try {
      while (true) {
        try {
          all.get(SEAL_AFTER_MILLIS, TimeUnit.MILLISECONDS);
          return;
        } catch (TimeoutException e) {
          pipeline.sealOpenPack();
        }
      }
    } catch (ExecutionException e) {
      throw new StoreException("could not store the snapshot's tree: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** The {@code st_ino} a mount shows for live inode {@code inode} in snapshot {@code number}. */
  public static long inodeInSnapshot(long number, long inode) {
    return number << INODE_BITS | inode;
  }
}
