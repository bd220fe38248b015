/**
 * The FUSE adapter: node to inode, errno mapping, open-file handles, the .snapshots view. Thin by
 * design; the only package family that binds libfuse (through jnr-ffi). May import store, never
 * gc or tools.
 */
package io.dedupfs.fs;
