package io.dedupfs.tools;

import io.dedupfs.gc.LastCollection;
import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.RepositoryStats;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dedupfs stats}: what a repository holds, and when garbage was last collected and what it freed. */
@Command(name = "stats", mixinStandardHelpOptions = true,
    description = "Show what a repository holds and the last garbage collection. Mounted or not.")
final class StatsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  ZoneId zone = ZoneId.systemDefault();

  @Override
  public Integer call() throws Exception {
    RepositoryStats stats = RepositoryAccess.withOperations(repository, passphrase.existing(repository), RepositoryOperations::stats);
    System.out.print(json ? json(stats) : text(stats, zone));
    return 0;
  }

  static String text(RepositoryStats s, ZoneId zone) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "snapshots  %,d%n", s.snapshots()));
    out.append(String.format(Locale.ROOT, "chunks     %,d%n", s.chunks()));
    out.append(String.format(Locale.ROOT, "packs      %,d, %s on disk%n", s.packs(), SizeConverter.human(s.packBytes())));
    if (s.lastGc().isEmpty()) {
      return out.append("last gc    never\n").toString();
    }
    LastCollection g = s.lastGc().get();
    out.append(String.format(Locale.ROOT, "last gc    %s (%s, %.1f s): freed %,d chunks, %s stored; %,d packs deleted,"
        + " %,d rewritten; %s of pack files given back%n",
        LocalDateTime.ofInstant(g.finished(), zone).format(SnapshotCreateCommand.LOCAL_TIME),
        g.background() ? "in the background" : "asked for", g.took().toNanos() / 1e9, g.chunksFreed(),
        SizeConverter.human(g.bytesFreed()), g.packsDeleted(), g.packsRewritten(), SizeConverter.human(g.bytesOnDiskFreed())));
    return out.toString();
  }

  static String json(RepositoryStats s) {
    String gc = s.lastGc().map(g -> "{\"finished\":" + Json.string(g.finished().toString()) + ",\"seconds\":"
        + String.format(Locale.ROOT, "%.3f", g.took().toNanos() / 1e9) + ",\"background\":" + g.background()
        + ",\"chunksFreed\":" + g.chunksFreed() + ",\"bytesFreed\":" + g.bytesFreed() + ",\"packsDeleted\":"
        + g.packsDeleted() + ",\"packsRewritten\":" + g.packsRewritten() + ",\"bytesOnDiskFreed\":"
        + g.bytesOnDiskFreed() + "}").orElse("null");
    return "{\"snapshots\":" + s.snapshots() + ",\"chunks\":" + s.chunks() + ",\"packs\":" + s.packs()
        + ",\"packBytes\":" + s.packBytes() + ",\"lastGc\":" + gc + "}\n";
  }
}
