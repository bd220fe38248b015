package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.Chunker;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Streams one file's bytes into the pipeline: copies them into a staging buffer, finds chunk
 * boundaries as bytes arrive, and hands each chunk to the workers. Used by one thread at a time.
 *
 * <p>The staging buffer belongs to the stream and only holds the current, unfinished chunk; a
 * finished chunk is copied out into a buffer of its own size class. Stagings are capped as a
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
  private PooledBuffer staging;
  private int filled;
  private int scanned;
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
    busy.lock();
    try {
      writeLocked(src);
    } finally {
      busy.unlock();
    }
  }

  private void writeLocked(ByteBuffer src) throws InterruptedException {
    if (finished) {
      throw new IllegalStateException("stream already finished");
    }
    long start = System.nanoTime();
    long lengthBefore = length;
    long waited = 0;
    while (src.hasRemaining()) {
      waited += ensureRoom(src.remaining());
      ByteBuffer dst = staging.buffer();
      int n = Math.min(src.remaining(), dst.capacity() - filled);
      dst.put(filled, src, src.position(), n);
      src.position(src.position() + n);
      filled += n;
      length += n;
      waited += emitFinishedChunks();
    }
    pipeline.chunkStage().worked(System.nanoTime() - start - waited);
    pipeline.chunkStage().processed(0, length - lengthBefore);
    pipeline.chunkStage().waitedForOutput(waited);
  }

  /**
   * Ends the stream. The future completes with the stream's chunks, in order, once every one of
   * them is durable and indexed.
   */
  public CompletableFuture<List<ChunkRef>> finish() throws InterruptedException {
    List<CompletableFuture<ChunkRef>> pending;
    busy.lock();
    try {
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
      emit(filled);
    }
    chunker.reset();
    releaseStaging();
  }

  private long ensureRoom(int hint) throws InterruptedException {
    if (staging == null) {
      long start = System.nanoTime();
      staging = pipeline.acquireStaging(this, Math.min(Math.max(hint, 1), maxChunk));
      return System.nanoTime() - start;
    }
    if (filled < staging.capacity()) {
      return 0;
    }
    PooledBuffer bigger = pipeline.tryGrowStaging(staging, Math.min(staging.capacity() * 2, maxChunk));
    if (bigger == null) {
      long start = System.nanoTime();
      emit(filled);
      chunker.reset();
      return System.nanoTime() - start;
    }
    bigger.buffer().put(0, staging.buffer(), 0, filled);
    pipeline.releaseStaging(null, staging);
    staging = bigger;
    return 0;
  }

  /** Runs the chunker over new bytes and emits every chunk it ends; returns time blocked. */
  private long emitFinishedChunks() throws InterruptedException {
    long waited = 0;
    while (scanned < filled) {
      int cut = chunker.scan(staging.buffer(), scanned, filled);
      if (cut == Chunker.NO_CUT) {
        scanned = filled;
        break;
      }
      long start = System.nanoTime();
      emit(scanned + cut);
      waited += System.nanoTime() - start;
    }
    return waited;
  }

  /** Hands {@code staging[0, end)} to the pipeline as a chunk and moves the rest to the front. */
  private void emit(int end) throws InterruptedException {
    PooledBuffer chunk = pipeline.buffers().acquire(end);
    ByteBuffer src = staging.buffer();
    chunk.buffer().put(0, src, 0, end);
    int tail = filled - end;
    src.put(0, src, end, tail);
    filled = tail;
    scanned = 0;
    chunks.add(pipeline.submit(chunk, end));
    pipeline.chunkStage().processed(1, 0);
  }

  private void releaseStaging() {
    if (staging != null) {
      pipeline.releaseStaging(this, staging);
      staging = null;
      filled = 0;
      scanned = 0;
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
