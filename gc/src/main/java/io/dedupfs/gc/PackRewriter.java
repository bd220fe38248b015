package io.dedupfs.gc;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.PackCommit;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.pack.PackCodec;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.pack.PackWriter;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rewrites a pack that is mostly dead (FORMAT.md §11 step 7): its live chunks are copied as
 * stored into a new pack, sealed and fsynced; one transaction points them at it and drops the old
 * pack's entry; only then is the old file deleted. A block whose members are not all live is
 * decoded and its live members stored anew, so that a dead member's bytes go too. A crash leaves
 * at worst a pack file no entry names, which the next collection deletes.
 */
final class PackRewriter {
  private final Repository repository;
  private final ChunkIndex index;
  private final PackStorage packs;
  private final Encryption encryption;
  private final Compression compression;
  private final IngestPipeline pipeline;

  /** Copies stored chunks and whole blocks as they are: sealed, they are bound to their ids, not to their pack. */
  PackRewriter(Repository repository, IngestPipeline pipeline) {
    this.repository = repository;
    this.index = repository.index();
    this.packs = repository.packs();
    this.encryption = repository.encryption();
    this.compression = repository.config().compression();
    this.pipeline = pipeline;
  }

  /** Rewrites {@code old}; returns the bytes on disk it gave back (old size minus new size). */
  long rewrite(PackNumber old) throws IOException {
    long oldSize = packs.size(old);
    PackWriter copy = new PackWriter(pipeline.allocatePackNumber(), packs, encryption);
    List<PackIndexEntry> written;
    try {
      copyLive(old, copy);
      written = copy.seal();
    } catch (IOException | RuntimeException e) {
      // Nothing can name the copy yet: deleted now, or a pack that fails here at every collection
      // (a damaged block) would leave a file behind each time.
      copy.discardAfter(e);
      throw e;
    }
    try {
      PackRecord record = new PackRecord(copy.size(), copy.chunkCount(), copy.storedBytes(), System.currentTimeMillis());
      index.replacePack(old, new PackCommit(copy.number(), record, written));
    } catch (IOException | RuntimeException e) {
      copy.abandon();
      throw e;
    }
    packs.delete(old);
    return oldSize - copy.size();
  }

  /** Copies into {@code copy} what the index still finds in {@code old}. */
  private void copyLive(PackNumber old, PackWriter copy) throws IOException {
    try (ChunkReader reader = ChunkReader.of(repository);
        Compressors compressors = new Compressors(new ChunkCompressor(compression), new ChunkCompressor(compression.forBlocks(), true))) {
      List<PackIndexEntry> entries = PackReader.readIndex(packs, old, encryption);
      for (int i = 0; i < entries.size(); ) {
        int end = i + 1;
        while (end < entries.size() && sameBlock(entries.get(i), entries.get(end))) {
          end++;
        }
        List<PackIndexEntry> live = new ArrayList<>();
        for (PackIndexEntry e : entries.subList(i, end)) {
          Optional<ChunkLocation> now = index.find(e.id());
          // Only what the index still finds here is live; the rest is what this rewrite frees.
          if (now.isPresent() && now.get().equals(ChunkLocation.of(old, e))) {
            live.add(e);
          }
        }
        if (live.size() == end - i) {
          copyStored(old, live, copy);
        } else if (!live.isEmpty()) {
          storeAnew(old, live, reader, compressors, copy);
        }
        i = end;
      }
    }
  }

  private static boolean sameBlock(PackIndexEntry first, PackIndexEntry e) {
    return first.encoding() == ChunkEncoding.BLOCK && e.encoding() == ChunkEncoding.BLOCK && e.offset() == first.offset();
  }

  /** Copies a chunk stored alone, or a whole block, as stored. */
  private void copyStored(PackNumber old, List<PackIndexEntry> entries, PackWriter copy) throws IOException {
    PackIndexEntry first = entries.get(0);
    ByteBuffer stored = ByteBuffer.allocate(first.storedLength());
    packs.read(old, first.offset(), stored);
    stored.flip();
    if (first.encoding() == ChunkEncoding.BLOCK) {
      copy.appendBlock(members(entries), stored);
    } else {
      copy.append(first.id(), first.kind(), first.encoding(), first.plainLength(), stored);
    }
  }

  /** Compressors for chunks stored anew: alone, and blocks (whose frames carry a checksum). */
  private record Compressors(ChunkCompressor alone, ChunkCompressor blocks) implements AutoCloseable {
    @Override
    public void close() {
      alone.close();
      blocks.close();
    }
  }

  /**
   * Stores the live members of a block anew: as a block again if there are two or more, else
   * the one alone. Each is read (and verified against its id) through the reader.
   */
  private void storeAnew(PackNumber old, List<PackIndexEntry> live, ChunkReader reader, Compressors compressors,
      PackWriter copy) throws IOException {
    int plainTotal = 0;
    for (PackIndexEntry e : live) {
      plainTotal += e.plainLength();
    }
    ByteBuffer plain = ByteBuffer.allocateDirect(plainTotal);
    for (PackIndexEntry e : live) {
      reader.read(e.id(), ChunkLocation.of(old, e), plain);
    }
    plain.flip();
    ByteBuffer compressed = ByteBuffer.allocateDirect(ChunkCompressor.bound(plainTotal));
    if (live.size() >= 2) {
      int n = compressors.blocks().compress(plain, compressed);
      copy.appendBlock(members(live), seal(compressed.limit(n), PackCodec.blockAssociatedData()));
      return;
    }
    PackIndexEntry e = live.get(0);
    int n = compressors.alone().compressIfSmaller(plain, compressed);
    ByteBuffer body = n < 0 ? plain : compressed.limit(n);
    copy.append(e.id(), e.kind(), n < 0 ? ChunkEncoding.RAW : ChunkEncoding.ZSTD, e.plainLength(),
        seal(body, e.id().toBytes()));
  }

  private ByteBuffer seal(ByteBuffer body, byte[] associatedData) {
    return encryption.seal(body, ByteBuffer.allocate(body.remaining() + encryption.overhead()), associatedData);
  }

  private static List<PackWriter.BlockMember> members(List<PackIndexEntry> entries) {
    List<PackWriter.BlockMember> members = new ArrayList<>(entries.size());
    for (PackIndexEntry e : entries) {
      members.add(new PackWriter.BlockMember(e.id(), e.kind(), e.plainLength()));
    }
    return members;
  }
}
