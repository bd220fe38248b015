package io.dedupfs.tools;

import io.dedupfs.gc.GcReport;
import io.dedupfs.gc.GcSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs gc}: frees the chunks nothing references any more (after snapshots were
 * deleted) and the packs they leave empty. Mounted or not; while mounted, the mounted process
 * collects, beside its writes.
 */
@Command(name = "gc", mixinStandardHelpOptions = true,
    description = {"Free the space of chunks that no snapshot and no live file references.",
        "Works whether or not REPO is mounted; writes go on meanwhile. Interrupted, just run it again."})
final class GcCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--gc-memory", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "64M",
      description = "Memory for sorting the referenced chunk ids; more spills to temporary files (default ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--json", description = "Print the summary as one JSON object.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    // Checked here too, so that a bad size is a usage error before anything is opened.
    GcSettings.defaults(repository).withMemory(memory);
    GcReport report;
    try (TerminalProgress progress = new TerminalProgress(spec)) {
      report = RepositoryAccess.withOperations(repository, passphrase.existing(repository), ops -> ops.collectGarbage(memory, progress));
    }
    if (json) {
      System.out.println(json(report));
    } else {
      Notes.print(spec, summary(report));
    }
    return 0;
  }

  static String summary(GcReport r) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "freed      %,d chunks, %s stored%n", r.chunksFreed(), SizeConverter.human(r.bytesFreed())));
    out.append(String.format(Locale.ROOT, "packs      %,d deleted, %,d left over by crashes deleted, %,d rewritten%n",
        r.packsDeleted(), r.orphanPacksDeleted(), r.packsRewritten()));
    out.append(String.format(Locale.ROOT, "disk       %s given back%n", SizeConverter.human(r.bytesOnDiskFreed())));
    out.append(String.format(Locale.ROOT, "marked     %,d references%n", r.markedReferences()));
    StringBuilder phases = new StringBuilder();
    for (Map.Entry<String, Duration> p : r.phases().entrySet()) {
      phases.append(String.format(Locale.ROOT, "%s%s %.2f s", phases.length() == 0 ? "" : ", ", p.getKey(),
          p.getValue().toNanos() / 1e9));
    }
    return out.append("phases     ").append(phases).append('\n').toString();
  }

  /** The report as one JSON object, without a line break. */
  static String json(GcReport r) {
    StringBuilder phases = new StringBuilder();
    for (Map.Entry<String, Duration> p : r.phases().entrySet()) {
      phases.append(phases.length() == 0 ? "" : ",").append(Json.string(p.getKey())).append(':')
          .append(String.format(Locale.ROOT, "%.3f", p.getValue().toNanos() / 1e9));
    }
    return "{\"chunksFreed\":" + r.chunksFreed() + ",\"bytesFreed\":" + r.bytesFreed() + ",\"packsDeleted\":"
        + r.packsDeleted() + ",\"orphanPacksDeleted\":" + r.orphanPacksDeleted() + ",\"bytesOnDiskFreed\":"
        + r.bytesOnDiskFreed() + ",\"packsRewritten\":" + r.packsRewritten() + ",\"markedReferences\":"
        + r.markedReferences() + ",\"phaseSeconds\":{" + phases + "}}";
  }
}
