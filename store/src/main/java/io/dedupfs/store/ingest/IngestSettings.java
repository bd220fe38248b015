package io.dedupfs.store.ingest;

import java.time.Duration;

/**
 * Sizing of the ingest pipeline.
 *
 * @param memoryBytes the global byte budget of every ingest buffer (--memory)
 * @param workers threads that hash, look up, compress and append chunks
 * @param commitInterval a pack open this long is sealed and committed even if not full, so
 *     unsynced data becomes durable within about this time
 * @param maxPendingSeals sealed packs waiting for fsync and commit before appends block
 */
public record IngestSettings(long memoryBytes, int workers, Duration commitInterval, int maxPendingSeals) {
  public static final long DEFAULT_MEMORY = 256L << 20;
  public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofSeconds(5);

  public IngestSettings {
    if (workers < 1 || maxPendingSeals < 1 || commitInterval.isNegative() || commitInterval.isZero()) {
      throw new IllegalArgumentException("invalid ingest settings");
    }
  }

  /** Settings sized to this machine for the given budget. */
  public static IngestSettings forMemory(long memoryBytes) {
    return new IngestSettings(memoryBytes, Runtime.getRuntime().availableProcessors(), DEFAULT_COMMIT_INTERVAL, 4);
  }
}
