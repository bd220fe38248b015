/** Live counters shared by the store's stages; depends on nothing else of dedupfs. */
package io.dedupfs.store.stats;
