package io.dedupfs.tools;

import picocli.CommandLine.Model.CommandSpec;

/**
 * A command's notes: what it did ("mounted ...", "created ...", a collection's summary), on
 * stdout unless {@code --quiet}. Data a command was asked for (a list, stats, {@code --json}) is
 * not a note: it is printed either way.
 */
final class Notes {
  private Notes() {}

  /** Prints {@code text} as a line (or lines, if it ends with a newline) unless the command runs with --quiet. */
  static void print(CommandSpec command, String text) {
    if (!Main.of(command).quiet) {
      System.out.print(text.endsWith("\n") ? text : text + System.lineSeparator());
    }
  }
}
