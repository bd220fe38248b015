package io.dedupfs.store.file;

import io.dedupfs.store.cache.BoundedCache;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads the committed bytes of regular files through their extents: holes as zeros, chunks
 * decoded once into a cache bounded in bytes (reads come in pieces much smaller than a chunk).
 * Thread-safe.
 */
public final class FileReader {
  private final Namespace namespace;
  private final ChunkReader chunks;
  private final BoundedCache<ChunkId, byte[]> cache;

  public FileReader(Namespace namespace, ChunkReader chunks, long cacheBytes) {
    this.namespace = namespace;
    this.chunks = chunks;
    this.cache = new BoundedCache<>(cacheBytes, plain -> plain.length);
  }

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code offset} into {@code dst}, stopping at the
   * end of the file; returns the number read (0 at or past the end).
   */
  public int read(long inode, long offset, ByteBuffer dst) throws IOException {
    if (offset < 0) {
      throw new java.nio.file.FileSystemException("inode " + inode, null, "Invalid argument");
    }
    // Size and extents from one transaction, so a concurrent truncate cannot show as zeros.
    return read(namespace.read(inode, offset, dst.remaining()), offset, dst);
  }

  /**
   * Reads at {@code offset} from a file of {@code range.size()} bytes whose extents over the
   * range asked for, clipped to it, are {@code range.extents()} (a snapshot's file, for one).
   */
  public int read(Namespace.FileRange range, long offset, ByteBuffer dst) throws IOException {
    int length = (int) Math.max(0, Math.min(dst.remaining(), range.size() - offset));
    if (length == 0) {
      return 0;
    }
    int base = dst.position();
    long at = offset;
    for (Extent e : range.extents()) {
      zero(dst, base + (int) (at - offset), (int) (e.fileOffset() - at));
      byte[] plain = cache.get(e.chunk());
      if (plain == null) {
        plain = chunks.readBytes(e.chunk());
        cache.put(e.chunk(), plain);
      }
      dst.put(base + (int) (e.fileOffset() - offset), plain, e.chunkOffset(), e.length());
      at = e.end();
    }
    zero(dst, base + (int) (at - offset), (int) (offset + length - at));
    dst.position(base + length);
    return length;
  }

  /** Holes are read in bulk copies of this, not byte by byte. */
  private static final byte[] ZEROS = new byte[64 << 10];

  private static void zero(ByteBuffer dst, int at, int count) {
    for (int done = 0; done < count; ) {
      int n = Math.min(count - done, ZEROS.length);
      dst.put(at + done, ZEROS, 0, n);
      done += n;
    }
  }
}
