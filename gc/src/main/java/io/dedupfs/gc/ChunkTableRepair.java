package io.dedupfs.gc;

import io.dedupfs.gc.sort.ExternalSorter;
import io.dedupfs.gc.sort.SortedKeys;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkIndex.ChunkChange;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.PackCommit;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import io.dedupfs.store.pack.PackStorage;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The first step of a repair (FORMAT.md §13): makes the {@code chunks} and {@code packs} tables
 * agree with the sealed packs numbered below the epoch, which say what they hold themselves. Packs
 * with no valid trailer are set aside. A chunk held by several packs keeps the location the index
 * gives it if one of them agrees, else takes the lowest-numbered pack's. Entries no pack backs are
 * dropped, and their chunks returned as lost.
 *
 * <p>Every PackIndex entry goes through an external sort by chunk id, which is then merged with
 * the {@code chunks} table (both in id order), so memory is the sort's budget whatever the number
 * of chunks. Changes are made only to entries still as read, so the writers of a mounted
 * repository, whose packs are at or above the epoch, keep theirs.
 */
final class ChunkTableRepair {
  /** A sort key: chunk id, then its location in one pack, the pack number first so that the lowest pack sorts first. */
  private static final int KEY_LENGTH = ChunkId.LENGTH + 8 + 4 + 4 + 4 + 1 + 1 + 4 + 4;

  private final ChunkIndex index;
  private final PackStorage packs;
  private final Encryption encryption;
  private final GcSettings settings;
  private final Clock clock;
  private final Findings repairs;

  ChunkTableRepair(ChunkIndex index, PackStorage packs, Encryption encryption, GcSettings settings, Clock clock,
      Findings repairs) {
    this.index = index;
    this.packs = packs;
    this.encryption = encryption;
    this.settings = settings;
    this.clock = clock;
    this.repairs = repairs;
  }

  /** What the tables lost: the chunks no pack holds, by the pack their entry named. */
  record Outcome(long sealedPacks, Map<ChunkId, PackNumber> lostChunks) {}

  Outcome run(long epoch, GcProgress progress) throws IOException {
    Map<PackNumber, PackRecord> entries = index.packs();
    List<PackNumber> files = packs.list().stream().filter(p -> p.value() < epoch).toList();
    Map<PackNumber, PackRecord> sealed = new TreeMap<>();
    try (ExternalSorter sorter = new ExternalSorter(KEY_LENGTH, settings.memoryBytes(), settings.tempDirectory())) {
      // Read only, so that a pack of a format this dedupfs does not read (FormatVersionException) stops the
      // repair before it changes anything.
      Map<PackNumber, String> unsealed = new TreeMap<>();
      long done = 0;
      for (PackNumber p : files) {
        try {
          List<PackIndexEntry> held = PackReader.readIndex(packs, p, encryption);
          sealed.put(p, recordOf(p, held, entries.get(p)));
          for (PackIndexEntry e : held) {
            sorter.add(key(ChunkLocation.of(p, e), e.id()));
          }
        } catch (CorruptDataException | EOFException e) {
          unsealed.put(p, e.getMessage());
        }
        progress.update("packs", ++done, files.size());
      }
      for (Map.Entry<PackNumber, String> p : unsealed.entrySet()) {
        repairs.add("pack " + p.getKey() + " is not sealed (" + p.getValue() + "): "
            + (entries.containsKey(p.getKey()) ? "dropped from the index and " : "") + "moved to "
            + packs.setAside(p.getKey()));
      }
      // A collection cut short left chunks set aside; they are chunks like any other here.
      index.restoreEveryFossil(settings.batch());
      enterPacks(sealed, entries);
      Map<ChunkId, PackNumber> lost = mergeChunks(sorter.finish(), epoch, progress);
      for (PackNumber p : entries.keySet()) {
        if (p.value() < epoch && !sealed.containsKey(p)) {
          index.removePack(p);
          if (!unsealed.containsKey(p)) {
            repairs.add("pack " + p + " is in the index but its file is missing: dropped from the index");
          }
        }
      }
      index.sync();
      return new Outcome(sealed.size(), lost);
    }
  }

  /** The pack's entry as its file says, keeping the time it was sealed if the index knew it. */
  private PackRecord recordOf(PackNumber p, List<PackIndexEntry> held, PackRecord known) throws IOException {
    long stored = held.stream().mapToLong(PackIndexEntry::storedShare).sum();
    long sealedAt = known == null ? clock.millis() : known.sealedAtMillis();
    return new PackRecord(packs.size(p), held.size(), stored, sealedAt);
  }

  private void enterPacks(Map<PackNumber, PackRecord> sealed, Map<PackNumber, PackRecord> entries) throws IOException {
    List<PackCommit> commits = new ArrayList<>();
    for (Map.Entry<PackNumber, PackRecord> p : sealed.entrySet()) {
      PackRecord known = entries.get(p.getKey());
      if (!p.getValue().equals(known)) {
        repairs.add("pack " + p.getKey() + (known == null ? " was not in the index: entered, "
            : ": the index said " + known + ": corrected to ") + p.getValue());
        // Without chunk entries: those are the merge's to make, one by one.
        commits.add(new PackCommit(p.getKey(), p.getValue(), List.of()));
      }
    }
    if (!commits.isEmpty()) {
      index.commit(commits);
    }
  }

