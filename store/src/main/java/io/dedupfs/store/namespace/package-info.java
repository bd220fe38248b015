/**
 * The live tree: inodes, directory entries, hard links, symlinks, device nodes and extended
 * attributes with POSIX semantics, stored through {@code store.index} transactions. No FUSE and no
 * errno: failures are java.nio exceptions whose reasons are strerror texts.
 */
package io.dedupfs.store.namespace;
