package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.pack.PackCodec;
import io.dedupfs.store.pack.PackWriter.BlockMember;
import io.dedupfs.store.stats.StageStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Encodes new chunks as FORMAT.md §5 stores them, alone or as a block (§5.1): compressed, sealed
 * and appended to the sink, with the time each stage took. Thread-safe; the compressors and
 * scratch buffers are the callers'.
 */
final class ChunkEncoder {
  private final Encryption encryption;
  private final PackSink sink;
  private final StageStats compressStage;
  private final StageStats encryptStage;
  private final LongAdder storedBytes;

  ChunkEncoder(Encryption encryption, PackSink sink, StageStats compressStage, StageStats encryptStage,
      LongAdder storedBytes) {
    this.encryption = encryption;
    this.sink = sink;
    this.compressStage = compressStage;
    this.encryptStage = encryptStage;
    this.storedBytes = storedBytes;
  }

  /** Compresses {@code data} (if that makes it smaller), seals it and appends it as one chunk. */
  void storeAlone(InFlightChunk chunk, ChunkKind kind, ByteBuffer data, ChunkCompressor compressor, ByteBuffer scratch)
      throws IOException, InterruptedException {
    int length = data.remaining();
    long t2 = System.nanoTime();
    // Compressed past the headroom of a sealed blob, so that sealing then works in place.
    ByteBuffer compressInto = scratch.slice(encryption.headroom(), scratch.capacity() - encryption.overhead());
    int compressed = compressor.compressIfSmaller(data, compressInto);
    ByteBuffer body = compressed < 0 ? data : compressInto.limit(compressed);
    ChunkEncoding encoding = compressed < 0 ? ChunkEncoding.RAW : ChunkEncoding.ZSTD;
    long t3 = System.nanoTime();
    compressStage.worked(t3 - t2);
    compressStage.processed(1, length);
    ByteBuffer stored = encryption.seal(body, sealingRoom(scratch, body.remaining()), chunk.id.toBytes());
    encryptStage.worked(System.nanoTime() - t3);
    encryptStage.processed(1, length);
    int storedLength = stored.remaining();
    sink.append(chunk, kind, encoding, length, stored);
    storedBytes.add(storedLength);
  }

  /**
   * Stores {@code plain}, the members' plaintexts back to back, as one block: one zstd frame from
   * {@code blockCompressor} (which adds its checksum), sealed as one blob. A block of one chunk,
   * or one that zstd does not make smaller (small files already compressed), is stored as its
   * chunks alone, with {@code aloneCompressor}. A member whose storing failed has no location.
   */
  void storeBlock(List<InFlightChunk> chunks, List<BlockMember> members, ByteBuffer plain,
      ChunkCompressor blockCompressor, ChunkCompressor aloneCompressor, ByteBuffer scratch)
      throws IOException, InterruptedException {
    long t2 = System.nanoTime();
    ByteBuffer compressInto = scratch.slice(encryption.headroom(), scratch.capacity() - encryption.overhead());
    int compressed = members.size() == 1 ? -1 : blockCompressor.compress(plain, compressInto);
    if (compressed < 0 || compressed >= plain.remaining()) {
      compressStage.worked(System.nanoTime() - t2);
      int at = plain.position();
      for (int i = 0; i < members.size(); i++) {
        int length = members.get(i).plainLength();
        storeAlone(chunks.get(i), members.get(i).kind(), plain.slice(at, length), aloneCompressor, scratch);
        at += length;
      }
      return;
    }
    long t3 = System.nanoTime();
    compressStage.worked(t3 - t2);
    compressStage.processed(members.size(), plain.remaining());
    ByteBuffer stored = encryption.seal(compressInto.limit(compressed), scratch.duplicate().clear(),
        PackCodec.blockAssociatedData());
    encryptStage.worked(System.nanoTime() - t3);
    encryptStage.processed(members.size(), plain.remaining());
    int storedLength = stored.remaining();
    sink.appendBlock(chunks, members, stored);
    storedBytes.add(storedLength);
  }

  /**
   * Where a chunk is sealed: the scratch, or for a tree chunk larger than any data chunk (up to
   * 16 MiB, FORMAT.md §5), a buffer of its own.
   */
  private ByteBuffer sealingRoom(ByteBuffer scratch, int bodyLength) {
    int needed = bodyLength + encryption.overhead();
    return needed <= scratch.capacity() ? scratch.duplicate().clear() : ByteBuffer.allocate(needed);
  }
}
