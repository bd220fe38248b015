/**
 * The repository on disk and everything that turns bytes into stored chunks and back. Knows
 * nothing of FUSE or errno. Foreign libraries each have one owning package: only {@code
 * store.index} imports org.lmdbjava, only {@code store.compress} zstd-jni.
 */
package io.dedupfs.store;
