package io.dedupfs.store.index;

import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import java.util.List;

/** A sealed, durable pack and its chunks, to enter the index in one transaction (FORMAT.md §8). */
public record PackCommit(PackNumber pack, PackRecord record, List<PackIndexEntry> entries) {
  public PackCommit {
    entries = List.copyOf(entries);
  }
}
