package io.dedupfs.store.file;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.ingest.ChunkRef;
import io.dedupfs.store.ingest.ChunkStreamWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Namespace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The writes to one regular file that are not yet in its extents. Writes at the end of the
 * current run stream through one chunk stream; a write anywhere else ends the run and starts a
 * new one, so an overwrite costs about the bytes it changes. Each run's extents are committed
 * once its chunks are durable, in the order the runs were written, so a later write always wins
 * over an earlier one it overlaps (FORMAT.md §6.1: extents only after their chunks). Thread-safe.
 */
public final class FileWriter {
  private static final long SEAL_RETRY_MILLIS = 20;

  private final long inode;
  private final Namespace namespace;
  private final IngestPipeline pipeline;
  private ChunkStreamWriter run;
  private long runStart;
  private CompletableFuture<Void> committed = CompletableFuture.completedFuture(null);
  private long end;

  /** A writer for a file whose committed size is {@code size}. */
  public FileWriter(long inode, long size, Namespace namespace, IngestPipeline pipeline) {
    this.inode = inode;
    this.end = size;
    this.namespace = namespace;
    this.pipeline = pipeline;
  }

  /** Writes the bytes of {@code data} (position to limit) at {@code offset}. */
  public synchronized void write(long offset, ByteBuffer data) throws InterruptedException {
    if (!data.hasRemaining()) {
      return;
    }
    if (run == null || offset != runStart + run.length()) {
      endRun();
      run = pipeline.openStream();
      runStart = offset;
    }
    long written = data.remaining();
    run.write(data);
    end = Math.max(end, offset + written);
  }

  /** The file's size counting writes not yet committed. */
  public synchronized long pendingEnd() {
    return end;
  }

  /** truncate(2) of a file being written: earlier writes land first, then the file ends at {@code size}. */
  public void truncate(long size) throws IOException, InterruptedException {
    flush();
    synchronized (this) {
      namespace.truncate(inode, size);
      end = size;
    }
  }

  /**
   * Ends the current run; its extents commit once durable (within the pipeline's commit interval,
   * or at once with {@link #flush()}).
   */
  public synchronized void endRun() throws InterruptedException {
    if (run == null) {
      return;
    }
    long start = runStart;
    long length = run.length();
    CompletableFuture<List<ChunkRef>> durable = run.finish();
    run = null;
    CompletableFuture<Void> previous = committed;
    committed = previous.thenCombine(durable, (v, refs) -> refs).thenAccept(refs -> {
      try {
        namespace.replaceRange(inode, start, length, extentsOf(start, refs));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static List<Extent> extentsOf(long start, List<ChunkRef> refs) {
    List<Extent> extents = new ArrayList<>(refs.size());
    long at = start;
    for (ChunkRef r : refs) {
      extents.add(new Extent(at, r.id(), 0, r.length()));
      at += r.length();
    }
    return extents;
  }

  /**
   * fsync: ends the run and returns once every write so far is durable and in the file's extents.
   * A failure of any earlier write is reported here.
   */
  public void flush() throws IOException, InterruptedException {
    CompletableFuture<Void> done;
    synchronized (this) {
      endRun();
      done = committed;
    }
    while (true) {
      // Seal repeatedly: chunks still queued when one seal happens land in the next pack.
      pipeline.sealOpenPack();
      try {
        done.get(SEAL_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException e) {
        continue;
      } catch (ExecutionException e) {
        Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
        throw new StoreException("write to inode " + inode + " failed: " + cause.getMessage(), cause);
      }
    }
  }
}
