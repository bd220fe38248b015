package io.dedupfs.tools.control;

import io.dedupfs.gc.LastCollection;
import io.dedupfs.gc.SpaceReport;
import io.dedupfs.store.ingest.IngestStats;
import io.dedupfs.store.stats.RequestStats;
import io.dedupfs.store.stats.StageStats;
import java.net.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The lines of the answer to {@code stats}, as the package documentation specifies them. */
final class StatsLines {
  static final String STATS = "stats";
  static final String SPACE = "space";
  static final String SNAPSHOT_SPACE = "snapshot-space";
  static final String INGEST = "ingest";
  static final String STAGE = "stage";
  static final String REQUEST = "request";

  private StatsLines() {}

  static List<String> lines(RepositoryStats s) {
    List<String> lines = new ArrayList<>();
    s.snapshots().forEach(r -> lines.add(ControlProtocol.recordLine(r)));
    s.space().snapshots().forEach((number, held) -> lines.add(join(SNAPSHOT_SPACE, number, held.uniqueBytes(),
        held.sharedBytes())));
    SpaceReport p = s.space();
    lines.add(join(SPACE, p.liveBytes(), p.chunks(), p.plainBytes(), p.storedBytes(), p.unreferencedChunks(),
        p.unreferencedBytes()));
    s.ingest().ifPresent(i -> {
      lines.add(join(INGEST, i.newChunks(), i.newBytes(), i.duplicateChunks(), i.duplicateBytes(), i.storedBytes(),
          i.memoryInUse(), i.memoryBudget(), i.memoryBlockedNanos(), i.queuedChunks(), i.packsSealed()));
      for (StageStats.Snapshot st : i.stages()) {
        lines.add(join(STAGE, st.name().replace(' ', '-'), st.waitInputNanos(), st.workNanos(), st.waitOutputNanos(),
            st.items(), st.bytes()));
      }
    });
    for (RequestStats.Snapshot r : s.requests()) {
      lines.add(join(REQUEST, r.name(), r.count(), r.nanos(), r.errors(), r.bytes()));
    }
    lines.add(statsLine(s));
    return lines;
  }

  private static String join(String word, Object... fields) {
    StringBuilder b = new StringBuilder(word);
    for (Object f : fields) {
      b.append(' ').append(f);
    }
    return b.toString();
  }

  /**
   * {@code stats SNAPSHOTS CHUNKS PACKS PACK_BYTES} then, if a collection finished, {@code
   * FINISHED_MS TOOK_NS BACKGROUND(0/1) CHUNKS_FREED BYTES_FREED PACKS_DELETED PACKS_REWRITTEN DISK_BYTES_FREED}.
   */
  private static String statsLine(RepositoryStats s) {
    StringBuilder b = new StringBuilder(join(STATS, s.snapshots().size(), s.space().chunks(), s.packs(), s.packBytes()));
    s.lastGc().ifPresent(g -> b.append(' ').append(join(Long.toString(g.finished().toEpochMilli()),
        g.took().toNanos(), g.background() ? "1" : "0", g.chunksFreed(), g.bytesFreed(), g.packsDeleted(),
        g.packsRewritten(), g.bytesOnDiskFreed())));
    return b.toString();
  }

  static RepositoryStats parse(List<String> lines) throws ProtocolException {
    List<SnapshotSummary> snapshots = new ArrayList<>();
    Map<Long, SpaceReport.SnapshotSpace> held = new HashMap<>();
    List<StageStats.Snapshot> stages = new ArrayList<>();
    List<RequestStats.Snapshot> requests = new ArrayList<>();
    long[] space = null;
    long[] ingest = null;
    long[] stats = null;
    Optional<LastCollection> gc = Optional.empty();
    for (String line : lines) {
      String[] f = line.split(" ", -1);
      try {
        switch (f[0]) {
          case ControlProtocol.RECORD -> snapshots.add(ControlProtocol.parseRecord(line));
          case SNAPSHOT_SPACE -> {
            long[] n = numbers(f, 1, 3);
            held.put(n[0], new SpaceReport.SnapshotSpace(n[1], n[2]));
          }
          case SPACE -> space = numbers(f, 1, 6);
          case INGEST -> ingest = numbers(f, 1, 10);
          case STAGE -> {
            long[] n = numbers(f, 2, 5);
            stages.add(new StageStats.Snapshot(f[1].replace('-', ' '), n[0], n[1], n[2], n[3], n[4]));
          }
          case REQUEST -> {
            long[] n = numbers(f, 2, 4);
            requests.add(new RequestStats.Snapshot(f[1], n[0], n[1], n[2], n[3]));
          }
          case STATS -> {
            if (f.length != 5 && f.length != 13) {
              throw new ProtocolException("not a stats line: " + line);
            }
            stats = numbers(f, 1, f.length - 1);
            if (f.length == 13) {
              gc = Optional.of(new LastCollection(Instant.ofEpochMilli(stats[4]), Duration.ofNanos(stats[5]),
                  stats[6] == 1, stats[7], stats[8], stats[9], stats[10], stats[11]));
            }
          }
          // Lines a newer server may add.
          default -> { }
        }
      } catch (IllegalArgumentException e) {
        throw new ProtocolException("not a line of a stats answer: " + line);
      }
    }
    if (space == null || stats == null) {
      throw new ProtocolException("the answer to stats has no space or stats line");
    }
    Optional<IngestStats> counters = ingest == null ? Optional.empty() : Optional.of(new IngestStats(stages,
        ingest[0], ingest[1], ingest[2], ingest[3], ingest[4], ingest[5], ingest[6], ingest[7], (int) ingest[8],
        ingest[9]));
    return new RepositoryStats(snapshots, new SpaceReport(space[0], space[1], space[2], space[3], space[4], space[5],
        held), stats[2], stats[3], gc, counters, requests);
  }

  /** The {@code count} numbers from field {@code from} of a line that has exactly those. */
  private static long[] numbers(String[] fields, int from, int count) {
    if (fields.length != from + count) {
      throw new IllegalArgumentException("expected " + count + " numbers");
    }
    long[] n = new long[count];
    for (int i = 0; i < count; i++) {
      n[i] = Long.parseLong(fields[from + i]);
    }
    return n;
  }
}
