package io.dedupfs.gc.retention;

import static java.time.temporal.IsoFields.WEEK_BASED_YEAR;
import static java.time.temporal.IsoFields.WEEK_OF_WEEK_BASED_YEAR;

import java.time.Clock;
import java.time.Instant;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides which snapshots a {@link RetentionPolicy} keeps, with the semantics of restic's {@code
 * forget}. Snapshots are walked newest first. {@code keep-last N} keeps the N newest. Each calendar
 * rule ({@code hourly}: local date and hour, {@code daily}: local date, {@code weekly}: ISO
 * week-based year and week, {@code monthly}, {@code yearly}) keeps the newest snapshot of each
 * bucket it meets until it has kept N; if it still has count left at the oldest snapshot, it keeps
 * that one too. The rules count independently (a snapshot kept by daily still uses up a weekly
 * count, as in restic and unlike borg). {@code keep-within P} keeps every snapshot newer than P
 * before the newest snapshot (the newest not dated in the future, as in restic). A snapshot kept by
 * any rule stays.
 */
public final class Retention {

  /** Newest first; of two snapshots taken at the same instant, the higher number first. */
  static final Comparator<Candidate> NEWEST_FIRST =
      Comparator.comparing(Candidate::created).thenComparingLong(Candidate::number).reversed();

  private Retention() {}

  /**
   * One verdict for each of {@code snapshots}, newest first.
   *
   * @param clock its zone gives the local time that buckets and calendar periods follow; its instant
   *     only tells which snapshots are dated in the future, which keep-within does not measure from
   * @throws IllegalArgumentException if two snapshots have the same number
   */
  public static Decision decide(List<Candidate> snapshots, RetentionPolicy policy, Clock clock) {
    List<Candidate> newestFirst = sortNewestFirst(snapshots);
    ZoneId zone = clock.getZone();
    List<Tally> tallies = tallies(policy);
    Instant withinStart = withinStart(newestFirst, policy.keepWithin(), clock.instant(), zone);
    List<Verdict> verdicts = new ArrayList<>(newestFirst.size());
    for (int i = 0; i < newestFirst.size(); i++) {
      Candidate snapshot = newestFirst.get(i);
      ZonedDateTime local = snapshot.created().atZone(zone);
      boolean oldest = i == newestFirst.size() - 1;
      List<Reason> reasons = new ArrayList<>();
      for (Tally tally : tallies) {
        tally.offer(local, i + 1, oldest, reasons);
      }
      if (snapshot.created().isAfter(withinStart)) {
        reasons.add(new Reason(Rule.WITHIN, policy.keepWithin().toString()));
      }
      verdicts.add(new Verdict(snapshot, reasons));
    }
    return new Decision(verdicts);
  }

  private static List<Candidate> sortNewestFirst(List<Candidate> snapshots) {
    Set<Long> numbers = new HashSet<>();
    for (Candidate snapshot : snapshots) {
      if (!numbers.add(snapshot.number())) {
        throw new IllegalArgumentException("snapshot number " + snapshot.number() + " appears twice");
      }
    }
    List<Candidate> sorted = new ArrayList<>(snapshots);
    sorted.sort(NEWEST_FIRST);
    return sorted;
  }

  /**
   * The instant after which keep-within keeps every snapshot; {@link Instant#MAX} when the rule is
   * off. As in restic, the period is measured back from the newest snapshot not dated after {@code
   * now}, so that one snapshot stamped by a clock set years ahead cannot push every other snapshot
   * out of the window. When all are in the future there is nothing to measure from, and all are
   * within.
   */
  private static Instant withinStart(List<Candidate> newestFirst, DurationSpec within, Instant now, ZoneId zone) {
    if (within.isZero()) {
      return Instant.MAX;
    }
    return newestFirst.stream()
        .map(Candidate::created)
        .filter(created -> !created.isAfter(now))
        .findFirst()
        .map(anchor -> within.before(anchor, zone))
        .orElse(Instant.MIN);
  }

  private static List<Tally> tallies(RetentionPolicy policy) {
    return List.of(
        new Tally(Rule.LAST, policy.keepLast(), (local, rank) -> Integer.toString(rank)),
        new Tally(Rule.HOURLY, policy.keepHourly(),
            (local, rank) -> String.format(Locale.ROOT, "%s %02d:00", local.toLocalDate(), local.getHour())),
        new Tally(Rule.DAILY, policy.keepDaily(), (local, rank) -> local.toLocalDate().toString()),
        new Tally(Rule.WEEKLY, policy.keepWeekly(), (local, rank) -> String.format(Locale.ROOT, "%d-W%02d",
            local.get(WEEK_BASED_YEAR), local.get(WEEK_OF_WEEK_BASED_YEAR))),
        new Tally(Rule.MONTHLY, policy.keepMonthly(), (local, rank) -> YearMonth.from(local).toString()),
        new Tally(Rule.YEARLY, policy.keepYearly(), (local, rank) -> Year.from(local).toString()));
  }

  /** The bucket of a snapshot at local time {@code local}, {@code rank}th newest (from 1). */
  @FunctionalInterface
  private interface Bucketing {
    String bucket(ZonedDateTime local, int rank);
  }

  /** One counting rule during the walk: how many more snapshots it may keep, and its buckets so far. */
  private static final class Tally {
    private final Rule rule;
    private final Bucketing bucketing;
    // A set rather than restic's "differs from the previous snapshot's bucket": the same wherever
    // local time only runs backwards within an hour, and still one snapshot per bucket elsewhere.
    private final Set<String> seen = new HashSet<>();
    private int left;

    Tally(Rule rule, int count, Bucketing bucketing) {
      this.rule = rule;
      this.left = count;
      this.bucketing = bucketing;
    }

    void offer(ZonedDateTime local, int rank, boolean oldest, List<Reason> reasons) {
      if (left == 0) {
        return;
      }
      String bucket = bucketing.bucket(local, rank);
      boolean newBucket = seen.add(bucket);
      // restic (since 0.17) and borg (since 1.2) keep the oldest snapshot too while a rule has count
      // left, so the history reaches back as far as it can until newer buckets fill the count.
      if (newBucket || oldest) {
        if (left != RetentionPolicy.UNLIMITED) {
          left--;
        }
        reasons.add(new Reason(rule, newBucket ? bucket : bucket + " (oldest)"));
      }
    }
  }
}
