/**
 * External merge sort for the collector's mark phase: fixed-length keys (chunk ids) in, in any
 * order and with repeats, each distinct key out once in unsigned byte order, the order of LMDB
 * keys, so that the sweep can merge-join them with the index. Memory is a fixed budget whatever
 * the number of keys. Imports nothing of ours.
 */
package io.dedupfs.gc.sort;
