package io.dedupfs.tools;

import io.dedupfs.gc.CheckReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs check}: verifies a repository's invariants, mounted or not; with {@code --repair}
 * first repairs what can be (store/FORMAT.md §13). Exit code 1 when something is wrong: found by a
 * check, still wrong after a repair, or data a repair found lost.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = {"Verify the repository: packs against the index, and every chunk the live tree and the snapshots",
        "reference present. With --read-data, every chunk is also read and checked against its id.",
        "With --repair, first rebuild the chunk index from the packs (all of the index if REPO/index is lost),",
        "set unsealed packs aside in REPO/lost+found, turn live files' lost data into holes named in the xattr",
        "user.dedupfs.damaged, and name every snapshot path whose data is lost. Mounted or not."})
final class CheckCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--read-data", description = "Also read every chunk and verify it against its id.")
  boolean readData;

  @Option(names = "--repair", description = "Repair from the packs and snapshot records first, then check.")
  boolean repair;

  @Option(names = "--json", description = "Print the report as one JSON object.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    CheckReport r;
    try (TerminalProgress progress = new TerminalProgress(spec)) {
      r = repair
          ? RepositoryAccess.withRepairOperations(repository, passphrase.existing(repository), ops -> ops.repair(readData, progress))
          : RepositoryAccess.withOperations(repository, passphrase.existing(repository), ops -> ops.check(readData, progress));
    }
    System.out.print(json ? json(r) : summary(r));
    return r.clean() ? 0 : Main.EXIT_ERROR;
  }

  static String summary(CheckReport r) {
    StringBuilder out = new StringBuilder();
    lines(out, "repaired", r.repairs(), r.repairCount());
    lines(out, "lost", r.losses(), r.lossCount());
    lines(out, "problem", r.problems(), r.problemCount());
    out.append(String.format(Locale.ROOT, "checked %,d packs, %,d chunks (%,d read), %,d references: %s%n", r.packs(),
        r.chunks(), r.chunksRead(), r.references(), r.problemCount() == 0 ? "no problem" : r.problemCount() + " problems"));
    if (r.repairCount() > 0 || r.lossCount() > 0) {
      out.append(String.format(Locale.ROOT, "repair: %,d repaired, %,d with data lost%n", r.repairCount(), r.lossCount()));
    }
    return out.toString();
  }

  private static void lines(StringBuilder out, String kind, List<String> listed, long count) {
    listed.forEach(line -> out.append(kind).append(": ").append(line).append('\n'));
    if (count > listed.size()) {
      out.append(String.format(Locale.ROOT, "... and %,d more %s%n", count - listed.size(), kind));
    }
  }

  static String json(CheckReport r) {
    return "{\"clean\":" + r.clean() + ",\"packs\":" + r.packs() + ",\"chunks\":" + r.chunks() + ",\"chunksRead\":"
        + r.chunksRead() + ",\"references\":" + r.references() + ",\"problemCount\":" + r.problemCount()
        + ",\"problems\":" + array(r.problems()) + ",\"repairCount\":" + r.repairCount() + ",\"repairs\":"
        + array(r.repairs()) + ",\"lossCount\":" + r.lossCount() + ",\"losses\":" + array(r.losses()) + "}\n";
  }

  private static String array(List<String> lines) {
    return "[" + String.join(",", lines.stream().map(Json::string).toList()) + "]";
  }
}
