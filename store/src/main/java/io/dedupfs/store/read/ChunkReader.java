package io.dedupfs.store.read;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.cache.BoundedCache;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkIdScheme;
import io.dedupfs.store.compress.ChunkDecompressor;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.pack.PackCodec;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.repo.Repository;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Reads chunks back: index lookup, pack range read, opening (in an encrypted repository),
 * decoding, and verification of the plaintext against its id (FORMAT.md §8, invariant 7).
 * Thread-safe; per-thread state is pooled.
 */
public final class ChunkReader implements AutoCloseable {
  /**
   * Decoded blocks kept: reading a directory's small files one after another decodes each block
   * once, and a few readers at once keep theirs.
   */
  private static final long BLOCK_CACHE_BYTES = 8L << 20;
  private final ChunkIndex index;
  private final PackStorage packs;
  private final Encryption encryption;
  private final ChunkIdScheme chunkIds;
  private final ConcurrentLinkedQueue<Decoder> decoders = new ConcurrentLinkedQueue<>();
  private final BoundedCache<BlockKey, byte[]> blocks = new BoundedCache<>(BLOCK_CACHE_BYTES, plain -> plain.length);

  /** A block is named by where it lies; its length too, should a pack number ever be used again. */
  private record BlockKey(PackNumber pack, int offset, int storedLength) {}

  /** A decompressor, a hasher and direct scratch buffers (zstd decodes between direct buffers only). */
  private static final class Decoder {
    final ChunkDecompressor decompressor = new ChunkDecompressor();
    final ChunkHasher hasher;
    ByteBuffer stored = ByteBuffer.allocateDirect(0);
    ByteBuffer opened = ByteBuffer.allocateDirect(0);
    ByteBuffer plain = ByteBuffer.allocateDirect(0);

    Decoder(ChunkHasher hasher) {
      this.hasher = hasher;
    }

    ByteBuffer stored(int length) {
      stored = atLeast(stored, length);
      return stored.clear().limit(length);
    }

    ByteBuffer opened(int length) {
      opened = atLeast(opened, length);
      return opened.clear().limit(length);
    }

    ByteBuffer plain(int length) {
      plain = atLeast(plain, length);
      return plain.clear().limit(length);
    }

    private static ByteBuffer atLeast(ByteBuffer buffer, int length) {
      return buffer.capacity() < length ? ByteBuffer.allocateDirect(length) : buffer;
    }
  }

  public ChunkReader(ChunkIndex index, PackStorage packs, Encryption encryption, ChunkIdScheme chunkIds) {
    this.index = index;
    this.packs = packs;
    this.encryption = encryption;
    this.chunkIds = chunkIds;
  }

  /** A reader of the chunks of {@code repository}, with its keys if it is encrypted. */
  public static ChunkReader of(Repository repository) {
    return new ChunkReader(repository.index(), repository.packs(), repository.encryption(), repository.chunkIds());
  }

  /** The index chunks are looked up in. */
  public ChunkIndex index() {
    return index;
  }

  /** Where a chunk is: in the index, or set aside by a collection that is deciding its fate (FORMAT.md §11). */
  public ChunkLocation locate(ChunkId id) throws IOException {
    Optional<ChunkLocation> where = index.find(id);
    if (where.isEmpty()) {
      where = index.findFossil(id);
    }
    return where.orElseThrow(() -> new ChunkNotFoundException("chunk " + id + " is not in the index"));
  }

  /** Reads the chunk's plaintext into {@code dst} from its position; returns the length read. */
  public int read(ChunkId id, ByteBuffer dst) throws IOException {
    return readFound(id, locate(id), dst);
  }

  /**
   * Reads from where the chunk was found; if that pack is gone, the collector moved the chunk to a
   * new pack after the lookup, so it is looked up once more.
   */
  private int readFound(ChunkId id, ChunkLocation where, ByteBuffer dst) throws IOException {
    try {
      return read(id, where, dst);
    } catch (NoSuchFileException e) {
      return read(id, locate(id), dst);
    }
  }

  /** Reads a chunk whose location is known (for chunks not yet committed to the index). */
  public int read(ChunkId id, ChunkLocation where, ByteBuffer dst) throws IOException {
    String what = "chunk " + id + " in pack " + where.pack();
    if (dst.remaining() < where.plainLength()) {
      throw new IllegalArgumentException("buffer too small for " + what);
    }
    Decoder d = decoders.poll();
    if (d == null) {
      d = new Decoder(chunkIds.newHasher());
    }
    try {
      ByteBuffer target = dst.slice(dst.position(), where.plainLength());
      if (where.inBlock()) {
        readMember(id, where, target, d, what);
      } else {
        readAlone(id, where, target, d, what);
      }
      dst.position(dst.position() + where.plainLength());
      return where.plainLength();
    } catch (EOFException e) {
      // A truncated pack: as corrupt as flipped bytes, and named by chunk like them.
      throw new CorruptDataException(what + ": " + e.getMessage(), e);
    } finally {
      decoders.add(d);
    }
  }

