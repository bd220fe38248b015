package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.concurrent.Uninterruptibly;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.IndexWriter;
import io.dedupfs.store.index.PackCommit;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.pack.PackWriter;
import io.dedupfs.store.stats.StageStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where new chunks go: appends them to the open pack, seals it when full (or old), fsyncs sealed
 * packs in parallel and then commits them to the index — in that order, so no index entry ever
 * names a pack that is not durable (FORMAT.md §8, invariant 1). Thread-safe.
 */
final class PackSink {
  private final PackStorage storage;
  private final Encryption encryption;
  private final IndexWriter indexWriter;
  private final long targetSize;
  private final Clock clock;
  private final StageStats appendStage;
  private final StageStats sealStage;
  private final Semaphore sealSlots;
  private final ExecutorService sealers;
  private final AtomicLong nextNumber;
  private final AtomicLong packsSealed = new AtomicLong();
  private final Set<CompletableFuture<Void>> outstanding = ConcurrentHashMap.newKeySet();

  private final BeforeFirstPack beforeFirstPack;
  private final Object firstPackLock = new Object();
  private boolean packWritten;

  private PackWriter current;
  private List<InFlightChunk> currentChunks = new ArrayList<>();
  private long currentOpenedAt;

  PackSink(PackStorage storage, Encryption encryption, IndexWriter indexWriter, long firstNumber, long targetSize,
      int maxPendingSeals, Clock clock, StageStats appendStage, StageStats sealStage, BeforeFirstPack beforeFirstPack) {
    this.beforeFirstPack = beforeFirstPack;
    this.storage = storage;
    this.encryption = encryption;
    this.indexWriter = indexWriter;
    this.targetSize = targetSize;
    this.clock = clock;
    this.appendStage = appendStage;
    this.sealStage = sealStage;
    this.sealSlots = new Semaphore(maxPendingSeals);
    this.sealers = Executors.newFixedThreadPool(maxPendingSeals, r -> {
      Thread t = new Thread(r, "dedupfs-pack-sealer");
      t.setDaemon(true);
      return t;
    });
    this.nextNumber = new AtomicLong(firstNumber);
  }

  /** Runs once before the first pack file is created (the repository's format upgrade, FORMAT.md §3). */
  interface BeforeFirstPack {
    void run() throws IOException;
  }

  /** Appends a stored chunk; the chunk's durable future completes once its pack is committed. */
  synchronized void append(InFlightChunk chunk, ChunkKind kind, ChunkEncoding encoding, int plainLength, ByteBuffer stored)
      throws IOException, InterruptedException {
    appendToCurrent(List.of(chunk), w -> List.of(w.append(chunk.id, kind, encoding, plainLength, stored)));
  }

  /** Appends a stored block (FORMAT.md §5.1); each chunk's future completes once its pack is committed. */
  synchronized void appendBlock(List<InFlightChunk> chunks, List<PackWriter.BlockMember> members, ByteBuffer stored)
      throws IOException, InterruptedException {
    appendToCurrent(chunks, w -> w.appendBlock(members, stored));
  }

  private interface Append {
    List<PackIndexEntry> to(PackWriter writer) throws IOException;
  }

  private void appendToCurrent(List<InFlightChunk> chunks, Append append) throws IOException, InterruptedException {
    long start = System.nanoTime();
    if (current == null) {
      current = new PackWriter(allocate(), storage, encryption);
      currentOpenedAt = clock.millis();
    }
    long before = current.storedBytes();
    List<PackIndexEntry> entries;
    try {
      entries = append.to(current);
    } catch (IOException e) {
      abandonCurrent(e);
      throw e;
    }
    for (int i = 0; i < chunks.size(); i++) {
      chunks.get(i).location = ChunkLocation.of(current.number(), entries.get(i));
    }
    currentChunks.addAll(chunks);
    appendStage.worked(System.nanoTime() - start);
    appendStage.processed(chunks.size(), current.storedBytes() - before);
    if (current.size() >= targetSize) {
      sealCurrent();
    }
  }

  /** Seals the open pack if it has been open longer than {@code age}. */
  synchronized void sealIfOlderThan(Duration age) throws InterruptedException {
    if (current != null && clock.millis() - currentOpenedAt >= age.toMillis()) {
      sealCurrent();
    }
  }

  /** A pack number for a pack written outside this sink (the collector's rewrites): never reused. */
  long allocatePackNumber() throws IOException {
    return allocate().value();
  }

  private PackNumber allocate() throws IOException {
    synchronized (firstPackLock) {
      if (!packWritten) {
        beforeFirstPack.run();
        packWritten = true;
      }
    }
    return new PackNumber(nextNumber.getAndIncrement());
  }

  /** The number the next pack will get. */
  long nextPackNumber() {
    return nextNumber.get();
  }

  /** Seals the open pack, if any; the returned future completes when every pack sealed so far is committed. */
  CompletableFuture<Void> sealAll() throws InterruptedException {
    synchronized (this) {
      if (current != null) {
        sealCurrent();
      }
    }
    return CompletableFuture.allOf(outstanding.toArray(new CompletableFuture<?>[0]));
  }

  private void sealCurrent() throws InterruptedException {
    long waitStart = System.nanoTime();
    sealSlots.acquire();
    appendStage.waitedForOutput(System.nanoTime() - waitStart);
    PackWriter writer = current;
    List<InFlightChunk> chunks = currentChunks;
    current = null;
    currentChunks = new ArrayList<>();
    CompletableFuture<Void> committed = new CompletableFuture<>();
    outstanding.add(committed);
    committed.whenComplete((v, e) -> outstanding.remove(committed));
    sealers.execute(() -> seal(writer, chunks, committed));
  }

  private void seal(PackWriter writer, List<InFlightChunk> chunks, CompletableFuture<Void> committed) {
    long start = System.nanoTime();
    PackCommit commit;
    try {
      List<PackIndexEntry> entries = writer.seal();
      commit = new PackCommit(writer.number(),
          new PackRecord(writer.size(), entries.size(), writer.storedBytes(), clock.millis()), entries);
    } catch (IOException | RuntimeException e) {
      writer.discardAfter(e);
      fail(chunks, e);
      committed.completeExceptionally(e);
      return;
    } finally {
      sealSlots.release();
      sealStage.worked(System.nanoTime() - start);
    }
    sealStage.processed(1, writer.size());
    packsSealed.incrementAndGet();
    indexWriter.submit(commit).whenComplete((v, e) -> {
      if (e == null) {
        chunks.forEach(c -> c.durable.complete(null));
        committed.complete(null);
      } else {
        fail(chunks, e);
        committed.completeExceptionally(e);
      }
    });
  }

  private void abandonCurrent(IOException cause) {
    current.discardAfter(cause);
    fail(currentChunks, cause);
    current = null;
    currentChunks = new ArrayList<>();
  }

  private static void fail(List<InFlightChunk> chunks, Throwable cause) {
    chunks.forEach(c -> c.durable.completeExceptionally(cause));
  }

  long packsSealed() {
    return packsSealed.get();
  }

  /** Lets queued seals finish, then stops the sealer threads. */
  void shutdown() {
    Uninterruptibly.shutdown(sealers);
  }
}
