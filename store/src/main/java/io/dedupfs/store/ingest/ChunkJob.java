package io.dedupfs.store.ingest;

import java.util.concurrent.CompletableFuture;

/** A cut chunk on its way to a worker: its bytes are {@code buffer[0, length)}. */
record ChunkJob(PooledBuffer buffer, int length, CompletableFuture<ChunkRef> durable) {}
