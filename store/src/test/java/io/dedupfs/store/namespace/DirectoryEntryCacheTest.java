package io.dedupfs.store.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class DirectoryEntryCacheTest {
  private static final DirectoryEntryCache.Key KEY = new DirectoryEntryCache.Key(1, Name.of("a"));
  private static final DirectoryEntryCache.Target TARGET = new DirectoryEntryCache.Target(7, Mode.S_IFREG);

  @Test
  void keysCompareByContent() {
    DirectoryEntryCache cache = new DirectoryEntryCache();
    cache.addAll(cache.generation(), List.of(new DirectoryEntryCache.Found(KEY, TARGET)));
    assertEquals(TARGET, cache.get(new DirectoryEntryCache.Key(1, Name.of(new byte[] {'a'}))));
  }

  /** A walk that read the index before a rename committed must not put back what the rename removed. */
  @Test
  void whatAWalkFoundBeforeAnEntryWasForgottenIsNotAdded() {
    DirectoryEntryCache cache = new DirectoryEntryCache();
    long before = cache.generation();
    cache.forget(new DirectoryEntryCache.Key(9, Name.of("z")));
    cache.addAll(before, List.of(new DirectoryEntryCache.Found(KEY, TARGET)));
    assertNull(cache.get(KEY));

    cache.addAll(cache.generation(), List.of(new DirectoryEntryCache.Found(KEY, TARGET)));
    assertEquals(TARGET, cache.get(KEY));
    cache.forget(KEY);
    assertNull(cache.get(KEY));
  }

  @Test
  void theLeastRecentlyUsedGoBeyondCapacity() {
    DirectoryEntryCache cache = new DirectoryEntryCache();
    for (int i = 0; i <= DirectoryEntryCache.CAPACITY; i++) {
      DirectoryEntryCache.Key k = new DirectoryEntryCache.Key(i, Name.of("n"));
      cache.addAll(cache.generation(), List.of(new DirectoryEntryCache.Found(k, TARGET)));
      if (i == 0) {
        continue;
      }
      cache.get(new DirectoryEntryCache.Key(0, Name.of("n"))); // the first stays the most recently used
    }
    assertEquals(TARGET, cache.get(new DirectoryEntryCache.Key(0, Name.of("n"))));
    assertNull(cache.get(new DirectoryEntryCache.Key(1, Name.of("n"))), "the least recently used went");
  }
}
