package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The distinct keys of a sort in strictly increasing unsigned byte order, read as a cursor:
 * {@code while (keys.next()) use(keys.key());}. Closing it deletes the sort's run files; closing
 * the sorter closes it too.
 */
public final class SortedKeys implements AutoCloseable {
  private final KeyMerge merge;
  private final Closeable runFiles;
  private final ByteBuffer key;
  private boolean onKey;
  private boolean closed;

  SortedKeys(KeyMerge merge, Closeable runFiles) {
    this.merge = merge;
    this.runFiles = runFiles;
    this.key = merge.current().asReadOnlyBuffer();
  }

  /** Moves to the next key; false once every key has been read. */
  public boolean next() throws IOException {
    // The merge reads the sorter's memory, which is freed when the sorter is closed.
    if (closed) {
      throw new IllegalStateException("sorted keys closed");
    }
    onKey = merge.next();
    return onKey;
  }

  /**
   * The current key, read-only, from position 0 to its length. The same buffer each time, with its
   * position reset: it holds the current key until the next call to {@link #next}.
   */
  public ByteBuffer key() {
    if (!onKey || closed) {
      throw new IllegalStateException("no current key: next() has not returned true");
    }
    return key.clear();
  }

  @Override
  public void close() throws IOException {
    closed = true;
    try (runFiles) {
      merge.close();
    }
  }
}
