package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.Chunker;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Streams one file's bytes into the pipeline: finds chunk boundaries as bytes arrive and hands
 * each chunk to the workers. Written by one thread at a time.
 *
 * <p>A large write into a large file is only copied into a segment buffer by the writing thread
 * and chunked by one of the pipeline's chunker threads, so that a FUSE write is answered without
 * waiting for its boundaries to be found: the writer produces the next bytes meanwhile. Later
 * writes queue behind it, in order; other writes are chunked in the caller's thread.
 *
 * <p>The staging buffer belongs to the stream and only holds the current, unfinished chunk. A
 * chunk is copied once, into a buffer of its own size class, from where its bytes lie: its start
 * in the staging buffer, the rest in the write that ends it. Stagings are capped as a
 * whole by the pipeline so that they can never hold the entire budget while chunk buffers wait
 * for it: when a staging may not grow, the chunk is cut where it is (a rare loss of boundary
 * stability, never of data). When stagings are all taken, the pipeline may ask an idle stream (one
 * not inside a call) to cut its chunk and give its staging up, so that any number of open streams
 * can be written by any number of threads.
 */
public final class ChunkStreamWriter implements AutoCloseable {
  private final IngestPipeline pipeline;
  private final Chunker chunker;
  private final int maxChunk;
  private final List<CompletableFuture<ChunkRef>> chunks = new ArrayList<>();
  /** Held during every call, so that the pipeline can reclaim the staging of idle streams only. */
  private final ReentrantLock busy = new ReentrantLock();
  /** Guards the queue of segments, whether a chunker thread is draining it, and its failure. */
  private final Object queueLock = new Object();
  private final ArrayDeque<PooledBuffer> queued = new ArrayDeque<>();
  private boolean draining;
  private Throwable drainFailure;
  private PooledBuffer staging;
  /** Bytes of the unfinished chunk in the staging buffer, all seen by the chunker. */
  private int filled;
  private long length;
  private boolean finished;

  ChunkStreamWriter(IngestPipeline pipeline, Chunker chunker, int maxChunk) {
    this.pipeline = pipeline;
    this.chunker = chunker;
    this.maxChunk = maxChunk;
  }

  /** Bytes written so far. */
  public long length() {
    return length;
  }

  /** Appends the bytes of {@code src} between position and limit, consuming them. */
  public void write(ByteBuffer src) throws InterruptedException {
    if (finished) {
      throw new IllegalStateException("stream already finished");
    }
    int n = src.remaining();
    boolean handOff = pipeline.worthHandingOff(length, n);
    synchronized (queueLock) {
      failIfDrainFailed();
      handOff |= draining;
    }
    if (!handOff || !pipeline.segmentsFit(n)) {
      awaitDrained();
      chunkHere(src);
      return;
    }
    PooledBuffer segment = pipeline.acquireSegment(n);
    segment.buffer().clear().put(src).flip();
    length += n;
    synchronized (queueLock) {
      queued.add(segment);
      if (draining) {
        return;
      }
      draining = true;
    }
    pipeline.chunkLater(this::drain);
  }

  private void chunkHere(ByteBuffer src) throws InterruptedException {
    busy.lock();
    try {
      long before = src.remaining();
      writeLocked(src);
      length += before;
    } finally {
      busy.unlock();
    }
  }

  /** On a chunker thread: chunks the queued segments in order until none is left. */
  private void drain() {
    while (true) {
      PooledBuffer segment;
      synchronized (queueLock) {
        segment = queued.poll();
        if (segment == null) {
          draining = false;
          queueLock.notifyAll();
          return;
        }
      }
      try {
        busy.lock();
        try {
          if (drainFailure == null && !finished) {
            writeLocked(segment.buffer());
          }
        } finally {
          busy.unlock();
        }
      } catch (Throwable e) {
        synchronized (queueLock) {
          drainFailure = e;
        }
      } finally {
        pipeline.releaseSegment(segment);
      }
    }
  }

  /** Waits until a chunker thread has chunked every queued segment. */
  private void awaitDrained() throws InterruptedException {
    synchronized (queueLock) {
      while (draining) {
        queueLock.wait();
      }
      failIfDrainFailed();
    }
  }

  private void failIfDrainFailed() {
    if (drainFailure != null) {
      throw new IllegalStateException("chunking this stream failed: " + drainFailure, drainFailure);
    }
  }

