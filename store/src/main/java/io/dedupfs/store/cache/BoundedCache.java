package io.dedupfs.store.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * A map that keeps at most {@code capacity} bytes of values, as {@code weight} counts them,
 * dropping the least recently used first. A value heavier than the whole capacity is not kept.
 * Thread-safe.
 */
public final class BoundedCache<K, V> {
  private final long capacity;
  private final ToIntFunction<V> weight;
  private final LinkedHashMap<K, V> entries = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;

  public BoundedCache(long capacity, ToIntFunction<V> weight) {
    this.capacity = capacity;
    this.weight = weight;
  }

  public synchronized V get(K key) {
    return entries.get(key);
  }

  /** Drops {@code key}'s value, if kept. */
  public synchronized void remove(K key) {
    V value = entries.remove(key);
    if (value != null) {
      bytes -= weight.applyAsInt(value);
    }
  }

  public synchronized void put(K key, V value) {
    int w = weight.applyAsInt(value);
    if (w > capacity || entries.containsKey(key)) {
      return;
    }
    entries.put(key, value);
    bytes += w;
    var it = entries.entrySet().iterator();
    while (bytes > capacity && it.hasNext()) {
      Map.Entry<K, V> eldest = it.next();
      bytes -= weight.applyAsInt(eldest.getValue());
      it.remove();
    }
  }
}
