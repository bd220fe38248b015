package io.dedupfs.tools;

import io.dedupfs.gc.LastCollection;
import io.dedupfs.gc.SpaceReport;
import io.dedupfs.store.ingest.IngestStats;
import io.dedupfs.store.stats.RequestStats;
import io.dedupfs.store.stats.StageStats;
import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.RepositoryStats;
import io.dedupfs.tools.control.SnapshotSummary;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dedupfs stats}: what a repository stores before and after deduplication and compression,
 * what each snapshot holds alone, the last garbage collection, and, mounted, the ingest pipeline's
 * stages and the filesystem requests served. The JSON schema is in README.md ("Statistics").
 */
@Command(name = "stats", mixinStandardHelpOptions = true,
    description = {"Show what a repository stores, what each snapshot holds alone (what deleting it, then gc, frees),"
        + " the last garbage collection and, if mounted, the ingest pipeline's stages and the filesystem requests"
        + " served. Mounted or not.",
        "Reads every chunk entry and walks every snapshot: on a large repository this takes a while and writes"
            + " sort runs next to the repository, in fixed memory."})
final class StatsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--json", description = "Print one JSON object (schema in README.md).")
  boolean json;

  ZoneId zone = ZoneId.systemDefault();

  @Override
  public Integer call() throws Exception {
    RepositoryStats stats = RepositoryAccess.withOperations(repository, passphrase.existing(repository), RepositoryOperations::stats);
    System.out.print(json ? json(stats) : text(stats, zone));
    return 0;
  }

  private static final String ROW = "%-13s %10s  %s%n";

  static String text(RepositoryStats s, ZoneId zone) {
    SpaceReport p = s.space();
    StringBuilder out = new StringBuilder();
    out.append(row("live tree", p.liveBytes(), "in files"));
    out.append(row("snapshots", s.logicalBytes() - p.liveBytes(), String.format(Locale.ROOT, "in files, %,d snapshot%s",
        s.snapshots().size(), s.snapshots().size() == 1 ? "" : "s")));
    out.append(row("logical", s.logicalBytes(), "the live tree and every snapshot, as if stored in full"));
    out.append(row("deduplicated", p.plainBytes(), String.format(Locale.ROOT, "%,d distinct chunks, dedup ratio %.2f",
        p.chunks(), s.dedupRatio())));
    out.append(row("compressed", p.storedBytes(), String.format(Locale.ROOT, "stored, compression ratio %.2f",
        s.compressionRatio())));
    out.append(row("unreferenced", p.unreferencedBytes(), String.format(Locale.ROOT,
        "stored, %,d chunks nothing references: the next gc frees them", p.unreferencedChunks())));
    out.append(row("pack files", s.packBytes(), String.format(Locale.ROOT, "on disk, %,d packs", s.packs())));
    out.append(String.format(Locale.ROOT, "%-13s %s%n", "last gc", s.lastGc().map(g -> lastGc(g, zone)).orElse("never")));
    if (!s.snapshots().isEmpty()) {
      out.append('\n').append(snapshotTable(s, zone));
    }
    s.ingest().ifPresent(i -> out.append('\n').append(ingest(i)));
    String requests = RequestTable.format(s.requests());
    if (!requests.isEmpty()) {
      out.append("\nrequests since mounted\n").append(requests);
    }
    return out.toString();
  }

  private static String row(String label, long bytes, String note) {
    return String.format(Locale.ROOT, ROW, label, SizeConverter.human(bytes), note);
  }

  private static String lastGc(LastCollection g, ZoneId zone) {
    return String.format(Locale.ROOT, "%s (%s, %.1f s): freed %,d chunks, %s stored; %,d packs deleted, %,d rewritten;"
        + " %s of pack files given back", LocalDateTime.ofInstant(g.finished(), zone).format(SnapshotCreateCommand.LOCAL_TIME),
        g.background() ? "in the background" : "asked for", g.took().toNanos() / 1e9, g.chunksFreed(),
        SizeConverter.human(g.bytesFreed()), g.packsDeleted(), g.packsRewritten(), SizeConverter.human(g.bytesOnDiskFreed()));
  }

  /** One line per snapshot: its size in files, and the stored bytes it holds alone and shares. */
  private static String snapshotTable(RepositoryStats s, ZoneId zone) {
    int nameWidth = "SNAPSHOT".length();
    for (SnapshotSummary r : s.snapshots()) {
      nameWidth = Math.max(nameWidth, SnapshotCommand.display(r.name()).length());
    }
    String format = "%-" + nameWidth + "s  %-19s  %10s  %10s  %10s%n";
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, format, "SNAPSHOT", "CREATED", "SIZE", "ALONE",
        "SHARED"));
    for (SnapshotSummary r : s.snapshots()) {
      SpaceReport.SnapshotSpace held = held(s, r);
      out.append(String.format(Locale.ROOT, format, SnapshotCommand.display(r.name()),
          LocalDateTime.ofInstant(r.created(), zone).format(SnapshotCreateCommand.LOCAL_TIME),
          SizeConverter.human(r.bytes()), SizeConverter.human(held.uniqueBytes()), SizeConverter.human(held.sharedBytes())));
    }
    return out.append("(SIZE: its files; ALONE: stored bytes only it references, what deleting it then gc frees;\n"
        + " SHARED: stored bytes it shares with the live tree or other snapshots)\n").toString();
  }

  private static SpaceReport.SnapshotSpace held(RepositoryStats s, SnapshotSummary r) {
    return s.space().snapshots().getOrDefault(r.number(), new SpaceReport.SnapshotSpace(0, 0));
  }

  private static String ingest(IngestStats i) {
    return String.format(Locale.ROOT, "ingest since mounted: %,d new chunks, %s; %,d duplicate, %s; %s stored;"
        + " %,d packs sealed%nmemory %s of %s in use, writers blocked on it %.2f s, %,d chunks queued%n%s",
        i.newChunks(), SizeConverter.human(i.newBytes()), i.duplicateChunks(), SizeConverter.human(i.duplicateBytes()),
        SizeConverter.human(i.storedBytes()), i.packsSealed(), SizeConverter.human(i.memoryInUse()),
        SizeConverter.human(i.memoryBudget()), i.memoryBlockedNanos() / 1e9, i.queuedChunks(), StageTable.format(i.stages()));
  }

  static String json(RepositoryStats s) {
    SpaceReport p = s.space();
    String gc = s.lastGc().map(g -> "{\"finished\":" + Json.string(g.finished().toString()) + ",\"seconds\":"
        + String.format(Locale.ROOT, "%.3f", g.took().toNanos() / 1e9) + ",\"background\":" + g.background()
        + ",\"chunksFreed\":" + g.chunksFreed() + ",\"bytesFreed\":" + g.bytesFreed() + ",\"packsDeleted\":"
        + g.packsDeleted() + ",\"packsRewritten\":" + g.packsRewritten() + ",\"bytesOnDiskFreed\":"
        + g.bytesOnDiskFreed() + "}").orElse("null");
    String perSnapshot = s.snapshots().stream().map(r -> "{" + SnapshotListCommand.jsonFields(r) + ",\"uniqueBytes\":"
        + held(s, r).uniqueBytes() + ",\"sharedBytes\":" + held(s, r).sharedBytes() + "}")
        .collect(Collectors.joining(",", "[", "]"));
    return "{\"snapshots\":" + s.snapshots().size() + ",\"chunks\":" + p.chunks() + ",\"packs\":" + s.packs()
        + ",\"packBytes\":" + s.packBytes() + ",\"liveBytes\":" + p.liveBytes() + ",\"logicalBytes\":" + s.logicalBytes()
        + ",\"plainBytes\":" + p.plainBytes() + ",\"storedBytes\":" + p.storedBytes() + ",\"dedupRatio\":"
        + ratio(s.dedupRatio()) + ",\"compressionRatio\":" + ratio(s.compressionRatio()) + ",\"unreferencedChunks\":"
        + p.unreferencedChunks() + ",\"unreferencedBytes\":" + p.unreferencedBytes() + ",\"perSnapshot\":" + perSnapshot
        + ",\"lastGc\":" + gc + ",\"ingest\":" + s.ingest().map(StatsCommand::ingestJson).orElse("null")
        + ",\"requests\":" + requestsJson(s.requests()) + "}\n";
  }

  private static String ratio(double r) {
    return String.format(Locale.ROOT, "%.3f", r);
  }

  private static String ingestJson(IngestStats i) {
    String stages = i.stages().stream().map(StatsCommand::stageJson).collect(Collectors.joining(",", "[", "]"));
    return "{\"newChunks\":" + i.newChunks() + ",\"newBytes\":" + i.newBytes() + ",\"duplicateChunks\":"
        + i.duplicateChunks() + ",\"duplicateBytes\":" + i.duplicateBytes() + ",\"storedBytes\":" + i.storedBytes()
        + ",\"memoryInUse\":" + i.memoryInUse() + ",\"memoryBudget\":" + i.memoryBudget() + ",\"memoryBlockedNanos\":"
        + i.memoryBlockedNanos() + ",\"queuedChunks\":" + i.queuedChunks() + ",\"packsSealed\":" + i.packsSealed()
        + ",\"stages\":" + stages + "}";
  }

  /** null unmounted (no counters came), else an array, most time first. */
  private static String requestsJson(List<RequestStats.Snapshot> requests) {
    if (requests.isEmpty()) {
      return "null";
    }
    return RequestTable.byTime(requests).stream().map(r -> "{\"name\":" + Json.string(r.name()) + ",\"count\":"
        + r.count() + ",\"errors\":" + r.errors() + ",\"nanos\":" + r.nanos() + ",\"meanNanos\":" + r.meanNanos()
        + ",\"bytes\":" + r.bytes() + "}").collect(Collectors.joining(",", "[", "]"));
  }

  private static String stageJson(StageStats.Snapshot st) {
    return "{\"name\":" + Json.string(st.name()) + ",\"items\":" + st.items() + ",\"bytes\":" + st.bytes()
        + ",\"waitInputNanos\":" + st.waitInputNanos() + ",\"workNanos\":" + st.workNanos() + ",\"waitOutputNanos\":"
        + st.waitOutputNanos() + "}";
  }
}
