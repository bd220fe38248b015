package io.dedupfs.store.namespace;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The directory entries path walks met lately, (parent, name) to (child, type), so that resolving
 * a path reads the index for its last inode only. Every FUSE request resolves its path from the
 * root, and a backup tree is a few directories deep: without it each request read two index
 * records per directory of its path (and, encrypted, unsealed them).
 *
 * <p>Only entries that exist are kept, so creating a name needs nothing here; whatever removes or
 * replaces an entry forgets it once its transaction has committed. A walk's findings are added
 * only if nothing was forgotten since just before its transaction began (the generation): a walk
 * that read the tree before a rename committed cannot put back the entry the rename removed.
 * Restoring a tree from a snapshot only adds entries. Least recently used entries go beyond {@link #CAPACITY}, which bounds the heap it takes (about
 * 100 bytes an entry).
 */
final class DirectoryEntryCache {
  static final int CAPACITY = 1 << 16;

  /** What a directory entry says: the inode it names and its type bits (Mode.S_IF*). */
  record Target(long child, int type) {}

  /** A directory entry: the directory's inode and the name in it. */
  record Key(long parent, Name name) {}

  /** An entry a walk read from the index, to be added after its transaction. */
  record Found(Key key, Target target) {}

  private final Map<Key, Target> entries = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Target> eldest) {
      return size() > CAPACITY;
    }
  };
  private long generation;

  /** To be read before a walk's transaction begins, and handed to {@link #addAll}. */
  synchronized long generation() {
    return generation;
  }

  synchronized Target get(Key key) {
    return entries.get(key);
  }

  /** Adds what a walk found, unless an entry was forgotten since {@code generationBefore}. */
  synchronized void addAll(long generationBefore, List<Found> found) {
    if (generation == generationBefore) {
      for (Found f : found) {
        entries.put(f.key(), f.target());
      }
    }
  }

  /** After a commit that removed or replaced these entries. */
  synchronized void forget(Key... keys) {
    generation++;
    for (Key k : keys) {
      entries.remove(k);
    }
  }

  /** After a change to entries that are not named one by one. */
  synchronized void clear() {
    generation++;
    entries.clear();
  }
}
