package io.dedupfs.tools;

import io.dedupfs.gc.GcProgress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A collection's progress as a bar per phase on stderr, when stderr is a terminal; nothing
 * otherwise (scripts read the summary or {@code --json}).
 */
final class TerminalProgress implements GcProgress, AutoCloseable {
  private final boolean shown = System.console() != null;
  private ProgressBar bar;
  private String phase;

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
