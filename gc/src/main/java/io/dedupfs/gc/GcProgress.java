package io.dedupfs.gc;

/**
 * Where a collection says how far it got: the phase it is in, and how many of its items (ids
 * marked, chunk entries swept, fossils buried, packs handled) it has done of how many ({@code -1}
 * when not known beforehand). Called from the collecting thread, at most every few thousand items.
 */
@FunctionalInterface
public interface GcProgress {
  GcProgress NONE = (phase, done, total) -> { };

  void update(String phase, long done, long total);
}
