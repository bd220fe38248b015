package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.ChunkLocation;
import java.util.concurrent.CompletableFuture;

/** A new chunk between its first sight and its index commit; duplicates seen meanwhile wait on it. */
final class InFlightChunk {
  final ChunkId id;
  final CompletableFuture<Void> durable = new CompletableFuture<>();
  /** Set once appended to a pack, so the chunk can be read back before it is committed. */
  volatile ChunkLocation location;

  InFlightChunk(ChunkId id) {
    this.id = id;
  }
}
