/**
 * Live counters: of the store's pipeline stages, and of the requests a filesystem serves over
 * the store. Depends on nothing else of dedupfs.
 */
package io.dedupfs.store.stats;
