package io.dedupfs.gc.retention;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.Period;
import java.time.ZoneId;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The period of {@code --keep-within} in restic's syntax: years, months, days and hours, each
 * optional but in that order, e.g. {@code 2y5m7d3h} or {@code 36h}. Years, months and days are
 * calendar units of the local time zone (a day across a DST change lasts 23 or 25 hours); hours
 * are exact hours, as restic's {@code AddDate(-y, -m, -d).Add(-h)}.
 */
public record DurationSpec(int years, int months, int days, int hours) {

  /** No period: {@code --keep-within} not given. */
  public static final DurationSpec ZERO = new DurationSpec(0, 0, 0, 0);

  private static final Pattern SYNTAX = Pattern.compile("(?:(\\d+)y)?(?:(\\d+)m)?(?:(\\d+)d)?(?:(\\d+)h)?");

  public DurationSpec {
    if (years < 0 || months < 0 || days < 0 || hours < 0) {
      throw new IllegalArgumentException(
          Rule.WITHIN.option() + ": a period cannot be negative (" + years + "y" + months + "m" + days + "d"
              + hours + "h)");
    }
  }

  /**
   * Parses {@code text} such as {@code 1y6m7d12h}. Stricter than restic, which also takes the units in
   * any order, repeated or negative: here each unit appears at most once, in the order y m d h.
   *
   * @throws IllegalArgumentException naming {@code --keep-within} and the text, if it is not such a
   *     period or a number does not fit an int
   */
  public static DurationSpec parse(String text) {
    Matcher m = SYNTAX.matcher(text);
    if (text.isEmpty() || !m.matches()) {
      throw new IllegalArgumentException(
          Rule.WITHIN.option() + ": '" + text + "' is not a duration like 1y6m7d12h");
    }
    try {
      return new DurationSpec(number(m, 1), number(m, 2), number(m, 3), number(m, 4));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(Rule.WITHIN.option() + ": '" + text + "' has a number too large", e);
    }
  }

  private static int number(Matcher m, int group) {
    String digits = m.group(group);
    return digits == null ? 0 : Integer.parseInt(digits);
  }

  public boolean isZero() {
    return equals(ZERO);
  }

  /**
   * The instant this period before {@code end}, counted in calendar units of {@code zone}. A month
   * back from March 31 is February 28 (or 29): java.time clamps to the month's last day where Go's
   * {@code AddDate}, and so restic, overflows to early March; the window here is then a few days
   * longer, which errs on the side of keeping. A period reaching before any representable date
   * gives {@link Instant#MIN}: everything is within it.
   */
  Instant before(Instant end, ZoneId zone) {
    try {
      return end.atZone(zone).minus(Period.of(years, months, days)).toInstant().minus(Duration.ofHours(hours));
    } catch (DateTimeException e) {
      return Instant.MIN;
    }
  }

  /** The canonical form {@link #parse} takes, e.g. {@code 1y7d}; {@code 0h} for {@link #ZERO}. */
  @Override
  public String toString() {
    if (isZero()) {
      return "0h";
    }
    StringBuilder s = new StringBuilder();
    append(s, years, 'y');
    append(s, months, 'm');
    append(s, days, 'd');
    append(s, hours, 'h');
    return s.toString();
  }

  private static void append(StringBuilder s, int value, char unit) {
    if (value != 0) {
      s.append(value).append(unit);
    }
  }
}