  /**
   * Finds the chunks that end in {@code src} and hands each over, copied once from where it lies
   * (the staging buffer for its start, {@code src} for the rest); keeps the unfinished rest.
   */
  private void writeLocked(ByteBuffer src) throws InterruptedException {
    long start = System.nanoTime();
    long bytes = src.remaining();
    long waited = 0;
    while (src.hasRemaining()) {
      int from = src.position();
      int cut = chunker.scan(src, from, src.limit());
      long blockedFrom = System.nanoTime();
      if (cut != Chunker.NO_CUT) {
        emit(src, cut);
      } else if (!keepUnfinished(src)) {
        // The staging buffer may not grow to hold the chunk: it ends here (a rare loss of
        // boundary stability, never of data).
        emit(src, src.remaining());
        chunker.reset();
      }
      waited += System.nanoTime() - blockedFrom;
    }
    pipeline.chunkStage().worked(System.nanoTime() - start - waited);
    pipeline.chunkStage().processed(0, bytes);
    pipeline.chunkStage().waitedForOutput(waited);
  }

  /**
   * Ends the stream. The future completes with the stream's chunks, in order, once every one of
   * them is durable and indexed.
   */
  public CompletableFuture<List<ChunkRef>> finish() throws InterruptedException {
    IllegalStateException failed = null;
    try {
      awaitDrained();
    } catch (IllegalStateException e) {
      failed = e;
    }
    List<CompletableFuture<ChunkRef>> pending;
    busy.lock();
    try {
      if (failed != null) {
        finished = true;
        releaseStaging();
        return CompletableFuture.failedFuture(failed);
      }
      if (!finished) {
        finished = true;
        cutLocked();
      }
      // Captures the list, not the writer: thousands of finished streams may wait for one pack.
      pending = List.copyOf(chunks);
    } finally {
      busy.unlock();
    }
    return CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]))
        .thenApply(v -> pending.stream().map(CompletableFuture::join).toList());
  }

  /** Ends the current chunk where it stands and frees the staging buffer (for idle streams). */
  public void cutNow() throws InterruptedException {
    awaitDrained();
    busy.lock();
    try {
      cutLocked();
    } finally {
      busy.unlock();
    }
  }

  /**
   * Called by the pipeline from another stream's thread: cuts and gives up the staging buffer if
   * this stream is not inside a call. Returns whether it did.
   */
  boolean giveUpStagingIfIdle() throws InterruptedException {
    if (!busy.tryLock()) {
      return false;
    }
    try {
      if (staging == null) {
        return false;
      }
      cutLocked();
      return true;
    } finally {
      busy.unlock();
    }
  }

  private void cutLocked() throws InterruptedException {
    if (filled > 0) {
      emit(null, 0);
    }
    chunker.reset();
    releaseStaging();
  }

  /**
   * Moves the rest of {@code src}, which the current chunk goes on past, into the staging
   * buffer, getting or growing that as needed; false if stagings may not grow now.
   */
  private boolean keepUnfinished(ByteBuffer src) throws InterruptedException {
    int needed = filled + src.remaining();
    if (staging == null) {
      staging = pipeline.acquireStaging(this, Math.min(needed, maxChunk));
    } else if (staging.capacity() < needed) {
      PooledBuffer bigger = pipeline.tryGrowStaging(staging, Math.min(Math.max(needed, staging.capacity() * 2), maxChunk));
      if (bigger == null) {
        return false;
      }
      bigger.buffer().put(0, staging.buffer(), 0, filled);
      pipeline.releaseStaging(null, staging);
      staging = bigger;
    }
    staging.buffer().put(filled, src, src.position(), src.remaining());
    filled = needed;
    src.position(src.limit());
    return true;
  }

  /**
   * Hands the pipeline a chunk: what the staging buffer holds, then the next {@code n} bytes of
   * {@code src} (null when {@code n} is 0), which it consumes.
   */
  private void emit(ByteBuffer src, int n) throws InterruptedException {
    int length = filled + n;
    PooledBuffer chunk = pipeline.buffers().acquire(length);
    if (filled > 0) {
      chunk.buffer().put(0, staging.buffer(), 0, filled);
    }
    if (n > 0) {
      chunk.buffer().put(filled, src, src.position(), n);
      src.position(src.position() + n);
    }
    filled = 0;
    chunks.add(pipeline.submit(chunk, length));
    pipeline.chunkStage().processed(1, 0);
  }

  private void releaseStaging() {
    if (staging != null) {
      pipeline.releaseStaging(this, staging);
      staging = null;
      filled = 0;
    }
  }

  /** Abandons the stream: bytes not yet handed to the pipeline are dropped. */
  @Override
  public void close() {
    busy.lock();
    try {
      finished = true;
      releaseStaging();
    } finally {
      busy.unlock();
    }
  }
}
