package io.dedupfs.gc;

import java.time.Duration;
import java.util.Map;

/**
 * What a collection did: how many referenced ids it marked, the chunks and stored bytes it
 * freed, the packs it deleted (emptied, and left over by crashes) and rewrote (mostly dead), the
 * bytes of pack files that gave back, and the time of each phase in the order they ran.
 */
public record GcReport(long markedReferences, long chunksFreed, long bytesFreed, long packsDeleted,
    long orphanPacksDeleted, long bytesOnDiskFreed, long packsRewritten, Map<String, Duration> phases) {}
