package io.dedupfs.store.compress;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.dedupfs.store.CorruptDataException;
import java.nio.ByteBuffer;

/** Decompresses zstd-encoded chunks with a reused native context. Not thread-safe; close it when done. */
public final class ChunkDecompressor implements AutoCloseable {
  private final ZstdDecompressCtx context = new ZstdDecompressCtx();

  /**
   * Decodes {@code src[position, limit)} into {@code dst[0, plainLength)}.
   *
   * @param what names the chunk in the error if the frame is damaged
   */
  public void decompress(ByteBuffer src, ByteBuffer dst, int plainLength, String what) throws CorruptDataException {
    int n;
    try {
      n = context.decompressDirectByteBuffer(dst, 0, plainLength, src, src.position(), src.remaining());
    } catch (ZstdException e) {
      throw new CorruptDataException(what + ": zstd frame does not decode (" + e.getMessage() + ")", e);
    }
    if (n != plainLength) {
      throw new CorruptDataException(what + ": decodes to " + n + " bytes, index says " + plainLength);
    }
  }

  /**
   * The decoded length a zstd frame's header declares, checked against {@code limit}; {@code src}
   * is a direct buffer holding the frame from its position.
   */
  public static int declaredLength(ByteBuffer src, int limit, String what) throws CorruptDataException {
    long n = Zstd.getDirectByteBufferFrameContentSize(src, src.position(), src.remaining());
    if (n < 0 || n > limit) {
      throw new CorruptDataException(what + ": zstd frame declares " + (n < 0 ? "no" : n + " bytes, more than " + limit)
          + " decoded length");
    }
    return (int) n;
  }

  @Override
  public void close() {
    context.close();
  }
}
