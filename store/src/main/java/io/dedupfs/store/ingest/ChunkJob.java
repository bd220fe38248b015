package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.ChunkKind;
import java.util.concurrent.CompletableFuture;

/** A chunk of some kind on its way to a worker: its bytes are {@code buffer[0, length)}. */
record ChunkJob(ChunkKind kind, PooledBuffer buffer, int length, CompletableFuture<ChunkRef> durable) {}
