package io.dedupfs.tools;

import io.dedupfs.gc.CheckReport;
import io.dedupfs.tools.control.RepositoryOperations;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dedupfs check}: verifies a repository's invariants, read only, mounted or not. Exit
 * code 1 when it finds a problem.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = {"Verify the repository: packs against the index, and every chunk the live tree and the snapshots",
        "reference present. With --read-data, every chunk is also read and checked against its id. Mounted or not."})
final class CheckCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Option(names = "--read-data", description = "Also read every chunk and verify it against its id.")
  boolean readData;

  @Override
  public Integer call() throws Exception {
    CheckReport r = RepositoryAccess.withOperations(repository, passphrase.existing(repository), ops -> ops.check(readData));
    r.problems().forEach(p -> System.out.println("problem: " + p));
    if (r.problemCount() > r.problems().size()) {
      System.out.printf(Locale.ROOT, "... and %,d more problems%n", r.problemCount() - r.problems().size());
    }
    System.out.printf(Locale.ROOT, "checked %,d packs, %,d chunks (%,d read), %,d references: %s%n", r.packs(),
        r.chunks(), r.chunksRead(), r.references(), r.clean() ? "no problem" : r.problemCount() + " problems");
    return r.clean() ? 0 : Main.EXIT_ERROR;
  }
}
