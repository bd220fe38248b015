package io.dedupfs.store.ingest;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkIdScheme;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.chunk.Chunker;
import io.dedupfs.store.chunk.GearTable;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.concurrent.Uninterruptibly;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.IndexWriter;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.stats.StageStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded-memory ingest pipeline: streams are cut into chunks in the writers' threads (large
 * writes on chunker threads), then
 * workers hash each chunk, drop duplicates (already indexed or already in flight), compress and
 * append it to a pack; sealed packs are fsynced in parallel and committed to the index by its
 * one writer thread. All buffers come from one pool under one byte budget.
 */
public final class IngestPipeline implements AutoCloseable {
  private static final ChunkJob STOP = new ChunkJob(null, null, 0, null);
  private static final int QUEUE_CAPACITY = 4096;
  /** How long a stream waits for busy streams to finish their call before asking again. */
  private static final long STAGING_RETRY_MILLIS = 20;
  /**
   * Writes this large or larger, to a stream that already holds as much as {@link
   * #STREAM_THRESHOLD}, are chunked on a chunker thread, not in the writer's, while the workers
   * keep up (no more chunks wait for them than {@link #KEPT_UP_QUEUE}). Smaller files gain nothing
   * from the hand-off: their writer closes them right away and waits for their chunks. Nor does a
   * writer that would wait for the workers anyway; the hand-off then only costs the copy.
   */
  private static final int SEGMENT_THRESHOLD = 64 << 10;
  private static final long STREAM_THRESHOLD = 1 << 20;
  private static final int KEPT_UP_QUEUE = 64;
  /** At most this much written data waits for a chunker thread. */
  private static final long SEGMENTS_MAX = 8L << 20;
  private static final Logger LOG = LoggerFactory.getLogger(IngestPipeline.class);

  private final ChunkIndex index;
  private final RepositoryConfig config;
  private final Encryption encryption;
  private final ChunkIdScheme chunkIds;
  private final long[] gear;
  private final int maxChunk;
  private final BufferPool pool;
  private final BlockingQueue<ChunkJob> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
  private final ConcurrentHashMap<ChunkId, InFlightChunk> inFlight = new ConcurrentHashMap<>();
  private final List<Thread> workers = new ArrayList<>();
  private final List<PooledBuffer> workerScratch = new ArrayList<>();
  private final IndexWriter indexWriter;
  private final PackSink sink;
  private final ChunkEncoder encoder;
  /** Stores small chunks in blocks; null when chunks are not compressed (a block would gain nothing). */
  private final BlockStore blocks;
  private final ScheduledExecutorService sealTimer;
  private final long firstPack;

  private final StageStats chunkStage = new StageStats("chunk");
  private final StageStats hashStage = new StageStats("hash");
  private final StageStats lookupStage = new StageStats("lookup");
  private final StageStats compressStage = new StageStats("compress");
  private final StageStats encryptStage = new StageStats("encrypt");
  private final StageStats appendStage = new StageStats("append");
  private final StageStats sealStage = new StageStats("seal+fsync");
  private final StageStats commitStage = new StageStats("index commit");
  private final LongAdder newChunks = new LongAdder();
  private final LongAdder newBytes = new LongAdder();
  private final LongAdder duplicateChunks = new LongAdder();
  private final LongAdder duplicateBytes = new LongAdder();
  private final LongAdder storedBytes = new LongAdder();

  private final Object stagingLock = new Object();
  private final long stagingLimit;
  private long stagingBytes;
  /** Streams holding a staging buffer, oldest first: the order in which idle ones are asked to give it up. */
  private final Set<ChunkStreamWriter> stagingHolders = new LinkedHashSet<>();
  private final Object idleLock = new Object();
  private long pendingJobs;
  /** Budget bytes that segments (writes waiting for a chunker thread) may hold. */
  private final int segmentLimit;
  private final Semaphore segmentBytes;
  private final ExecutorService chunkers;

