/**
 * The FUSE adapter: path to inode, errno mapping, open-file handles, the .snapshots view. Thin by
 * design; the only package family that imports jnr-fuse. May import store, never gc or tools.
 */
package io.dedupfs.fs;
