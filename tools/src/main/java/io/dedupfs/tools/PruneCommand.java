package io.dedupfs.tools;

import io.dedupfs.gc.GcReport;
import io.dedupfs.gc.retention.Candidate;
import io.dedupfs.gc.retention.Decision;
import io.dedupfs.gc.retention.DurationSpec;
import io.dedupfs.gc.retention.Reason;
import io.dedupfs.gc.retention.Retention;
import io.dedupfs.gc.retention.RetentionPolicy;
import io.dedupfs.gc.retention.Rule;
import io.dedupfs.gc.retention.Verdict;
import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.SnapshotSummary;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs prune}: deletes the snapshots no {@code --keep} rule keeps (restic's semantics,
 * see {@link Retention}), then collects their space. Mounted or not.
 */
@Command(name = "prune", mixinStandardHelpOptions = true,
    description = {"Delete the snapshots no --keep rule keeps, then free their space (as dedupfs gc).",
        "A snapshot kept by any rule stays; buckets are by local time. Counts take a number or 'unlimited'."})
final class PruneCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--keep-last", paramLabel = "N", description = "Keep the N newest snapshots.")
  String keepLast = "0";

  @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest snapshot of each of the last N hours that have one.")
  String keepHourly = "0";

  @Option(names = "--keep-daily", paramLabel = "N", description = "Likewise for days.")
  String keepDaily = "0";

  @Option(names = "--keep-weekly", paramLabel = "N", description = "Likewise for ISO weeks.")
  String keepWeekly = "0";

  @Option(names = "--keep-monthly", paramLabel = "N", description = "Likewise for months.")
  String keepMonthly = "0";

  @Option(names = "--keep-yearly", paramLabel = "N", description = "Likewise for years.")
  String keepYearly = "0";

  @Option(names = "--keep-within", paramLabel = "DURATION",
      description = "Keep every snapshot less than DURATION (e.g. 1y6m7d12h) older than the newest.")
  String keepWithin;

  @Option(names = "--dry-run", description = "Show what would be deleted and how much space would come back; change nothing.")
  boolean dryRun;

  @Option(names = "--gc-memory", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "64M",
      description = "Memory of the collection that follows (default ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--json", description = "Print each snapshot's verdict and the collection's figures (with --dry-run, the estimate's) as one JSON object.")
  boolean json;

  @Spec CommandSpec spec;

  Clock clock = Clock.systemDefaultZone();

  @Override
  public Integer call() throws Exception {
    policy(); // a bad or missing rule is a usage error before the repository is opened
    return RepositoryAccess.withOperations(repository, passphrase.existing(repository), this::prune);
  }

  private RetentionPolicy policy() {
    try {
      return new RetentionPolicy(RetentionPolicy.parseCount(Rule.LAST, keepLast),
          RetentionPolicy.parseCount(Rule.HOURLY, keepHourly), RetentionPolicy.parseCount(Rule.DAILY, keepDaily),
          RetentionPolicy.parseCount(Rule.WEEKLY, keepWeekly), RetentionPolicy.parseCount(Rule.MONTHLY, keepMonthly),
          RetentionPolicy.parseCount(Rule.YEARLY, keepYearly),
          keepWithin == null ? DurationSpec.ZERO : DurationSpec.parse(keepWithin));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private int prune(RepositoryOperations ops) throws Exception {
    List<SnapshotSummary> snapshots = ops.list();
    Map<Long, SnapshotSummary> byNumber = new HashMap<>();
    List<Candidate> candidates = new ArrayList<>();
    for (SnapshotSummary s : snapshots) {
      byNumber.put(s.number(), s);
      candidates.add(new Candidate(s.number(), s.name().toString(), s.created()));
    }
    Decision decision = Retention.decide(candidates, policy(), clock);
    Set<Long> removed = decision.removed().stream().map(Candidate::number).collect(Collectors.toSet());
    if (dryRun) {
      // The plan is what --dry-run asks for: data, printed with --quiet too.
      GcReport estimate = ops.estimateGarbage(memory, removed);
      System.out.print(json ? json(decision, byNumber, "estimate", estimate) + "\n" : verdicts(decision, byNumber)
          + String.format(Locale.ROOT, "would free %,d chunks, %s stored; %,d packs (%s on disk) would be emptied%n",
              estimate.chunksFreed(), SizeConverter.human(estimate.bytesFreed()), estimate.packsDeleted(),
              SizeConverter.human(estimate.bytesOnDiskFreed())));
      return 0;
    }
    if (!json) {
      Notes.print(spec, verdicts(decision, byNumber));
    }
    for (Long n : removed) {
      ops.delete(byNumber.get(n).name());
    }
    GcReport report;
    try (TerminalProgress progress = new TerminalProgress(spec)) {
      report = ops.collectGarbage(memory, progress);
    }
    if (json) {
      System.out.println(json(decision, byNumber, "collection", report));
    } else {
      Notes.print(spec, GcCommand.summary(report));
    }
    return 0;
  }

  /** A line per snapshot: kept (and by which rules) or deleted. */
  private String verdicts(Decision decision, Map<Long, SnapshotSummary> byNumber) {
    StringBuilder out = new StringBuilder();
    for (Verdict v : decision.verdicts()) {
      String name = SnapshotCommand.display(byNumber.get(v.snapshot().number()).name());
      out.append(v.keep()
          ? "keep    " + name + "  (" + v.reasons().stream().map(Reason::toString).collect(Collectors.joining(", ")) + ")"
          : (dryRun ? "would delete " : "delete  ") + name).append('\n');
    }
    return out.toString();
  }

  /** {"snapshots":[{"number","name","keep","reasons"}...], FIGURES: the gc report} as one line. */
  private static String json(Decision decision, Map<Long, SnapshotSummary> byNumber, String figures, GcReport report) {
    String snapshots = decision.verdicts().stream()
        .map(v -> "{\"number\":" + v.snapshot().number() + ",\"name\":"
            + Json.string(byNumber.get(v.snapshot().number()).name().toString()) + ",\"keep\":" + v.keep()
            + ",\"reasons\":[" + v.reasons().stream().map(r -> Json.string(r.toString())).collect(Collectors.joining(","))
            + "]}")
        .collect(Collectors.joining(","));
    return "{\"snapshots\":[" + snapshots + "]," + Json.string(figures) + ":" + GcCommand.json(report) + "}";
  }
}
