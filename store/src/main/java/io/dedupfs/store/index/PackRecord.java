package io.dedupfs.store.index;

/** A sealed pack as the {@code packs} table knows it (FORMAT.md §6). */
public record PackRecord(long fileLength, int chunkCount, long storedBytes, long sealedAtMillis) {}
