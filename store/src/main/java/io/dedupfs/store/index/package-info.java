/** The LMDB index. The only package that imports org.lmdbjava. */
package io.dedupfs.store.index;
