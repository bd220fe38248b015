package io.dedupfs.store.namespace;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The directories whose subtrees changed while a snapshot was being taken: their trees, as the
 * snapshot read them, must not be cached (FORMAT.md §10.4). Filled by the namespace's writers.
 */
public final class ChangeWatch {
  private final Set<Long> changed = ConcurrentHashMap.newKeySet();

  void changed(long directory) {
    changed.add(directory);
  }

  public boolean sawChange(long directory) {
    return changed.contains(directory);
  }
}
