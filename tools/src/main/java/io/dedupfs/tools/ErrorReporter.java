package io.dedupfs.tools;

import java.nio.file.FileSystemException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Turns any failure of a command, an Error too, into one line on stderr and exit code 1; the
 * stack goes to the debug log.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorReporter.class);

  @Override
  public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
    return report(e, cli);
  }

  int report(Throwable e, CommandLine cli) {
    LOG.debug("command failed", e);
    cli.getErr().println("dedupfs: " + message(e));
    return Main.EXIT_ERROR;
  }

  /** What went wrong, on one line: scripts read one line per failure. */
  static String message(Throwable e) {
    String text = text(e);
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end).stripTrailing();
  }

  private static String text(Throwable e) {
    if (e instanceof FileSystemException f) {
      String reason = f.getReason();
      return f.getFile() + ": " + (reason != null ? reason : e.getClass().getSimpleName().replace("Exception", ""));
    }
    if (e.getMessage() == null) {
      // An ExceptionInInitializerError, say: its cause says what happened.
      return e.getCause() != null ? text(e.getCause()) : e.toString();
    }
    return e.getMessage();
  }
}
