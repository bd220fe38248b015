package io.dedupfs.store.chunk;

import java.io.IOException;

/** Takes chunk ids one by one, such as the references the collector marks. */
@FunctionalInterface
public interface ChunkIdSink {
  void accept(ChunkId id) throws IOException;
}
