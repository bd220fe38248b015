package io.dedupfs.gc;

import java.util.Map;

/**
 * What a repository stores, counted by {@link SpaceCounter}. Stored bytes are bytes in pack files
 * (after compression and encryption); plain bytes are the chunks' bytes before.
 *
 * @param liveBytes sum of the sizes of the live tree's regular files, once per name (as a
 *     snapshot record counts its bytes): an orphan (FORMAT.md §6.1) has no name and counts
 *     nothing, though its chunks are referenced by the live tree, hence no garbage, while it lives
 * @param chunks chunks in the index
 * @param plainBytes their plain bytes: what is left of everything written after deduplication
 * @param storedBytes their stored bytes
 * @param unreferencedChunks chunks nothing references: what a collection would free now
 * @param unreferencedBytes their stored bytes
 * @param snapshots by snapshot number, the space each holds
 */
public record SpaceReport(long liveBytes, long chunks, long plainBytes, long storedBytes, long unreferencedChunks,
    long unreferencedBytes, Map<Long, SnapshotSpace> snapshots) {
  public SpaceReport {
    snapshots = Map.copyOf(snapshots);
  }

  /**
   * The stored bytes of the chunks one snapshot references.
   *
   * @param uniqueBytes those nothing else references (not the live tree, the tree cache or
   *     another snapshot): what deleting the snapshot, then collecting, frees
   * @param sharedBytes those something else references too
   */
  public record SnapshotSpace(long uniqueBytes, long sharedBytes) {}
}
