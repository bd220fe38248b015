package io.dedupfs.gc;

import java.util.List;

/**
 * What {@code dedupfs check} found: how much it looked at, and each problem in a line (at most
 * {@link Checker#MAX_PROBLEMS}; {@code problemCount} counts them all). Clean when there is none.
 */
public record CheckReport(long packs, long chunks, long references, long chunksRead, long problemCount,
    List<String> problems) {
  public boolean clean() {
    return problemCount == 0;
  }
}
