package io.dedupfs.store.ingest;

import java.nio.ByteBuffer;

/** A buffer lent by a {@link BufferPool}; closing it gives it back and releases its permits. Close once. */
public final class PooledBuffer implements AutoCloseable {
  private final BufferPool pool;
  private ByteBuffer buffer;

  PooledBuffer(BufferPool pool, ByteBuffer buffer) {
    this.pool = pool;
    this.buffer = buffer;
  }

  public ByteBuffer buffer() {
    if (buffer == null) {
      throw new IllegalStateException("buffer already returned to the pool");
    }
    return buffer;
  }

  public int capacity() {
    return buffer().capacity();
  }

  @Override
  public void close() {
    if (buffer != null) {
      ByteBuffer b = buffer;
      buffer = null;
      pool.giveBack(b);
    }
  }
}