  /** Chunk entries changed so far, per pack, to tell in one line per pack rather than one per chunk. */
  private static final class Tally {
    long entered;
    long moved;
    ChunkId example;
  }

  private Map<ChunkId, PackNumber> mergeChunks(SortedKeys held, long epoch, GcProgress progress) throws IOException {
    Map<ChunkId, PackNumber> lost = new HashMap<>();
    Map<PackNumber, Tally> tallies = new TreeMap<>();
    List<ChunkChange> changes = new ArrayList<>();
    IndexCursor indexed = new IndexCursor();
    HeldCursor copies = new HeldCursor(held);
    long done = 0;
    while (indexed.current() != null || copies.id() != null) {
      ChunkId id = smaller(indexed.current() == null ? null : indexed.current().id(), copies.id());
      ChunkLocation now = indexed.current() != null && indexed.current().id().equals(id) ? indexed.take() : null;
      List<ChunkLocation> where = copies.takeAll(id);
      if (now != null && now.pack().value() >= epoch || where.contains(now)) {
        // Written while the repair runs, or right.
      } else if (!where.isEmpty()) {
        changes.add(new ChunkChange(id, now, where.get(0)));
        Tally t = tallies.computeIfAbsent(where.get(0).pack(), p -> new Tally());
        if (now == null) {
          t.entered++;
        } else {
          t.moved++;
        }
        t.example = id;
      } else {
        changes.add(new ChunkChange(id, now, null));
        lost.put(id, now.pack());
        repairs.add("chunk " + id + ": pack " + now.pack() + " does not hold it: dropped from the index (data lost)");
      }
      if (changes.size() >= settings.batch()) {
        index.compareAndSet(changes);
        changes.clear();
      }
      if (++done % settings.batch() == 0) {
        progress.update("chunks", done, -1);
      }
    }
    index.compareAndSet(changes);
    tallies.forEach((p, t) -> repairs.add("pack " + p + ": " + (t.entered > 0 ? t.entered + " chunks entered in the index" : "")
        + (t.entered > 0 && t.moved > 0 ? ", " : "") + (t.moved > 0 ? t.moved + " chunk entries pointed at it" : "")
        + " (chunk " + t.example + (t.entered + t.moved > 1 ? " and others)" : ")")));
    return lost;
  }

  private static ChunkId smaller(ChunkId a, ChunkId b) {
    if (a == null) {
      return b;
    }
    return b == null || a.compareTo(b) <= 0 ? a : b;
  }

  /** The {@code chunks} table read in pages, in id order. */
  private final class IndexCursor {
    private List<ChunkEntry> page = List.of();
    private int at;
    private ChunkId after;
    private boolean ended;

    ChunkEntry current() throws IOException {
      if (at == page.size() && !ended) {
        page = index.chunks(after, settings.batch());
        at = 0;
        ended = page.isEmpty();
        if (!ended) {
          after = page.get(page.size() - 1).id();
        }
      }
      return ended ? null : page.get(at);
    }

    ChunkLocation take() {
      return page.get(at++).location();
    }
  }

  /** The sorted PackIndex entries, a chunk id's copies at a time. */
  private static final class HeldCursor {
    private final SortedKeys keys;
    private ChunkId id;
    private ChunkLocation location;

    HeldCursor(SortedKeys keys) throws IOException {
      this.keys = keys;
      advance();
    }

    ChunkId id() {
      return id;
    }

    /** Every copy of {@code wanted} (none if the next key is another chunk), lowest pack first. */
    List<ChunkLocation> takeAll(ChunkId wanted) throws IOException {
      List<ChunkLocation> out = new ArrayList<>();
      while (id != null && id.equals(wanted)) {
        out.add(location);
        advance();
      }
      return out;
    }

    private void advance() throws IOException {
      if (!keys.next()) {
        id = null;
        return;
      }
      ByteBuffer k = keys.key();
      id = ChunkId.read(k);
      location = new ChunkLocation(new PackNumber(k.getLong()), k.getInt(), k.getInt(), k.getInt(),
          ChunkKind.fromCode(k.get()), ChunkEncoding.fromCode(k.get()), k.getInt(), k.getInt());
    }
  }

  private static ByteBuffer key(ChunkLocation l, ChunkId id) {
    ByteBuffer b = ByteBuffer.allocate(KEY_LENGTH);
    id.writeTo(b);
    b.putLong(l.pack().value()).putInt(l.offset()).putInt(l.storedLength()).putInt(l.plainLength())
        .put((byte) l.kind().code).put((byte) l.encoding().code).putInt(l.offsetInBlock()).putInt(l.storedShare());
    return b.flip();
  }
}