  private void readAlone(ChunkId id, ChunkLocation where, ByteBuffer target, Decoder d, String what)
      throws IOException {
    if (where.encoding() == ChunkEncoding.RAW && !encryption.enabled()) {
      // Nothing to decode: straight from the pack into the caller's buffer.
      packs.read(where.pack(), where.offset(), target.duplicate());
    } else {
      ByteBuffer stored = d.stored(where.storedLength());
      packs.read(where.pack(), where.offset(), stored);
      ByteBuffer body = encryption.open(stored.flip(), d.opened(where.storedLength()), id.toBytes(), what);
      decode(body, target, where, d, what);
    }
    verify(id, target, d, what);
  }

  private static void verify(ChunkId id, ByteBuffer plain, Decoder d, String what) throws CorruptDataException {
    if (!d.hasher.idOf(plain).equals(id)) {
      throw new CorruptDataException(what + ": content does not match its id");
    }
  }

  /**
   * Copies a block member's plaintext into {@code target} from its block, decoded now or earlier.
   * A member that does not match its id in a block decoded earlier is read again from the pack,
   * so what the cache holds can never be what makes a chunk look corrupt.
   */
  private void readMember(ChunkId id, ChunkLocation where, ByteBuffer target, Decoder d, String what)
      throws IOException {
    BlockKey key = new BlockKey(where.pack(), where.offset(), where.storedLength());
    byte[] block = blocks.get(key);
    if (block != null) {
      copyMember(block, where, target, what);
      if (d.hasher.idOf(target).equals(id)) {
        return;
      }
      blocks.remove(key);
    }
    block = decodeBlock(where, d, what);
    copyMember(block, where, target, what);
    verify(id, target, d, what);
    blocks.put(key, block);
  }

  private static void copyMember(byte[] block, ChunkLocation where, ByteBuffer target, String what)
      throws CorruptDataException {
    if ((long) where.offsetInBlock() + where.plainLength() > block.length) {
      throw new CorruptDataException(what + ": ends at " + ((long) where.offsetInBlock() + where.plainLength())
          + " in a block of " + block.length + " bytes");
    }
    target.put(0, block, where.offsetInBlock(), where.plainLength());
  }

  private byte[] decodeBlock(ChunkLocation where, Decoder d, String what) throws IOException {
    ByteBuffer stored = d.stored(where.storedLength());
    packs.read(where.pack(), where.offset(), stored);
    ByteBuffer body = encryption.open(stored.flip(), d.opened(where.storedLength()), PackCodec.blockAssociatedData(),
        what + " (its block)");
    int length = ChunkDecompressor.declaredLength(body, PackCodec.BLOCK_MAX_PLAIN, what + " (its block)");
    ByteBuffer plain = d.plain(length);
    d.decompressor.decompress(body, plain, length, what + " (its block)");
    byte[] block = new byte[length];
    plain.get(0, block);
    return block;
  }

  private static void decode(ByteBuffer body, ByteBuffer target, ChunkLocation where, Decoder d, String what)
      throws CorruptDataException {
    int length = where.plainLength();
    if (where.encoding() == ChunkEncoding.RAW) {
      if (body.remaining() != length) {
        throw new CorruptDataException(what + ": " + body.remaining() + " bytes stored for " + length + " plain bytes");
      }
      target.put(0, body, body.position(), length);
      return;
    }
    ByteBuffer plain = target.isDirect() ? target : d.plain(length);
    d.decompressor.decompress(body, plain, length, what);
    if (plain != target) {
      target.put(0, plain, 0, length);
    }
  }

  /**
   * The chunk's plaintext as a new array. It is decoded in the decoder's own direct buffer and
   * copied out: a direct buffer per chunk would be freed only when the collector gets to it, and
   * reading a snapshot's files that way held up to 130 MiB of them.
   */
  public byte[] readBytes(ChunkId id) throws IOException {
    ChunkLocation where = locate(id);
    byte[] out = new byte[where.plainLength()];
    readFound(id, where, ByteBuffer.wrap(out));
    return out;
  }

  @Override
  public void close() {
    for (Decoder d; (d = decoders.poll()) != null; ) {
      d.decompressor.close();
    }
  }
}
