package io.dedupfs.gc;

import java.util.ArrayList;
import java.util.List;

/** Lines of a check's report, one per finding: the first {@link #MAX_LISTED} kept, all counted. */
final class Findings {
  /** Lines kept; more are only counted, so that a badly damaged repository cannot flood the report. */
  static final int MAX_LISTED = 100;

  private final List<String> listed = new ArrayList<>();
  private long count;

  void add(String line) {
    count++;
    if (listed.size() < MAX_LISTED) {
      listed.add(line);
    }
  }

  long count() {
    return count;
  }

  List<String> listed() {
    return List.copyOf(listed);
  }
}
