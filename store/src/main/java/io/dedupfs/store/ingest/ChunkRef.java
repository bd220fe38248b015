package io.dedupfs.store.ingest;

import io.dedupfs.store.chunk.ChunkId;

/** A durable chunk of a stream, in stream order: its id and plaintext length. */
public record ChunkRef(ChunkId id, int length) {}
