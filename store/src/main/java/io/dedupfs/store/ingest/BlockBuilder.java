package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.pack.PackWriter.BlockMember;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Gathers small new chunks into blocks (FORMAT.md §5.1): their plaintexts are copied, in the
 * order they come, into the open block, which is handed out to be stored once it holds {@link
 * #TARGET} bytes, or earlier when something must become durable. Blocks live in buffers reserved
 * from the memory budget up front, so that gathering never waits for budget that the chunks
 * queued behind it hold. Thread-safe.
 */
final class BlockBuilder {
  /** Chunks smaller than this join blocks; larger ones compress well enough alone. */
  static final int MEMBER_LIMIT = 64 << 10;
  /** A block is stored once it holds this much: with a member below the limit it fits its buffer. */
  static final int TARGET = 448 << 10;
  static final int CAPACITY = TARGET + MEMBER_LIMIT;
  /** One block gathers while another is being stored. */
  static final int BUFFERS = 2;

  /** The scratch a block is compressed and sealed in. */
  static int scratchSize(int sealingOverhead) {
    return BufferPool.classSize(ChunkCompressor.bound(CAPACITY) + sealingOverhead);
  }

  /** What blocks take from the memory budget: their buffers and the scratch they are stored from. */
  static long reservedBytes(int sealingOverhead) {
    return (long) BUFFERS * BufferPool.classSize(CAPACITY) + scratchSize(sealingOverhead);
  }

  /** A block handed out to be stored: members and plaintexts; give the buffer back once stored. */
  static final class Block {
    final List<InFlightChunk> chunks = new ArrayList<>();
    final List<BlockMember> members = new ArrayList<>();
    final long openedAt;
    private final PooledBuffer buffer;
    private final BlockBuilder owner;
    private int length;

    private Block(PooledBuffer buffer, BlockBuilder owner, long openedAt) {
      this.buffer = buffer;
      this.owner = owner;
      this.openedAt = openedAt;
    }

    /** The members' plaintexts back to back. */
    ByteBuffer plain() {
      return buffer.buffer().duplicate().limit(length).position(0);
    }

    /** Gives the block's buffer back for the next block to gather in. */
    void release() {
      owner.free.add(buffer);
    }
  }

  private final BlockingQueue<PooledBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
  private final Clock clock;
  private Block open;

  /** Takes its buffers from {@code pool} at once; fails if the budget has no room for them. */
  BlockBuilder(BufferPool pool, Clock clock) {
    this.clock = clock;
    for (int i = 0; i < BUFFERS; i++) {
      PooledBuffer b = pool.tryAcquire(CAPACITY);
      if (b == null) {
        free.forEach(PooledBuffer::close);
        throw new IllegalArgumentException("memory budget too small for the blocks of small chunks");
      }
      free.add(b);
    }
  }

  static boolean joins(int plainLength) {
    return plainLength < MEMBER_LIMIT;
  }

  /**
   * Copies a chunk's plaintext into the open block; returns the block if it is now full (the
   * caller stores it), else null. Waits while both buffers hold blocks not yet stored.
   */
  Block add(InFlightChunk chunk, ChunkKind kind, ByteBuffer plain) throws InterruptedException {
    PooledBuffer fresh = null;
    while (true) {
      synchronized (this) {
        if (open == null && fresh != null) {
          open = new Block(fresh, this, clock.millis());
          fresh = null;
        }
        if (open != null) {
          if (fresh != null) {
            free.add(fresh);
          }
          int length = plain.remaining();
          open.buffer.buffer().put(open.length, plain, plain.position(), length);
          open.length += length;
          open.chunks.add(chunk);
          open.members.add(new BlockMember(chunk.id, kind, length));
          if (open.length < TARGET) {
            return null;
          }
          Block full = open;
          open = null;
          return full;
        }
      }
      // Outside the lock: a buffer comes back when a block being stored is done, which needs no lock here.
      fresh = free.take();
    }
  }

  /** The open block, to be stored now (a flush), or null if none has members. */
  synchronized Block takeOpen() {
    Block b = open;
    open = null;
    return b;
  }

  /** The open block if it has gathered longer than {@code age}, else null. */
  synchronized Block takeOpenIfOlderThan(Duration age) {
    return open != null && clock.millis() - open.openedAt >= age.toMillis() ? takeOpen() : null;
  }

  /** Gives the reserved buffers back to the pool; the builder is not used after. */
  void close() {
    free.forEach(PooledBuffer::close);
  }
}
