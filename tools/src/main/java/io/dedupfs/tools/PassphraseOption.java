package io.dedupfs.tools;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.crypto.PassphraseSource;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine.Option;

/**
 * Where a command gets the passphrase of an encrypted repository (DESIGN.md §4): {@code
 * --passphrase-file}, else {@code DEDUPFS_PASSPHRASE}, else a prompt on the terminal. Asked only
 * when the repository turns out to be encrypted. A picocli mixin.
 */
final class PassphraseOption {
  static final String ENVIRONMENT = "DEDUPFS_PASSPHRASE";

  @Option(names = "--passphrase-file", paramLabel = "FILE",
      description = "Read the passphrase of an encrypted repository from the first line of FILE "
          + "(else from $" + ENVIRONMENT + ", else from the terminal).")
  Path file;

  /** The passphrase of an existing repository. */
  PassphraseSource existing(Path repository) {
    return () -> read(file, ENVIRONMENT, "Passphrase for " + repository + ": ", false);
  }

  /** The passphrase of a new key file: typed twice on a terminal. */
  PassphraseSource chosen(Path repository) {
    return () -> read(file, ENVIRONMENT, "New passphrase for " + repository + ": ", true);
  }

  static char[] read(Path file, String environment, String prompt, boolean confirm) throws IOException {
    if (file != null) {
      return checked(firstLine(file), "the passphrase file " + file);
    }
    String fromEnvironment = System.getenv(environment);
    if (fromEnvironment != null) {
      return checked(fromEnvironment.toCharArray(), "$" + environment);
    }
    Console console = System.console();
    if (console == null) {
      throw new StoreException("the repository is encrypted: give its passphrase with --passphrase-file or $"
          + environment + ", or run on a terminal to be asked");
    }
    char[] typed = checked(console.readPassword("%s", prompt), "the passphrase typed");
    if (confirm) {
      char[] again = console.readPassword("%s", "Repeat it: ");
      boolean same = Arrays.equals(typed, again);
      Arrays.fill(again == null ? new char[0] : again, '\0');
      if (!same) {
        Arrays.fill(typed, '\0');
        throw new StoreException("the two passphrases differ; nothing was changed");
      }
    }
    return typed;
  }

  private static char[] firstLine(Path file) throws IOException {
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    int end = text.indexOf('\n');
    String line = end < 0 ? text : text.substring(0, end);
    return (line.endsWith("\r") ? line.substring(0, line.length() - 1) : line).toCharArray();
  }

  private static char[] checked(char[] passphrase, String from) throws StoreException {
    if (passphrase == null || passphrase.length == 0) {
      throw new StoreException("empty passphrase from " + from);
    }
    return passphrase;
  }
}
