/** Retention policies and the external-sort mark-and-sweep collector. May import store only. */
package io.dedupfs.gc;
