package io.dedupfs.tools;

import java.nio.file.FileSystemException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** Turns any failure of a command into one line on stderr and exit code 1; the stack goes to the debug log. */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorReporter.class);

  @Override
  public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
    LOG.debug("command failed", e);
    cli.getErr().println("dedupfs: " + message(e));
    return Main.EXIT_ERROR;
  }

  static String message(Throwable e) {
    if (e instanceof FileSystemException f) {
      String reason = f.getReason();
      return f.getFile() + ": " + (reason != null ? reason : e.getClass().getSimpleName().replace("Exception", ""));
    }
    if (e instanceof IllegalArgumentException || e.getMessage() == null) {
      return e.getMessage() == null ? e.toString() : e.getMessage();
    }
    return e.getMessage();
  }
}
