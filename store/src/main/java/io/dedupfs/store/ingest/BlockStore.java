package io.dedupfs.store.ingest;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.concurrent.Uninterruptibly;
import io.dedupfs.store.repo.Compression;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores small chunks in blocks (FORMAT.md §5.1): gathers them with a {@link BlockBuilder} and
 * stores each block on a thread of its own, one after another, in the order they were handed
 * over. That thread is the only one to append blocks to packs: threads that want the open block
 * stored sooner (an fsync, a flush) wait for it to be, and an interrupt of theirs can never cut a
 * pack write short. Thread-safe.
 */
final class BlockStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BlockStore.class);

  private final BlockBuilder builder;
  private final ChunkEncoder encoder;
  private final ExecutorService thread;
  private final ChunkCompressor blockCompressor;
  private final ChunkCompressor aloneCompressor;
  private final PooledBuffer scratch;

  /** Takes its buffers from {@code pool} at once ({@link BlockBuilder#reservedBytes}). */
  BlockStore(BufferPool pool, Clock clock, Compression compression, int sealingOverhead, ChunkEncoder encoder) {
    this.builder = new BlockBuilder(pool, clock);
    this.scratch = pool.tryAcquire(BlockBuilder.scratchSize(sealingOverhead));
    if (scratch == null) {
      builder.close();
      throw new IllegalArgumentException("memory budget too small for the blocks of small chunks");
    }
    this.encoder = encoder;
    this.blockCompressor = new ChunkCompressor(compression.forBlocks(), true);
    this.aloneCompressor = new ChunkCompressor(compression);
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dedupfs-block-store");
      t.setDaemon(true);
      return t;
    });
  }

  /** Adds a small chunk to the open block; a block it fills goes to the storing thread. */
  void add(InFlightChunk chunk, ChunkKind kind, ByteBuffer plain) throws InterruptedException {
    BlockBuilder.Block full = builder.add(chunk, kind, plain);
    if (full != null) {
      thread.execute(() -> storeQuietly(full));
    }
  }

  /**
   * Stores the open block, and waits until it and every block handed over before it are stored
   * (appended to the open pack; durable once that pack is sealed and committed).
   *
   * @throws StoreException if storing it failed (its chunks carry the failure too)
   */
  void storeOpen() throws IOException, InterruptedException {
    try {
      thread.submit(() -> {
        store(builder.takeOpen());
        return null;
      }).get();
    } catch (ExecutionException e) {
      throw new StoreException("could not store small chunks: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** Has the open block stored if it gathered longer than {@code age}, then {@code after} run if it was. */
  void storeOpenIfOlderThan(Duration age, Runnable after) {
    thread.execute(() -> {
      if (storeQuietly(builder.takeOpenIfOlderThan(age))) {
        after.run();
      }
    });
  }

  /** Stores a block; a failure is the members' to report (they wait for it), so it is only logged. */
  private boolean storeQuietly(BlockBuilder.Block block) {
    try {
      return store(block);
    } catch (IOException | InterruptedException | RuntimeException e) {
      LOG.debug("storing a block of small chunks failed", e);
      return false;
    }
  }

  /**
   * Stores {@code block} (if not null) on this thread; a failure fails the members not stored
   * yet. Its buffer goes back for the next block either way. Returns whether there was a block.
   */
  private boolean store(BlockBuilder.Block block) throws IOException, InterruptedException {
    if (block == null) {
      return false;
    }
    try {
      encoder.storeBlock(block.chunks, block.members, block.plain(), blockCompressor, aloneCompressor,
          scratch.buffer());
    } catch (IOException | InterruptedException | RuntimeException e) {
      // Members already appended belong to their pack, which reports its own fate.
      block.chunks.stream().filter(c -> c.location == null).forEach(c -> c.durable.completeExceptionally(e));
      throw e;
    } finally {
      block.release();
    }
    return true;
  }

  /**
   * Stores the open block, lets every block handed over be stored, then stops the thread and
   * gives the buffers back. Chunks must no longer be added.
   */
  @Override
  public void close() {
    thread.execute(() -> storeQuietly(builder.takeOpen()));
    Uninterruptibly.shutdown(thread);
    builder.close();
    scratch.close();
    blockCompressor.close();
    aloneCompressor.close();
  }
}
