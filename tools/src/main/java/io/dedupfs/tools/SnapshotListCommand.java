package io.dedupfs.tools;

import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.SnapshotSummary;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dedupfs snapshot list}: the snapshots, oldest first, as a table or as JSON. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = "List the snapshots, oldest first: name, creation time, size of the files, number of files.")
final class SnapshotListCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--json", description = "Print a JSON array of {number, name, created (UTC), bytes, files, directories}.")
  boolean json;

  ZoneId zone = ZoneId.systemDefault();

  @Override
  public Integer call() throws Exception {
    List<SnapshotSummary> snapshots = RepositoryAccess.withOperations(repository, passphrase.existing(repository), RepositoryOperations::list);
    System.out.print(json ? json(snapshots) : table(snapshots, zone));
    return 0;
  }

  /** A header and one line per snapshot; times in {@code zone}, sizes in binary units. */
  static String table(List<SnapshotSummary> snapshots, ZoneId zone) {
    int nameWidth = "NAME".length();
    for (SnapshotSummary s : snapshots) {
      nameWidth = Math.max(nameWidth, SnapshotCommand.display(s.name()).length());
    }
    String format = "%-" + nameWidth + "s  %-19s  %10s  %12s%n";
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, format, "NAME", "CREATED", "SIZE", "FILES"));
    for (SnapshotSummary s : snapshots) {
      out.append(String.format(Locale.ROOT, format, SnapshotCommand.display(s.name()),
          LocalDateTime.ofInstant(s.created(), zone).format(SnapshotCreateCommand.LOCAL_TIME),
          SizeConverter.human(s.bytes()), String.format(Locale.ROOT, "%,d", s.files())));
    }
    return out.toString();
  }

  /** A JSON array, one object per line. */
  static String json(List<SnapshotSummary> snapshots) {
    if (snapshots.isEmpty()) {
      return "[]\n";
    }
    StringBuilder out = new StringBuilder("[\n");
    for (int i = 0; i < snapshots.size(); i++) {
      out.append("  ").append(json(snapshots.get(i))).append(i + 1 < snapshots.size() ? ",\n" : "\n");
    }
    return out.append("]\n").toString();
  }

  /** One snapshot as a JSON object; {@code created} is an ISO-8601 instant (UTC, to the nanosecond). */
  static String json(SnapshotSummary s) {
    return "{" + jsonFields(s) + "}";
  }

  /** The members of a snapshot's JSON object, without the braces, so that other outputs can add theirs. */
  static String jsonFields(SnapshotSummary s) {
    return "\"number\":" + s.number() + ",\"name\":" + Json.string(s.name().toString()) + ",\"created\":"
        + Json.string(s.created().toString()) + ",\"bytes\":" + s.bytes() + ",\"files\":" + s.files()
        + ",\"directories\":" + s.directories();
  }
}
