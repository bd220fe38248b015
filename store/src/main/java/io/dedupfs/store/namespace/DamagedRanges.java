package io.dedupfs.store.namespace;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The value of the xattr {@code user.dedupfs.damaged} (FORMAT.md §13): the byte ranges of a file
 * whose data a repair found lost and turned into holes, as ASCII {@code FIRST-LAST} inclusive
 * ranges in increasing order joined by commas (as HTTP ranges: {@code 0-1048575,4194304-5242879}),
 * for {@code getfattr} to show a person. Stateless.
 */
public final class DamagedRanges {
  public static final byte[] XATTR = "user.dedupfs.damaged".getBytes(StandardCharsets.US_ASCII);
  /** Ends a value that had to stop before the xattr size limit: more ranges were lost. */
  static final String MORE = ",...";

  private DamagedRanges() {}

  /** A range of bytes, {@code first} to {@code last} inclusive. */
  public record Range(long first, long last) {
    public Range {
      if (first < 0 || last < first) {
        throw new IllegalArgumentException("invalid byte range " + first + "-" + last);
      }
    }

    static Range of(Extent e) {
      return new Range(e.fileOffset(), e.end() - 1);
    }

    @Override
    public String toString() {
      return first + "-" + last;
    }
  }

  /** The ranges of {@code value} (those readable: a person may have edited it), merged with {@code more}. */
  static List<Range> merge(byte[] value, List<Range> more) {
    List<Range> all = new ArrayList<>(more);
    for (String part : new String(value, StandardCharsets.US_ASCII).split(",")) {
      String[] ends = part.split("-");
      try {
        all.add(new Range(Long.parseLong(ends[0]), Long.parseLong(ends[1])));
      } catch (RuntimeException e) {
        // Not a range (the "..." of a long value, or edited): the repair adds what it knows.
      }
    }
    all.sort(Comparator.comparingLong(Range::first));
    List<Range> merged = new ArrayList<>();
    for (Range r : all) {
      Range last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
      if (last != null && r.first() <= last.last() + 1) {
        merged.set(merged.size() - 1, new Range(last.first(), Math.max(last.last(), r.last())));
      } else {
        merged.add(r);
      }
    }
    return merged;
  }

  /** The xattr value naming {@code ranges}, cut short with {@link #MORE} at the xattr size limit. */
  static byte[] encode(List<Range> ranges) {
    StringBuilder b = new StringBuilder();
    for (Range r : ranges) {
      String next = (b.length() == 0 ? "" : ",") + r;
      if (b.length() + next.length() + MORE.length() > Namespace.MAX_XATTR_VALUE) {
        b.append(MORE);
        break;
      }
      b.append(next);
    }
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
