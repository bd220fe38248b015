/**
 * Regular files' data: pending writes streamed through the ingest pipeline into extents, and
 * reads through extents and a bounded chunk cache. No FUSE: the mount's file handles use these.
 */
package io.dedupfs.store.file;
