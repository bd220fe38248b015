package io.dedupfs.store.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class DirectoryEntryCacheTest {
  private static final DirectoryEntryCache.Key KEY = new DirectoryEntryCache.Key(new byte[] {0, 0, 0, 0, 0, 0, 0, 1, 'a'});
  private static final DirectoryEntryCache.Target TARGET = new DirectoryEntryCache.Target(7, Mode.S_IFREG);

  @Test
  void keysCompareByContent() {
    DirectoryEntryCache cache = new DirectoryEntryCache();
    cache.addAll(cache.generation(), List.of(new DirectoryEntryCache.Found(KEY, TARGET)));
    assertEquals(TARGET, cache.get(new DirectoryEntryCache.Key(KEY.bytes().clone())));
  }

  /** A walk that read the index before a rename committed must not put back what the rename removed. */
  @Test
  void whatAWalkFoundBeforeAnEntryWasForgottenIsNotAdded() {
    DirectoryEntryCache cache = new DirectoryEntryCache();
    long before = cache.generation();
    cache.forget(new DirectoryEntryCache.Key(new byte[] {9}));
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
      DirectoryEntryCache.Key k = new DirectoryEntryCache.Key(new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i});
      cache.addAll(cache.generation(), List.of(new DirectoryEntryCache.Found(k, TARGET)));
      if (i == 0) {
        continue;
      }
      cache.get(new DirectoryEntryCache.Key(new byte[] {0, 0, 0, 0})); // the first stays the most recently used
    }
    assertEquals(TARGET, cache.get(new DirectoryEntryCache.Key(new byte[] {0, 0, 0, 0})));
    assertNull(cache.get(new DirectoryEntryCache.Key(new byte[] {0, 0, 0, 1})), "the least recently used went");
  }
}
