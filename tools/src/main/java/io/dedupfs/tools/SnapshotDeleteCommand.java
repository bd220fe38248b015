package io.dedupfs.tools;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.tools.control.RepositoryOperations;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs snapshot delete}: deletes snapshots by name. A name with no snapshot is reported
 * and the others are still deleted; the exit code is then 1.
 */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = {"Delete snapshots; garbage collection reclaims their space.",
        "A NAME with no snapshot is an error, but the other snapshots are still deleted."})
final class SnapshotDeleteCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME", converter = NameConverter.class,
      description = "Names of the snapshots to delete.")
  List<Name> names;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    List<String> missing = RepositoryAccess.withOperations(repository, passphrase.existing(repository), this::deleteAll);
    if (missing.isEmpty()) {
      return 0;
    }
    // One line however many are missing: scripts read one line per failure.
    System.err.println("dedupfs: no snapshot named " + String.join(", ", missing));
    return Main.EXIT_ERROR;
  }

  /** Deletes every named snapshot there is; returns the names that had none, quoted. */
  private List<String> deleteAll(RepositoryOperations snapshots) throws IOException {
    List<String> missing = new ArrayList<>();
    for (Name n : names) {
      try {
        snapshots.delete(n);
        Notes.print(spec, "deleted snapshot " + SnapshotCommand.display(n));
      } catch (NoSuchFileException e) {
        missing.add("'" + SnapshotCommand.display(n) + "'");
      }
    }
    return missing;
  }
}