  public IngestPipeline(Repository repository, IngestSettings settings, Clock clock) throws IOException {
    this.index = repository.index();
    this.config = repository.config();
    this.encryption = repository.encryption();
    this.chunkIds = repository.chunkIds();
    this.gear = GearTable.fromSeed(repository.gearSeed());
    this.maxChunk = config.chunker().max();
    int largest = BufferPool.classSize(maxChunk);
    // A worker's scratch holds a chunk compressed, or sealed: then with a nonce and a tag around it.
    int scratchSize = BufferPool.classSize(maxChunk + encryption.overhead());
    boolean compressing = config.compression().algorithm() != Compression.Algorithm.NONE;
    long blockReserve = compressing ? BlockBuilder.reservedBytes(encryption.overhead()) : 0;
    long chunkBudget = settings.memoryBytes() - (long) settings.workers() * scratchSize - blockReserve;
    // Stagings may hold at most half of what the workers' scratch leaves, so chunk buffers always find room.
    this.stagingLimit = chunkBudget / 2;
    if (stagingLimit < largest) {
      long minimum = (long) settings.workers() * scratchSize + blockReserve + 2L * largest;
      throw new IllegalArgumentException("memory budget too small: with " + settings.workers() + " workers and a "
          + maxChunk + "-byte maximum chunk it must be at least " + minimum + " bytes ("
          + ((minimum + (1 << 20) - 1) >> 20) + " MiB)");
    }
    // Segments get what stagings leave but one largest chunk buffer: a chunk can always be cut.
    this.segmentLimit = (int) Math.max(0, Math.min(SEGMENTS_MAX, chunkBudget - stagingLimit - largest));
    this.segmentBytes = new Semaphore(segmentLimit);
    this.chunkers = Executors.newFixedThreadPool(settings.workers(), new ThreadFactory() {
      private final AtomicInteger next = new AtomicInteger();

      @Override
      public Thread newThread(Runnable r) {
        Thread t = new Thread(r, "dedupfs-chunker-" + next.getAndIncrement());
        t.setDaemon(true);
        return t;
      }
    });
    this.pool = new BufferPool(new MemoryBudget(settings.memoryBytes()));
    this.indexWriter = new IndexWriter(index, commitStage);
    long firstPack = index.nextPackNumber();
    for (PackNumber p : repository.packs().list()) {
      firstPack = Math.max(firstPack, p.value() + 1);
    }
    this.firstPack = firstPack;
    // Everything it writes is of the current format (FORMAT.md §3).
    this.sink = new PackSink(repository.packs(), encryption, indexWriter, firstPack, config.packTargetSize(),
        settings.maxPendingSeals(), clock, appendStage, sealStage, repository::upgradeFormat);
    this.encoder = new ChunkEncoder(encryption, sink, compressStage, encryptStage, storedBytes);
    this.blocks = compressing
        ? new BlockStore(pool, clock, config.compression(), encryption.overhead(), encoder) : null;
    for (int i = 0; i < settings.workers(); i++) {
      PooledBuffer scratch = pool.tryAcquire(scratchSize);
      workerScratch.add(scratch);
      Thread t = new Thread(() -> work(scratch.buffer()), "dedupfs-ingest-worker-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
    this.sealTimer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dedupfs-seal-timer");
      t.setDaemon(true);
      return t;
    });
    long periodMillis = Math.max(100, settings.commitInterval().toMillis() / 4);
    sealTimer.scheduleWithFixedDelay(() -> {
      // A scheduled task that throws is never run again: nothing may escape, or commits would stop.
      try {
        if (blocks != null) {
          blocks.storeOpenIfOlderThan(settings.commitInterval(), this::sealOpenPackQuietly);
        }
        sink.sealIfOlderThan(settings.commitInterval());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable e) {
        LOG.error("periodic pack seal failed; will retry", e);
      }
    }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** Starts a new stream (one file's bytes). */
  public ChunkStreamWriter openStream() {
    return new ChunkStreamWriter(this, new Chunker(config.chunker(), gear), maxChunk);
  }

  /** Where a chunk that is appended but not yet committed can be read, if it is one. */
  public Optional<ChunkLocation> locateUncommitted(ChunkId id) {
    InFlightChunk c = inFlight.get(id);
    return c == null ? Optional.empty() : Optional.ofNullable(c.location);
  }

  /**
   * Makes everything handed to the pipeline so far durable: waits until the workers have taken
   * every queued chunk, seals the open pack and waits for every commit.
   */
  public void flush() throws IOException, InterruptedException {
    synchronized (idleLock) {
      while (pendingJobs > 0) {
        idleLock.wait();
      }
    }
    try {
      storeOpenBlock();
      sink.sealAll().get();
    } catch (ExecutionException e) {
      throw new StoreException("could not make written data durable: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * Seals the open pack now, so that chunks already appended become durable without waiting for
   * the pack to fill or age. Unlike {@link #flush()} it does not wait for other writers' queued
   * chunks, so a busy pipeline cannot delay it.
   */
  public void sealOpenPack() throws InterruptedException {
    try {
      storeOpenBlock();
    } catch (IOException e) {
      // The block's chunks carry the failure to whoever waits for them.
      LOG.debug("storing the open block failed", e);
    }
    sink.sealAll();
  }

  /** For the seal timer, after it had the open block stored: seals the pack it went into. */
  private void sealOpenPackQuietly() {
    try {
      sink.sealAll();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Has the open block stored now, if any, so that its chunks can become durable before it fills. */
  private void storeOpenBlock() throws IOException, InterruptedException {
    if (blocks != null) {
      blocks.storeOpen();
    }
  }

  /**
   * Makes everything handed over so far durable ({@link #flush()}) and returns the number the
   * next pack will get: every pack numbered below it is sealed and committed, or was left by an
   * earlier process.
   */
  public long flushToEpoch() throws IOException, InterruptedException {
    flush();
    // The index's next-pack also counts packs entered without this pipeline (a collector's rewrites).
    return Math.max(sink.nextPackNumber(), index.nextPackNumber());
  }

  /** A fresh pack number from this process's sequence, for a pack written outside the pipeline. */
  public PackNumber allocatePackNumber() throws IOException {
    return new PackNumber(sink.allocatePackNumber());
  }

  /** Packs numbered below this were written by earlier processes; this one never writes them. */
  public long firstPackOfThisProcess() {
    return firstPack;
  }

  public IngestStats stats() {
    return new IngestStats(
        List.of(chunkStage.snapshot(), hashStage.snapshot(), lookupStage.snapshot(), compressStage.snapshot(),
            encryptStage.snapshot(),
            appendStage.snapshot(), sealStage.snapshot(), commitStage.snapshot()),
        newChunks.sum(), newBytes.sum(), duplicateChunks.sum(), duplicateBytes.sum(), storedBytes.sum(),
        pool.budget().inUseBytes(), pool.budget().totalBytes(), pool.budget().blockedNanos(), queue.size(),
        sink.packsSealed());
  }

  BufferPool buffers() {
    return pool;
  }

  StageStats chunkStage() {
    return chunkStage;
  }

  /** Whether a write of {@code length} bytes to a stream of {@code streamLength} so far is worth a chunker thread. */
  boolean worthHandingOff(long streamLength, int length) {
    return length >= SEGMENT_THRESHOLD && streamLength >= STREAM_THRESHOLD && queue.size() <= KEPT_UP_QUEUE;
  }

  /** Whether a write of {@code length} bytes may wait for a chunker thread at all. */
  boolean segmentsFit(int length) {
    return BufferPool.classSize(length) <= segmentLimit;
  }

  /** A buffer for a write of {@code length} bytes to wait in; blocks while segments are at their cap. */
  PooledBuffer acquireSegment(int length) throws InterruptedException {
    int size = BufferPool.classSize(length);
    segmentBytes.acquire(size);
    try {
      return pool.acquire(size);
    } catch (InterruptedException | RuntimeException e) {
      segmentBytes.release(size);
      throw e;
    }
  }

  void releaseSegment(PooledBuffer segment) {
    int size = segment.capacity();
    segment.close();
    segmentBytes.release(size);
  }

  /** Runs a stream's chunking on a chunker thread, or in the caller's once the pipeline is closing. */
  void chunkLater(Runnable drain) {
    try {
      chunkers.execute(drain);
    } catch (RejectedExecutionException e) {
      drain.run();
    }
  }

  /**
   * A staging buffer for {@code stream}. When stagings are at their cap, idle streams (oldest
   * first) are asked to cut their chunk and give theirs up; streams inside a call always finish
   * it, so waiting for them ends.
   */
  PooledBuffer acquireStaging(ChunkStreamWriter stream, int minCapacity) throws InterruptedException {
    int size = BufferPool.classSize(minCapacity);
    while (true) {
      List<ChunkStreamWriter> holders;
      synchronized (stagingLock) {
        if (stagingBytes + size <= stagingLimit) {
          stagingBytes += size;
          stagingHolders.add(stream);
          break;
        }
        holders = new ArrayList<>(stagingHolders);
      }
      boolean reclaimed = false;
      for (ChunkStreamWriter holder : holders) {
        if (holder != stream && holder.giveUpStagingIfIdle()) {
          reclaimed = true;
          break;
        }
      }
      if (!reclaimed) {
        synchronized (stagingLock) {
          stagingLock.wait(STAGING_RETRY_MILLIS);
        }
      }
    }
    return pool.acquire(size);
  }

  /** A bigger staging buffer, or null when stagings may not grow now (the caller then cuts). */
  PooledBuffer tryGrowStaging(PooledBuffer current, int minCapacity) throws InterruptedException {
    int size = BufferPool.classSize(minCapacity);
    synchronized (stagingLock) {
      if (stagingBytes + size > stagingLimit) {
        return null;
      }
      stagingBytes += size;
    }
    return pool.acquire(size);
  }

  /** Returns a staging buffer; {@code stream} is null when the stream keeps a bigger one instead. */
  void releaseStaging(ChunkStreamWriter stream, PooledBuffer staging) {
    int size = staging.capacity();
    staging.close();
    synchronized (stagingLock) {
      stagingBytes -= size;
      if (stream != null) {
        stagingHolders.remove(stream);
      }
      stagingLock.notifyAll();
    }
  }

  CompletableFuture<ChunkRef> submit(PooledBuffer chunk, int length) throws InterruptedException {
    return submit(ChunkKind.DATA, chunk, length);
  }

  /**
   * Stores {@code plain} whole as one chunk of {@code kind} (a tree node, FORMAT.md §10.1): a DATA
   * chunk at most the repository's maximum chunk size, any other at most 16 MiB (stored raw if its
   * compressed form does not fit the workers' scratch); the future completes once it is committed.
   */
  public CompletableFuture<ChunkRef> store(ChunkKind kind, byte[] plain) throws InterruptedException {
    // The config's maximum bounds DATA chunks; any chunk may have up to 16 MiB (FORMAT.md §5).
    int limit = kind == ChunkKind.DATA ? maxChunk : BufferPool.LARGEST_CLASS;
    if (plain.length > limit) {
      throw new IllegalArgumentException("a " + kind + " chunk of " + plain.length + " bytes is larger than the "
          + limit + "-byte maximum");
    }
    PooledBuffer buffer = pool.acquire(Math.max(1, plain.length));
    buffer.buffer().put(0, plain);
    return submit(kind, buffer, plain.length);
  }

  private CompletableFuture<ChunkRef> submit(ChunkKind kind, PooledBuffer chunk, int length) throws InterruptedException {
    CompletableFuture<ChunkRef> durable = new CompletableFuture<>();
    synchronized (idleLock) {
      pendingJobs++;
    }
    queue.put(new ChunkJob(kind, chunk, length, durable));
    return durable;
  }

  private void jobDone() {
    synchronized (idleLock) {
      if (--pendingJobs == 0) {
        idleLock.notifyAll();
      }
    }
  }

  private void work(ByteBuffer scratch) {
    ChunkHasher hasher = chunkIds.newHasher();
    try (ChunkCompressor compressor = new ChunkCompressor(config.compression())) {
      while (true) {
        long waitStart = System.nanoTime();
        ChunkJob job = queue.take();
        if (job == STOP) {
          return;
        }
        hashStage.waitedForInput(System.nanoTime() - waitStart);
        try {
          process(job, hasher, compressor, scratch);
        } catch (Throwable e) {
          job.durable().completeExceptionally(e);
        } finally {
          job.buffer().close();
          jobDone();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void process(ChunkJob job, ChunkHasher hasher, ChunkCompressor compressor, ByteBuffer scratch)
      throws IOException, InterruptedException {
    int length = job.length();
    ByteBuffer data = job.buffer().buffer().duplicate().limit(length).position(0);
    long t0 = System.nanoTime();
    ChunkId id = hasher.idOf(data);
    long t1 = System.nanoTime();
    hashStage.worked(t1 - t0);
    hashStage.processed(1, length);
    ChunkRef ref = new ChunkRef(id, length);

    InFlightChunk mine = new InFlightChunk(id);
    InFlightChunk earlier = inFlight.putIfAbsent(id, mine);
    boolean duplicate = earlier != null;
    if (!duplicate && index.find(id).isPresent()) {
      inFlight.remove(id, mine);
      mine.durable.complete(null);
      duplicate = true;
    }
    lookupStage.worked(System.nanoTime() - t1);
    lookupStage.processed(1, length);
    InFlightChunk owner = duplicate && earlier != null ? earlier : mine;
    owner.durable.whenComplete((v, e) -> {
      if (e == null) {
        job.durable().complete(ref);
      } else {
        job.durable().completeExceptionally(e);
      }
    });
    if (duplicate) {
      duplicateChunks.increment();
      duplicateBytes.add(length);
      return;
    }
    mine.durable.whenComplete((v, e) -> inFlight.remove(id, mine));
    newChunks.increment();
    newBytes.add(length);
    try {
      if (blocks != null && BlockBuilder.joins(length)) {
        blocks.add(mine, job.kind(), data);
      } else {
        encoder.storeAlone(mine, job.kind(), data, compressor, scratch);
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      mine.durable.completeExceptionally(e);
      throw e;
    }
  }

  /** Flushes, then stops every thread and returns every buffer. */
  @Override
  public void close() throws IOException {
    try {
      flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while making written data durable");
    } finally {
      sealTimer.shutdownNow();
      // A timer run under way may still hand the block store a task: it ends first.
      Uninterruptibly.shutdown(sealTimer);
      // Streams still being chunked finish while the workers can take their chunks.
      Uninterruptibly.shutdown(chunkers);
      stopWorkers();
      // Chunks the drained streams added after the flush go into the last block and pack.
      if (blocks != null) {
        blocks.close();
      }
      // Even when closing was interrupted: an unsealed last pack would leave its chunks waiting.
      boolean interrupted = Thread.interrupted();
      try {
        sink.sealAll().get();
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException | RuntimeException e) {
        LOG.error("could not make the last written data durable", e);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      sink.shutdown();
      indexWriter.close();
      workerScratch.forEach(PooledBuffer::close);
    }
  }

  /** Stops the workers once they have drained the queue, even if this thread is interrupted. */
  private void stopWorkers() {
    for (int i = 0; i < workers.size(); i++) {
      // The workers drain the queue, so room for the stop marker always comes.
      while (!queue.offer(STOP)) {
        Thread.onSpinWait();
      }
    }
    workers.forEach(Uninterruptibly::join);
  }
}
