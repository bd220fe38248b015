/** Chunk compression. The only package that imports zstd-jni. */
package io.dedupfs.store.compress;
