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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
      Map<PackNumber, Long> agreeing = new HashMap<>();
      long read = checkPacks(entries, readData, agreeing);
      long[] counts = checkChunks(entries.keySet(), agreeing, readData);
      long chunkEntries = counts[0];
      read += counts[1];
      long references = 0;
      try (MarkedIds ids = marker.mark(records, Pacer.UNPACED, n -> { })) {
        references = ids.count();
        checkReferences(ids);
      } catch (java.nio.file.NoSuchFileException | io.dedupfs.store.CorruptDataException
          | io.dedupfs.store.ChunkNotFoundException e) {
        // A tree node that cannot be read hides what is below it: report it, and what else was found.
        problem("a snapshot's or the live tree's nodes cannot all be read: " + e.getMessage());
      }
      return new CheckReport(entries.size(), chunkEntries, references, read, problems.count(), problems.listed());
    });
  }

  private void problem(String text) {
    problems.add(text);
  }

  /**
   * Each pack entry: its file, its length, its PackIndex, and the chunk entries pointing into it,
   * counted in {@code agreeing}; with readData, each chunk the index places in it decodes to its
   * id, read in pack order so that a block is decoded once for all its members. Returns the
   * number of chunks read.
   */
  private long checkPacks(Map<PackNumber, PackRecord> entries, boolean readData, Map<PackNumber, Long> agreeing)
      throws IOException {
    long read = 0;
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
        List<PackIndexEntry> listed = PackReader.readIndex(packs, p, encryption);
        agreeing.put(p, 0L);
        for (PackIndexEntry c : listed) {
          ChunkLocation expected = ChunkLocation.of(p, c);
          Optional<ChunkLocation> indexed = index.find(c.id()).filter(l -> l.pack().equals(p));
          if (indexed.isEmpty()) {
            continue;
          }
          // Counted either way: a disagreement is reported here, by chunk, and not again as a count.
          agreeing.merge(p, 1L, Long::sum);
          if (!indexed.get().equals(expected)) {
            problem("chunk " + c.id() + ": the index says " + indexed.get() + ", pack " + p + " says " + expected);
            continue;
          }
          if (readData) {
            try {
              chunks.read(c.id(), expected, ByteBuffer.allocateDirect(expected.plainLength()));
              read++;
            } catch (IOException x) {
              problem("chunk " + c.id() + ": " + x.getMessage());
            }
          }
        }
      } catch (IOException e2) {
        problem("pack " + p + ": " + e2.getMessage());
      }
    }
    return read;
  }

  /**
   * Each chunk entry names a pack entry, and one whose PackIndex lists it where the entry says
   * (as many as {@code agreeing} counted per pack whose PackIndex could be read; the others are
   * reported already). With readData, the chunks of packs whose PackIndex could not be read are
   * read here, each where the index says, so that the report names what of them is lost.
   * Returns {entries, read}.
   */
  private long[] checkChunks(Set<PackNumber> packEntries, Map<PackNumber, Long> agreeing, boolean readData)
      throws IOException {
    long count = 0;
    long read = 0;
    Map<PackNumber, Long> named = new HashMap<>();
    ChunkId after = null;
    for (List<ChunkEntry> page; !(page = index.chunks(after, settings.batch())).isEmpty(); ) {
      for (ChunkEntry e : page) {
        count++;
        if (!packEntries.contains(e.location().pack())) {
          problem("chunk " + e.id() + " names pack " + e.location().pack() + ", which the index does not have");
        } else {
          named.merge(e.location().pack(), 1L, Long::sum);
          if (readData && !agreeing.containsKey(e.location().pack())) {
            try {
              chunks.read(e.id(), e.location(), ByteBuffer.allocateDirect(e.location().plainLength()));
              read++;
            } catch (IOException x) {
              problem("chunk " + e.id() + ": " + x.getMessage());
            }
          }
        }
      }
      after = page.get(page.size() - 1).id();
    }
    named.forEach((pack, n) -> {
      Long listed = agreeing.get(pack);
      if (listed != null && n > listed) {
        problem((n - listed) + " chunk entries name pack " + pack + ", which does not list them there");
      }
    });
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
