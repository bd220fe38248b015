package io.dedupfs.gc;

import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.PackCommit;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.pack.PackWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * Rewrites a pack that is mostly dead (FORMAT.md §11 step 7): its live chunks are copied as
 * stored into a new pack, sealed and fsynced; one transaction points them at it and drops the old
 * pack's entry; only then is the old file deleted. A crash leaves at worst a pack file no entry
 * names, which the next collection deletes.
 */
final class PackRewriter {
  private final ChunkIndex index;
  private final PackStorage packs;
  private final Encryption encryption;
  private final IngestPipeline pipeline;

  /** Copies stored chunks as they are: a sealed chunk is bound to its id, not to its pack. */
  PackRewriter(ChunkIndex index, PackStorage packs, Encryption encryption, IngestPipeline pipeline) {
    this.index = index;
    this.packs = packs;
    this.encryption = encryption;
    this.pipeline = pipeline;
  }

  /** Rewrites {@code old}; returns the bytes on disk it gave back (old size minus new size). */
  long rewrite(PackNumber old) throws IOException {
    long oldSize = packs.size(old);
    PackWriter copy = new PackWriter(pipeline.allocatePackNumber(), packs, encryption);
    try {
      for (PackIndexEntry e : PackReader.readIndex(packs, old, encryption)) {
        Optional<ChunkLocation> now = index.find(e.id());
        // Only what the index still finds here is live; the rest is what this rewrite frees.
        if (now.isPresent() && now.get().equals(ChunkLocation.of(old, e))) {
          ByteBuffer stored = ByteBuffer.allocate(e.storedLength());
          packs.read(old, e.offset(), stored);
          copy.append(e.id(), e.kind(), e.encoding(), e.plainLength(), stored.flip());
        }
      }
      List<PackIndexEntry> written = copy.seal();
      PackRecord record = new PackRecord(copy.size(), copy.chunkCount(), copy.storedBytes(), System.currentTimeMillis());
      index.replacePack(old, new PackCommit(copy.number(), record, written));
    } catch (IOException | RuntimeException e) {
      copy.abandon();
      throw e;
    }
    packs.delete(old);
    return oldSize - copy.size();
  }
}
