package io.dedupfs.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The dedupfs command line. Exit codes: 0 ok, 1 error with a one-line message, 2 usage. */
@Command(
    name = "dedupfs",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "A deduplicating FUSE filesystem used as a backup target.",
    subcommands = {InitCommand.class, MountCommand.class, UmountCommand.class, CheckCommand.class, GcCommand.class, PruneCommand.class, SnapshotCommand.class, StatsCommand.class, KeyCommand.class, BenchCommand.class, InstallCommand.class, UninstallCommand.class, MountHelperCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  public static final int EXIT_ERROR = 1;
  public static final int EXIT_USAGE = 2;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(new ErrorReporter());
    return cli.execute(args);
  }
}
