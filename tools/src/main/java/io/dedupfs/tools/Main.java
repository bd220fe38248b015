package io.dedupfs.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

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

  // Inherited options are bound to these fields whichever command they follow: dedupfs --quiet gc = dedupfs gc --quiet.
  @Option(names = {"-q", "--quiet"}, scope = ScopeType.INHERIT,
      description = "Print no notes (\"mounted ...\", summaries, progress); data asked for and errors still.")
  boolean quiet;

  @Option(names = "--log-level", paramLabel = "LEVEL", scope = ScopeType.INHERIT,
      description = "error, warn, info, debug or trace (default: $DEDUPFS_LOG_LEVEL, else info for mount, warn otherwise).")
  LogLevel logLevel;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    ErrorReporter errors = new ErrorReporter();
    cli.setExecutionExceptionHandler(errors);
    cli.setExecutionStrategy(parsed -> {
      Logging.setLevel(main.logLevel, LogLevel.WARN);
      try {
        return new CommandLine.RunLast().execute(parsed);
      } catch (Error e) {
        // picocli hands only Exceptions to the handler; an Error would end in a stack trace.
        return errors.report(e, cli);
      }
    });
    return cli.execute(args);
  }

  /** The global options given to the command {@code spec} runs. */
  static Main of(CommandSpec spec) {
    return (Main) spec.root().userObject();
  }
}
