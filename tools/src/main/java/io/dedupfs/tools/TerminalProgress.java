package io.dedupfs.tools;

import io.dedupfs.gc.GcProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A collection's progress as a bar per phase on stderr, when this runs on a terminal and without
 * {@code --quiet}; nothing otherwise (scripts read the summary or {@code --json}).
 */
final class TerminalProgress implements GcProgress, AutoCloseable {
  /** What stderr is: a terminal is a /dev/pts/N or /dev/ttyN. */
  private static final Path STDERR = Path.of("/proc/self/fd/2");

  private final boolean shown;
  private ProgressBar bar;
  private String phase;

  /** Progress for the command {@code command}: shown unless it runs with --quiet or off a terminal. */
  TerminalProgress(CommandSpec command) {
    shown = !Main.of(command).quiet && System.console() != null && stderrIsTerminal();
  }

  /**
   * System.console() says only that stdin and stdout are terminals; the bars go to stderr, which
   * {@code 2>file} sends elsewhere.
   */
  private static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(STDERR).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  @Override
  public void update(String newPhase, long done, long total) {
    if (!shown) {
      return;
    }
    if (!newPhase.equals(phase)) {
      close();
      phase = newPhase;
      bar = new ProgressBarBuilder().setTaskName(String.format("%-10s", newPhase)).setInitialMax(total)
          .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate().build();
    }
    if (total >= 0 && bar.getMax() != total) {
      bar.maxHint(total);
    }
    bar.stepTo(done);
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
