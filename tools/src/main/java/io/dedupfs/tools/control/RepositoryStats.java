package io.dedupfs.tools.control;

import io.dedupfs.gc.LastCollection;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.PackRecord;
import java.io.IOException;
import java.util.Optional;

/** What {@code dedupfs stats} shows: what the repository holds, and the last collection. */
public record RepositoryStats(long snapshots, long chunks, long packs, long packBytes, Optional<LastCollection> lastGc) {

  /** Read from the index of a repository open in this process. */
  static RepositoryStats of(ChunkIndex index, int snapshots) throws IOException {
    ChunkIndex.Counts counts = index.counts();
    long bytes = 0;
    for (PackRecord p : index.packs().values()) {
      bytes += p.fileLength();
    }
    return new RepositoryStats(snapshots, counts.chunks(), counts.packs(), bytes, LastCollection.of(index));
  }
}
