package io.dedupfs.store.compress;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdException;
import io.dedupfs.store.repo.Compression;
import java.nio.ByteBuffer;

/**
 * Compresses chunks with zstd, keeping one native context so no call allocates compressor state.
 * Not thread-safe: each worker owns one. Close it to free the native context.
 */
public final class ChunkCompressor implements AutoCloseable {
  private final ZstdCompressCtx context;

  public ChunkCompressor(Compression compression) {
    this(compression, false);
  }

  /**
   * A compressor whose frames carry zstd's content checksum when {@code checksummed}: a block's
   * (FORMAT.md §5.1), so that damage anywhere in it is found whichever member is read. A chunk
   * alone needs none: it is verified against its id.
   */
  public ChunkCompressor(Compression compression, boolean checksummed) {
    if (compression.algorithm() == Compression.Algorithm.NONE) {
      context = null;
    } else {
      context = new ZstdCompressCtx().setLevel(compression.level()).setChecksum(checksummed).setContentSize(true);
    }
  }

  /**
   * Compresses {@code src[position, limit)} into {@code dst[0, capacity)} if that makes it smaller.
   *
   * @return the compressed length, or -1 when compression is off or would not save a byte (store
   *     the plaintext then)
   */
  public int compressIfSmaller(ByteBuffer src, ByteBuffer dst) {
    if (context == null) {
      return -1;
    }
    int plain = src.remaining();
    int room = Math.min(dst.capacity(), plain - 1);
    if (room <= 0) {
      return -1;
    }
    try {
      return context.compressDirectByteBuffer(dst, 0, room, src, src.position(), plain);
    } catch (ZstdException e) {
      if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
        return -1;
      }
      throw e;
    }
  }

  /**
   * Compresses {@code src[position, limit)} into {@code dst[0, capacity)} whatever the result's
   * size (a block, FORMAT.md §5.1, is always one zstd frame); {@code dst} must hold the bound.
   *
   * @return the compressed length
   */
  public int compress(ByteBuffer src, ByteBuffer dst) {
    if (context == null) {
      throw new IllegalStateException("compression is off");
    }
    return context.compressDirectByteBuffer(dst, 0, dst.capacity(), src, src.position(), src.remaining());
  }

  /** The most bytes zstd can make of {@code plainLength} bytes: room enough for {@link #compress}. */
  public static int bound(int plainLength) {
    return Math.toIntExact(Zstd.compressBound(plainLength));
  }

  @Override
  public void close() {
    if (context != null) {
      context.close();
    }
  }
}
