package io.dedupfs.store.file;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.ingest.ChunkRef;
import io.dedupfs.store.ingest.ChunkStreamWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
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
import java.util.concurrent.atomic.AtomicReference;

/**
 * The writes to one regular file that are not yet in its extents. Writes at the end of the
 * current run stream through one chunk stream; a write anywhere else ends the run and starts a
 * new one, so an overwrite costs about the bytes it changes. Runs also end at every multiple of
 * {@link #DEFAULT_MAX_RUN} bytes of the file, so a long copy commits as it goes, and files written
 * the same way are still cut the same way. Each run's extents are committed once its chunks are
 * durable, in the order the runs were written, so a later write wins over an earlier one it
 * overlaps (FORMAT.md §6.1: extents only after their chunks).
 *
 * <p>A failed commit fails every later one and is reported by {@link #flush()}: a writer that
 * failed stays failed. Thread-safe.
 */
public final class FileWriter {
  public static final long DEFAULT_MAX_RUN = 64L << 20;
  private static final long SEAL_RETRY_MILLIS = 20;

  private final long inode;
  private final Namespace namespace;
  private final IngestPipeline pipeline;
  private final long maxRun;
  private ChunkStreamWriter run;
  private long runStart;
  private long runStartedNanos;
  private long lastWriteNanos;
  /** Orders writes and explicit time changes: clock readings can tie, a counter cannot. */
  private long sequence;
  private long lastWriteSequence;
  private CompletableFuture<Void> committed = CompletableFuture.completedFuture(null);
  private long end;
  /** Sequence of the last explicit time change: runs written before it must not overwrite it. */
  private volatile long timesSetSequence = -1;
  private long lastTruncateSequence = -1;
  /**
   * chmod, chown, utimens not yet in a commit, merged in order; null when none. Atomic, not
   * guarded by this: commits take them on pipeline threads, which must never wait for a writer.
   */
  private final AtomicReference<AttributeChanges> heldAttributes = new AtomicReference<>();
  /**
   * Every chmod, chown, utimens through this writer, merged: {@link #view} shows them over the
   * index, which has them all once the writer is settled. Nothing else changes these fields of a
   * file with a writer but an access ACL, whose setting goes through {@link #commitAttributes}.
   */
  private AttributeChanges shownAttributes;
  /**
   * Held while an explicit time change commits and while a run's commit decides whether to set
   * the write time: taken on commit threads, never while waiting for anything but the index.
   */
  private final Object timesLock = new Object();

  /** A writer for a file whose committed size is {@code size}. */
  public FileWriter(long inode, long size, Namespace namespace, IngestPipeline pipeline) {
    this(inode, size, namespace, pipeline, DEFAULT_MAX_RUN);
  }

  FileWriter(long inode, long size, Namespace namespace, IngestPipeline pipeline, long maxRun) {
    this.inode = inode;
    this.end = size;
    this.namespace = namespace;
    this.pipeline = pipeline;
    this.maxRun = maxRun;
  }

  /** Writes the bytes of {@code data} (position to limit) at {@code offset}. */
  public synchronized void write(long offset, ByteBuffer data) throws InterruptedException {
    long at = offset;
    while (data.hasRemaining()) {
      if (run == null || at != runStart + run.length()) {
        endRun();
        run = pipeline.openStream();
        runStart = at;
        runStartedNanos = namespace.now();
      }
      long boundary = (at / maxRun + 1) * maxRun;
      int piece = (int) Math.min(data.remaining(), boundary - at);
      ByteBuffer slice = data.slice(data.position(), piece);
      run.write(slice);
      data.position(data.position() + piece);
      at += piece;
      lastWriteNanos = namespace.now();
      lastWriteSequence = ++sequence;
      if (at == boundary) {
        endRun();
      }
    }
    end = Math.max(end, at);
  }

  /** The file's size counting writes not yet committed. */
  public synchronized long pendingEnd() {
    return end;
  }

  /**
   * chmod, chown, utimens on a file with a writer: shown at once, committed with the writer's next
   * commit, in order with its writes, so a file being copied commits its data and attributes in
   * one go instead of one transaction per change. Durable like a write: after the next
   * {@link #flush()}, or within seconds anyway. Times set here are kept by the commits of runs
   * written before.
   */
  public synchronized void setAttributes(AttributeChange change) {
    long at = namespace.now();
    long changeSequence = ++sequence;
    if (change.mtimeNanos() != null) {
      timesSetSequence = changeSequence;
    }
    heldAttributes.updateAndGet(held -> AttributeChanges.then(held, change, at));
    shownAttributes = AttributeChanges.then(shownAttributes, change, at);
  }

  /** Whether a chmod through this writer may not be in the index yet (an access ACL read or written now would miss it). */
  public synchronized boolean showsPermissions() {
    return shownAttributes != null && shownAttributes.change().permissions() != null;
  }

  /**
   * Commits every change so far ({@link #commit()}), then stops showing permissions over the
   * index, which has them now: a chmod of a file with an access ACL rewrites the ACL there, and an
   * access ACL about to be set rewrites them.
   */
  public void commitAttributes() throws IOException, InterruptedException {
    commit();
    synchronized (this) {
      if (shownAttributes != null) {
        shownAttributes = new AttributeChanges(shownAttributes.change().withoutPermissions(), shownAttributes.atNanos());
      }
    }
  }

  /** Attribute changes merged, and when the last of them was made. */
  private record AttributeChanges(AttributeChange change, long atNanos) {
    /** {@code earlier} (null: none) followed by {@code later}, made at {@code atNanos}. */
    static AttributeChanges then(AttributeChanges earlier, AttributeChange later, long atNanos) {
      return new AttributeChanges(earlier == null ? later : earlier.change.then(later), atNanos);
    }
  }

