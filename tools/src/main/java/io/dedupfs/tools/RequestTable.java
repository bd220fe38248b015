package io.dedupfs.tools;

import io.dedupfs.store.stats.RequestStats;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The filesystem requests a mount served, as a table: which kinds of request the time went to,
 * so that anyone can see when the requests themselves, not the pipeline, bound a backup.
 */
final class RequestTable {
  private static final String HEADER = "%-13s %12s %10s %10s %10s %12s%n";
  private static final String ROW = "%-13s %,12d %,10d %10.2f %10.1f %12s";

  private RequestTable() {}

  /** Most time first; of equal time, the most asked for first, then by name. */
  static List<RequestStats.Snapshot> byTime(List<RequestStats.Snapshot> requests) {
    return requests.stream().sorted(Comparator.comparingLong(RequestStats.Snapshot::nanos).reversed()
        .thenComparing(Comparator.comparingLong(RequestStats.Snapshot::count).reversed())
        .thenComparing(RequestStats.Snapshot::name)).toList();
  }

  /**
   * A header, a line per kind of request served at least once, most time first, a line of their
   * sums, and a note on what the times are; nothing if no request was served.
   */
  static String format(List<RequestStats.Snapshot> requests) {
    List<RequestStats.Snapshot> served = byTime(requests).stream().filter(r -> r.count() > 0).toList();
    if (served.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, HEADER, "request", "count", "errors", "total s",
        "mean us", "MB"));
    for (RequestStats.Snapshot r : served) {
      out.append(row(r));
    }
    out.append(row(new RequestStats.Snapshot("all", sum(served, RequestStats.Snapshot::count),
        sum(served, RequestStats.Snapshot::nanos), sum(served, RequestStats.Snapshot::errors),
        sum(served, RequestStats.Snapshot::bytes))));
    return out.append("(time in the filesystem process, from a request's arrival to its reply, summed over its"
        + " threads;\n not the kernel's or libfuse's. MB: file data read or written)\n").toString();
  }

  /** MB is left blank for requests that move no file data, with no spaces at the end of the line. */
  private static String row(RequestStats.Snapshot r) {
    return String.format(Locale.ROOT, ROW, r.name(), r.count(), r.errors(), r.nanos() / 1e9, r.meanNanos() / 1e3,
        r.bytes() == 0 ? "" : String.format(Locale.ROOT, "%.1f", r.bytes() / 1e6)).stripTrailing() + "\n";
  }

  private static long sum(List<RequestStats.Snapshot> requests,
      java.util.function.ToLongFunction<RequestStats.Snapshot> field) {
    return requests.stream().mapToLong(field).sum();
  }
}
