package io.dedupfs.gc;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import io.dedupfs.store.pack.PackStorage;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dedupfs check}: the invariants of FORMAT.md §8 and §11 on a repository, read only. Every
 * pack entry names a sealed pack file of its length whose PackIndex agrees with each chunk entry
 * pointing into it; every chunk entry names a pack entry; every chunk the live tree, a snapshot or
 * the tree cache references is in the index; with {@code readData}, every chunk decodes to
 * bytes matching its id. Memory is the collector's: the sort budget and a set of pack numbers.
 */
public final class Checker {
  /** Problems listed in a report; more are counted. */
  public static final int MAX_PROBLEMS = Findings.MAX_LISTED;

  private final ChunkIndex index;
  private final PackStorage packs;
  private final Encryption encryption;
  private final ChunkReader chunks;
  private final Snapshots snapshots;
  private final ReferenceMarker marker;
  private final GcSettings settings;
  private final Findings problems = new Findings();

  public Checker(Repository repository, Namespace namespace, Snapshots snapshots, ChunkReader chunks,
      SnapshotReader trees, GcSettings settings) {
    this.index = repository.index();
    this.packs = repository.packs();
    this.encryption = repository.encryption();
    this.chunks = chunks;
    this.snapshots = snapshots;
    this.marker = new ReferenceMarker(namespace, trees, settings);
    this.settings = settings;
  }

  /** Checks, no collection or snapshot change running meanwhile. */
  public CheckReport run(boolean readData) throws IOException, InterruptedException {
    return snapshots.exclusively(records -> {
      Map<PackNumber, PackRecord> entries = index.packs();
      checkPacks(entries);
      long[] counts = checkChunks(entries.keySet(), readData);
      long references = 0;
      try (MarkedIds ids = marker.mark(records, Pacer.UNPACED, n -> { })) {
        references = ids.count();
        checkReferences(ids);
      } catch (java.nio.file.NoSuchFileException | io.dedupfs.store.CorruptDataException
          | io.dedupfs.store.ChunkNotFoundException e) {
        // A tree node that cannot be read hides what is below it: report it, and what else was found.
        problem("a snapshot's or the live tree's nodes cannot all be read: " + e.getMessage());
      }
      return new CheckReport(entries.size(), counts[0], references, counts[1], problems.count(), problems.listed());
    });
  }

  private void problem(String text) {
    problems.add(text);
  }

  /** Each pack entry: its file, its length, its PackIndex, and the chunk entries pointing into it. */
  private void checkPacks(Map<PackNumber, PackRecord> entries) throws IOException {
    Set<PackNumber> files = new HashSet<>(packs.list());
    for (Map.Entry<PackNumber, PackRecord> e : entries.entrySet()) {
      PackNumber p = e.getKey();
      if (!files.contains(p)) {
        problem("pack " + p + " is in the index but its file is missing");
        continue;
      }
      long size = packs.size(p);
      if (size != e.getValue().fileLength()) {
        problem("pack " + p + " has " + size + " bytes, the index says " + e.getValue().fileLength());
        continue;
      }
      try {
        for (PackIndexEntry c : PackReader.readIndex(packs, p, encryption)) {
          ChunkLocation expected = ChunkLocation.of(p, c);
          index.find(c.id()).filter(l -> l.pack().equals(p) && !l.equals(expected)).ifPresent(l ->
              problem("chunk " + c.id() + ": the index says " + l + ", pack " + p + " says " + expected));
        }
      } catch (IOException e2) {
        problem("pack " + p + ": " + e2.getMessage());
      }
    }
  }

  /** Each chunk entry names a pack entry; with readData, decodes to its id. Returns {entries, read}. */
  private long[] checkChunks(Set<PackNumber> packEntries, boolean readData) throws IOException {
    long count = 0;
    long read = 0;
    ChunkId after = null;
    for (List<ChunkEntry> page; !(page = index.chunks(after, settings.batch())).isEmpty(); ) {
      for (ChunkEntry e : page) {
        count++;
        if (!packEntries.contains(e.location().pack())) {
          problem("chunk " + e.id() + " names pack " + e.location().pack() + ", which the index does not have");
        } else if (readData) {
          try {
            chunks.read(e.id(), e.location(), ByteBuffer.allocateDirect(e.location().plainLength()));
            read++;
          } catch (IOException x) {
            problem("chunk " + e.id() + ": " + x.getMessage());
          }
        }
      }
      after = page.get(page.size() - 1).id();
    }
    return new long[] {count, read};
  }

  /** Every referenced chunk is in the index (or set aside by a collection under way). */
  private void checkReferences(MarkedIds referenced) throws IOException {
    for (ChunkId id = referenced.next(); id != null; id = referenced.next()) {
      if (index.find(id).isEmpty() && index.findFossil(id).isEmpty()) {
        problem("chunk " + id + " is referenced but not in the index: data is missing");
      }
    }
  }
}
