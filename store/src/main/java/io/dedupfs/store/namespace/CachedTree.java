package io.dedupfs.store.namespace;

import io.dedupfs.store.chunk.ChunkId;

/**
 * A directory's tree as the last snapshot serialized it (FORMAT.md §10.4): the tree id, and the
 * regular-file bytes, non-directory entries and directories below it.
 */
public record CachedTree(ChunkId tree, long bytes, long files, long directories) {}