  /**
   * Makes sure the held changes get committed after everything handed over before them: a step
   * at the end of the commit chain takes them, unless a commit before it (a run's, which takes
   * them into its own transaction) already has.
   */
  private void handOverAttributes() {
    if (heldAttributes.get() == null) {
      return;
    }
    committed = committed.thenRun(() -> {
      AttributeChanges held = heldAttributes.getAndSet(null);
      if (held != null) {
        synchronized (timesLock) {
          try {
            namespace.setAttributes(inode, held.change(), held.atNanos());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
    });
  }

  /**
   * truncate(2) of a file being written: ordered after every earlier write and before every later
   * one. Like a write, it is durable after the next {@link #flush()}, or within seconds anyway.
   */
  public synchronized void truncate(long size) throws InterruptedException {
    endRun();
    handOverAttributes();
    long truncatedAt = namespace.now();
    long truncateSequence = ++sequence;
    lastTruncateSequence = truncateSequence;
    committed = committed.thenRun(() -> {
      synchronized (timesLock) {
        try {
          namespace.truncate(inode, size, truncateSequence < timesSetSequence ? null : truncatedAt);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    });
    end = size;
  }

  /**
   * The file's attributes as a reader should see them: {@code committed} with the attribute
   * changes made through this writer, and the size, and the modification time, of writes not yet
   * in the index.
   */
  public synchronized Inode view(Inode committed) {
    Inode base = committed;
    if (shownAttributes != null) {
      // An explicit mtime shows until a later write or truncate; the index has that one's time.
      boolean timesLatest = timesSetSequence > lastWriteSequence && timesSetSequence > lastTruncateSequence;
      AttributeChange shown = timesLatest ? shownAttributes.change() : shownAttributes.change().withoutMtime();
      base = shown.applyTo(committed, shownAttributes.atNanos());
    }
    boolean pending = run != null || !this.committed.isDone();
    boolean timesFromWrite = pending && lastWriteSequence > timesSetSequence && lastWriteNanos > 0;
    return new Inode(base.number(), base.mode(), base.uid(), base.gid(), base.nlink(), end,
        base.atimeNanos(), timesFromWrite ? lastWriteNanos : base.mtimeNanos(),
        timesFromWrite ? Math.max(lastWriteNanos, base.ctimeNanos()) : base.ctimeNanos(), base.rdev(), base.parent());
  }

  /** True when every write, truncate and attribute change so far is committed to the index. */
  public synchronized boolean isSettled() {
    return run == null && heldAttributes.get() == null && committed.isDone();
  }

  /** Completes once everything handed over so far is committed or has failed; ends the current run. */
  public synchronized CompletableFuture<Void> settle() throws InterruptedException {
    endRun();
    handOverAttributes();
    return committed;
  }

  /**
   * Ends the current run if it began at least {@code ageNanos} ago, so that a file written
   * without pause also commits every few seconds rather than only at run boundaries.
   */
  public synchronized void endRunIfOlderThan(long ageNanos) throws InterruptedException {
    if (run != null && namespace.now() - runStartedNanos >= ageNanos) {
      endRun();
    }
    AttributeChanges held = heldAttributes.get();
    if (held != null && namespace.now() - held.atNanos() >= ageNanos) {
      handOverAttributes();
    }
  }

  /** Throws the failure of an earlier write, if one has failed; does not wait. */
  public synchronized void checkFailed() throws StoreException {
    if (committed.isCompletedExceptionally()) {
      try {
        committed.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw failure(e.getCause());
      }
    }
  }

  private StoreException failure(Throwable error) {
    Throwable cause = error instanceof UncheckedIOException u ? u.getCause() : error;
    return new StoreException("write to inode " + inode + " failed: " + cause.getMessage(), cause);
  }

  /** Ends the current run; its extents commit once its chunks are durable. */
  public synchronized void endRun() throws InterruptedException {
    if (run == null) {
      return;
    }
    long start = runStart;
    long length = run.length();
    long writtenAt = lastWriteNanos;
    long writtenSequence = lastWriteSequence;
    CompletableFuture<List<ChunkRef>> durable = run.finish();
    run = null;
    committed = committed.thenCombine(durable, (v, refs) -> refs).thenAccept(refs -> {
      // Attribute changes held until now go in the same transaction, first: whenever they were
      // made, the run's own mtime is set only if it is newer than an explicit one.
      AttributeChanges held = heldAttributes.getAndSet(null);
      // Decided and committed under timesLock: a time set meanwhile lands wholly before or after.
      synchronized (timesLock) {
        try {
          namespace.replaceRange(inode, start, length, extentsOf(start, refs),
              writtenSequence < timesSetSequence ? null : writtenAt,
              held == null ? null : held.change(), held == null ? 0 : held.atNanos());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
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
   * Ends the run and returns once every write so far is in the file's extents, visible to
   * readers; not yet synced to disk. A failure of any earlier write is reported here.
   */
  public void commit() throws IOException, InterruptedException {
    CompletableFuture<Void> done = settle();
    while (!done.isDone()) {
      // Seal repeatedly: chunks still queued when one seal happens land in the next pack.
      pipeline.sealOpenPack();
      try {
        done.get(SEAL_RETRY_MILLIS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        continue;
      } catch (ExecutionException e) {
        break;
      }
    }
    checkFailed();
  }

  /** fsync: {@link #commit()}, then the index synced, so every write so far is durable on return. */
  public void flush() throws IOException, InterruptedException {
    commit();
    namespace.sync();
  }
}
