package io.dedupfs.store.ingest;

import io.dedupfs.store.stats.StageStats;
import java.util.List;

/**
 * The pipeline's counters at one moment.
 *
 * @param stages per-stage timings, in pipeline order
 * @param newChunks chunks stored for the first time
 * @param newBytes their plaintext bytes
 * @param duplicateChunks chunks dropped because already stored or in flight
 * @param duplicateBytes their plaintext bytes
 * @param storedBytes bytes appended to packs for new chunks (after compression)
 * @param memoryInUse budget bytes held by buffers now
 * @param memoryBudget the budget
 * @param memoryBlockedNanos time writers spent blocked on the budget
 * @param queuedChunks chunks waiting for a worker
 * @param packsSealed packs sealed so far
 */
public record IngestStats(
    List<StageStats.Snapshot> stages,
    long newChunks,
    long newBytes,
    long duplicateChunks,
    long duplicateBytes,
    long storedBytes,
    long memoryInUse,
    long memoryBudget,
    long memoryBlockedNanos,
    int queuedChunks,
    long packsSealed) {}
