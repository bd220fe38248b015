package io.dedupfs.gc.retention;

import java.util.Objects;

/**
 * The {@code --keep-*} rules of {@code dedupfs prune}; a snapshot kept by any rule stays. Each count
 * is 0 (rule off), a positive number, or {@link #UNLIMITED}; {@code keepWithin} is {@link
 * DurationSpec#ZERO} when off. A policy with no rule at all cannot be built: it would delete every
 * snapshot, which is never what an omitted option meant.
 */
public record RetentionPolicy(int keepLast, int keepHourly, int keepDaily, int keepWeekly, int keepMonthly,
    int keepYearly, DurationSpec keepWithin) {

  /**
   * restic's {@code unlimited}, and the same -1 restic stores: the rule keeps the newest snapshot of
   * every bucket (with keep-last: every snapshot).
   */
  public static final int UNLIMITED = -1;

  public RetentionPolicy {
    Objects.requireNonNull(keepWithin, "keepWithin (DurationSpec.ZERO when off)");
    requireCount(Rule.LAST, keepLast);
    requireCount(Rule.HOURLY, keepHourly);
    requireCount(Rule.DAILY, keepDaily);
    requireCount(Rule.WEEKLY, keepWeekly);
    requireCount(Rule.MONTHLY, keepMonthly);
    requireCount(Rule.YEARLY, keepYearly);
    if (keepLast == 0 && keepHourly == 0 && keepDaily == 0 && keepWeekly == 0 && keepMonthly == 0
        && keepYearly == 0 && keepWithin.isZero()) {
      throw new IllegalArgumentException("no --keep rule given: that would delete every snapshot");
    }
  }

  private static void requireCount(Rule rule, int count) {
    if (count < UNLIMITED) {
      throw new IllegalArgumentException(rule.option() + " is " + count + ": a count is 0 or more, or unlimited");
    }
  }

  /**
   * Parses the value of a count option such as {@code --keep-daily}: a number of 0 or more, or
   * {@code unlimited} (or -1, which restic also takes).
   *
   * @throws IllegalArgumentException naming the option and the text otherwise
   */
  public static int parseCount(Rule rule, String text) {
    if (text.equals("unlimited")) {
      return UNLIMITED;
    }
    // Nine digits at most, so that the number fits an int.
    if (text.matches("-1|[0-9]{1,9}")) {
      return Integer.parseInt(text);
    }
    throw new IllegalArgumentException(
        rule.option() + ": '" + text + "' is not a count (a number of 0 or more, or unlimited)");
  }
}
