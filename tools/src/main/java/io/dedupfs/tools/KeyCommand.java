package io.dedupfs.tools;

import io.dedupfs.store.crypto.KdfParameters;
import io.dedupfs.store.repo.RepositoryKeys;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code dedupfs key}: the passphrase of an encrypted repository. */
@Command(name = "key", mixinStandardHelpOptions = true, description = "Manage the passphrase of an encrypted repository.",
    subcommands = KeyCommand.ChangePassphrase.class)
final class KeyCommand {
  static final String NEW_ENVIRONMENT = "DEDUPFS_NEW_PASSPHRASE";

  @Command(name = "change-passphrase", mixinStandardHelpOptions = true,
      description = {"Wrap the repository's keys under a new passphrase. Mounted or not: nothing stored changes,",
          "and a mounted filesystem goes on. The new passphrase comes from --new-passphrase-file, $"
              + NEW_ENVIRONMENT + " or the terminal (typed twice)."})
  static final class ChangePassphrase implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "REPO", description = "The encrypted repository.")
    Path repository;

    @Mixin PassphraseOption current;

    @Option(names = "--new-passphrase-file", paramLabel = "FILE", description = "Read the new passphrase from the first line of FILE.")
    Path newFile;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      RepositoryKeys.changePassphrase(repository, current.existing(repository),
          () -> PassphraseOption.read(newFile, NEW_ENVIRONMENT, "New passphrase for " + repository + ": ", true),
          KdfParameters.DEFAULT);
      Notes.print(spec, "changed the passphrase of " + repository.toAbsolutePath());
      return 0;
    }
  }
}
