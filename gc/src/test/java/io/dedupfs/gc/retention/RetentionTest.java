package io.dedupfs.gc.retention;

import static io.dedupfs.gc.retention.Policies.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every rule alone and combined, with fixed instants in Europe/Berlin, whose DST changes in 2026 are
 * on March 29 (02:00 → 03:00) and October 25 (03:00 → 02:00).
 */
class RetentionTest {
  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  /** After every snapshot below unless a test says otherwise. */
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), BERLIN);

  @Test
  void emptyInputDecidesNothing() {
    Decision decision = Retention.decide(List.of(), keep().last(3).within("1d").build(), CLOCK);
    assertEquals(List.of(), decision.verdicts());
    assertEquals(List.of(), decision.kept());
    assertEquals(List.of(), decision.removed());
  }

  @Test
  void keepLastKeepsTheNewest() {
    List<Candidate> snapshots = dailyAtNoon(LocalDate.parse("2026-11-16"), 5);
    Collections.shuffle(snapshots, new Random(1));
    Decision decision = Retention.decide(snapshots, keep().last(2).build(), CLOCK);
    assertEquals(Map.of(5L, List.of("last 1"), 4L, List.of("last 2")), keptWithReasons(decision));
    assertEquals(List.of(3L, 2L, 1L), numbers(decision.removed()), "removed, newest first");
    assertEquals(List.of(5L, 4L, 3L, 2L, 1L), numbers(decision.verdicts().stream().map(Verdict::snapshot).toList()));

    Decision all = Retention.decide(snapshots, keep().last(RetentionPolicy.UNLIMITED).build(), CLOCK);
    assertEquals(List.of(5L, 4L, 3L, 2L, 1L), numbers(all.kept()));
    assertEquals(List.of("last 5"), reasons(all, 1));
  }

  @Test
  void hourlyKeepsTheNewestOfEachHour() {
    List<Candidate> snapshots = List.of(local(1, "2026-11-20T10:05"), local(2, "2026-11-20T10:40"),
        local(3, "2026-11-20T11:15"), local(4, "2026-11-20T11:50"), local(5, "2026-11-20T12:30"));
    assertEquals(Map.of(5L, List.of("hourly 2026-11-20 12:00"), 4L, List.of("hourly 2026-11-20 11:00")),
        keptWithReasons(Retention.decide(snapshots, keep().hourly(2).build(), CLOCK)));
    assertEquals(List.of(5L, 4L, 2L), numbers(Retention.decide(snapshots, keep().hourly(3).build(), CLOCK).kept()));
    // With a count left at the oldest snapshot, that one is kept too, though its hour already is.
    Decision four = Retention.decide(snapshots, keep().hourly(4).build(), CLOCK);
    assertEquals(List.of(5L, 4L, 2L, 1L), numbers(four.kept()));
    assertEquals(List.of("hourly 2026-11-20 10:00 (oldest)"), reasons(four, 1));
  }

  /** As restic's year-month-day-hour: the hour that repeats when DST ends is one bucket. */
  @Test
  void theRepeatedHourWhenDstEndsIsOneBucket() {
    List<Candidate> snapshots = List.of(offset(1, "2026-10-25T01:30+02:00"), offset(2, "2026-10-25T02:15+02:00"),
        offset(3, "2026-10-25T02:45+02:00"), offset(4, "2026-10-25T02:15+01:00"), offset(5, "2026-10-25T03:10+01:00"));
    Decision decision = Retention.decide(snapshots, keep().hourly(3).build(), CLOCK);
    assertEquals(Map.of(5L, List.of("hourly 2026-10-25 03:00"), 4L, List.of("hourly 2026-10-25 02:00"),
        1L, List.of("hourly 2026-10-25 01:00")), keptWithReasons(decision));
  }

  /** In UTC, snapshots 1 and 2 would share March 28, and daily would keep 2 rather than 1. */
  @Test
  void dailyBucketsAreLocalDatesAcrossTheSpringChange() {
    List<Candidate> snapshots = List.of(local(1, "2026-03-28T23:30"), local(2, "2026-03-29T00:30"),
        local(3, "2026-03-29T23:30"));
    assertEquals(Instant.parse("2026-03-28T23:30:00Z"), snapshots.get(1).created());
    Decision decision = Retention.decide(snapshots, keep().daily(2).build(), CLOCK);
    assertEquals(Map.of(3L, List.of("daily 2026-03-29"), 1L, List.of("daily 2026-03-28")), keptWithReasons(decision));
  }

  @Test
  void aTwentyFiveHourDayIsOneBucket() {
    List<Candidate> snapshots = List.of(local(1, "2026-10-25T00:10"), local(2, "2026-10-25T23:50"),
        local(3, "2026-10-26T00:05"));
    assertEquals(24 * 60 + 40, Duration.between(snapshots.get(0).created(), snapshots.get(1).created())
        .toMinutes());
    Decision decision = Retention.decide(snapshots, keep().daily(2).build(), CLOCK);
    assertEquals(Map.of(3L, List.of("daily 2026-10-26"), 2L, List.of("daily 2026-10-25")), keptWithReasons(decision));
  }

  /** 2026 has 53 ISO weeks; week 53 runs from Monday December 28 to Sunday January 3, 2027. */
  @Test
  void weekBucketsAreIsoWeeksAcrossTheYearEnd() {
    List<Candidate> snapshots = List.of(local(1, "2026-12-27T12:00"), local(2, "2026-12-28T12:00"),
        local(3, "2026-12-31T12:00"), local(4, "2027-01-02T12:00"), local(5, "2027-01-04T12:00"));
    Decision decision = Retention.decide(snapshots, keep().weekly(3).build(), CLOCK);
    assertEquals(Map.of(5L, List.of("weekly 2027-W01"), 4L, List.of("weekly 2026-W53"),
        1L, List.of("weekly 2026-W52")), keptWithReasons(decision));
  }

  /** ISO week 1 of 2026 starts on Monday December 29, 2025. */
  @Test
  void weekOneMayStartInDecember() {
    List<Candidate> snapshots = List.of(local(1, "2025-12-28T12:00"), local(2, "2025-12-30T12:00"),
        local(3, "2026-01-02T12:00"));
    Decision decision = Retention.decide(snapshots, keep().weekly(2).build(), CLOCK);
    assertEquals(Map.of(3L, List.of("weekly 2026-W01"), 1L, List.of("weekly 2025-W52")), keptWithReasons(decision));
  }

  /** Snapshot 2 is in October locally, in September in UTC. */
  @Test
  void monthlyKeepsTheNewestOfEachLocalMonth() {
    List<Candidate> snapshots = List.of(local(1, "2026-09-30T23:30"), local(2, "2026-10-01T00:30"),
        local(3, "2026-10-15T12:00"), local(4, "2026-11-02T12:00"), local(5, "2026-11-20T12:00"));
    assertEquals(Map.of(5L, List.of("monthly 2026-11"), 3L, List.of("monthly 2026-10")),
        keptWithReasons(Retention.decide(snapshots, keep().monthly(2).build(), CLOCK)));
    Map<Long, List<String>> three = Map.of(5L, List.of("monthly 2026-11"), 3L, List.of("monthly 2026-10"),
        1L, List.of("monthly 2026-09"));
    assertEquals(three, keptWithReasons(Retention.decide(snapshots, keep().monthly(3).build(), CLOCK)));
    // The oldest snapshot opens a bucket of its own, so a count left over keeps nothing more.
    assertEquals(three, keptWithReasons(Retention.decide(snapshots, keep().monthly(4).build(), CLOCK)));
  }

  @Test
  void yearlyKeepsTheNewestOfEachLocalYear() {
    List<Candidate> snapshots = List.of(local(1, "2024-06-01T12:00"), local(2, "2025-03-01T12:00"),
        local(3, "2025-12-31T23:30"), local(4, "2026-01-01T00:30"), local(5, "2026-11-20T12:00"));
    assertEquals(Map.of(5L, List.of("yearly 2026"), 3L, List.of("yearly 2025")),
        keptWithReasons(Retention.decide(snapshots, keep().yearly(2).build(), CLOCK)));
    assertEquals(List.of(5L, 3L, 1L),
        numbers(Retention.decide(snapshots, keep().yearly(RetentionPolicy.UNLIMITED).build(), CLOCK).kept()));
  }

  @Test
  void withinKeepsWhatIsStrictlyNewerThanThePeriodBeforeTheNewest() {
    List<Candidate> snapshots = List.of(local(1, "2026-11-01T12:00"), local(2, "2026-11-13T12:00"),
        local(3, "2026-11-13T12:00:01"), local(4, "2026-11-19T12:00"), local(5, "2026-11-20T12:00"));
    Decision decision = Retention.decide(snapshots, keep().within("7d").build(), CLOCK);
    assertEquals(List.of(5L, 4L, 3L), numbers(decision.kept()));
    assertEquals(List.of("within 7d"), reasons(decision, 3));
  }

  @Test
  void withinCountsCalendarDaysAcrossDst() {
    // March 29 has 23 hours: a day back from noon is 11:00 UTC on March 28, not 10:00.
    List<Candidate> snapshots = List.of(local(1, "2026-03-28T11:30"), local(2, "2026-03-29T12:00"));
    assertEquals(List.of(2L), numbers(Retention.decide(snapshots, keep().within("1d").build(), CLOCK).kept()));
    assertEquals(List.of(2L, 1L), numbers(Retention.decide(snapshots, keep().within("24h").build(), CLOCK).kept()));
  }

  @Test
  void withinMonthsClampToTheEndOfTheMonth() {
    List<Candidate> snapshots = List.of(local(1, "2026-02-28T11:30"), local(2, "2026-02-28T12:30"),
        local(3, "2026-03-31T12:00"));
    assertEquals(List.of(3L, 2L), numbers(Retention.decide(snapshots, keep().within("1m").build(), CLOCK).kept()));
  }

  /** A snapshot stamped by a clock far ahead must not push every other one out of the window. */
  @Test
  void withinIsMeasuredFromTheNewestSnapshotNotInTheFuture() {
    Clock now = Clock.fixed(local(0, "2026-11-20T13:00").created(), BERLIN);
    List<Candidate> snapshots = List.of(local(1, "2026-11-10T12:00"), local(2, "2026-11-14T12:00"),
        local(3, "2026-11-20T12:00"), local(4, "2099-01-01T12:00"));
    Decision decision = Retention.decide(snapshots, keep().within("7d").build(), now);
    assertEquals(List.of(4L, 3L, 2L), numbers(decision.kept()));

    Clock before = Clock.fixed(Instant.parse("2020-01-01T00:00:00Z"), BERLIN);
    assertEquals(List.of(4L, 3L, 2L, 1L),
        numbers(Retention.decide(snapshots, keep().within("7d").build(), before).kept()),
        "with every snapshot in the future there is nothing to measure from: all are within");
  }

  /**
   * A snapshot at 03:00 every day of 2026 up to Friday November 20. The rules count independently,
   * as in restic: November 20 takes one of the four weekly counts although last and daily keep it
   * already (borg's later rules skip what earlier ones keep, and would reach further back).
   */
  @Test
  void rulesCombine() {
    List<Candidate> snapshots = dailyAt3(LocalDate.parse("2026-01-01"), LocalDate.parse("2026-11-20"));
    RetentionPolicy policy = keep().last(3).daily(7).weekly(4).monthly(6).yearly(2).within("2d").build();
    Decision decision = Retention.decide(snapshots, policy, CLOCK);

    Map<String, List<String>> expected = new LinkedHashMap<>();
    expected.put("2026-11-20", List.of("last 1", "daily 2026-11-20", "weekly 2026-W47", "monthly 2026-11",
        "yearly 2026", "within 2d"));
    expected.put("2026-11-19", List.of("last 2", "daily 2026-11-19", "within 2d"));
    expected.put("2026-11-18", List.of("last 3", "daily 2026-11-18"));
    expected.put("2026-11-17", List.of("daily 2026-11-17"));
    expected.put("2026-11-16", List.of("daily 2026-11-16"));
    expected.put("2026-11-15", List.of("daily 2026-11-15", "weekly 2026-W46"));
    expected.put("2026-11-14", List.of("daily 2026-11-14"));
    expected.put("2026-11-08", List.of("weekly 2026-W45"));
    expected.put("2026-11-01", List.of("weekly 2026-W44"));
    expected.put("2026-10-31", List.of("monthly 2026-10"));
    expected.put("2026-09-30", List.of("monthly 2026-09"));
    expected.put("2026-08-31", List.of("monthly 2026-08"));
    expected.put("2026-07-31", List.of("monthly 2026-07"));
    expected.put("2026-06-30", List.of("monthly 2026-06"));
    // Only one year of snapshots: yearly has a count left at the oldest and keeps it.
    expected.put("2026-01-01", List.of("yearly 2026 (oldest)"));

    Map<String, List<String>> actual = new LinkedHashMap<>();
    for (Verdict verdict : decision.verdicts()) {
      if (verdict.keep()) {
        actual.put(verdict.snapshot().name(), verdict.reasons().stream().map(Reason::toString).toList());
      }
    }
    assertEquals(expected, actual);
    assertEquals(snapshots.size() - expected.size(), decision.removed().size());
  }

  @Test
  void moreRulesThanSnapshots() {
    List<Candidate> snapshots = List.of(local(1, "2026-11-18T09:00"), local(2, "2026-11-18T18:00"),
        local(3, "2026-11-20T12:00"));
    assertEquals(List.of(3L, 2L, 1L), numbers(Retention.decide(snapshots, keep().last(10).build(), CLOCK).kept()));
    Decision daily = Retention.decide(snapshots, keep().daily(10).build(), CLOCK);
    assertEquals(Map.of(3L, List.of("daily 2026-11-20"), 2L, List.of("daily 2026-11-18"),
        1L, List.of("daily 2026-11-18 (oldest)")), keptWithReasons(daily));
    assertEquals(List.of(3L, 2L), numbers(Retention.decide(snapshots, keep().daily(2).build(), CLOCK).kept()),
        "no count left at the oldest");
    Decision weekly = Retention.decide(snapshots, keep().weekly(5).build(), CLOCK);
    assertEquals(Map.of(3L, List.of("weekly 2026-W47"), 1L, List.of("weekly 2026-W47 (oldest)")),
        keptWithReasons(weekly));
    assertEquals(List.of(3L), numbers(Retention.decide(snapshots, keep().yearly(1).build(), CLOCK).kept()));
  }

  @Test
  void aSingleSnapshotIsKeptByEveryRule() {
    List<Candidate> one = List.of(local(1, "2026-11-20T12:00"));
    for (RetentionPolicy policy : List.of(keep().last(1).build(), keep().hourly(1).build(), keep().daily(1).build(),
        keep().weekly(1).build(), keep().monthly(1).build(), keep().yearly(1).build(), keep().within("1h").build())) {
      assertEquals(List.of(1L), numbers(Retention.decide(one, policy, CLOCK).kept()), policy.toString());
    }
  }

  /** Of two snapshots taken at the same instant, the higher number counts as the newer. */
  @Test
  void tiesGoToTheHigherNumberWhateverTheInputOrder() {
    List<Candidate> snapshots = new ArrayList<>(List.of(local(5, "2026-11-20T11:00"), local(7, "2026-11-20T12:00"),
        local(8, "2026-11-20T12:00")));
    for (int round = 0; round < 2; round++) {
      assertEquals(List.of(8L), numbers(Retention.decide(snapshots, keep().last(1).build(), CLOCK).kept()));
      assertEquals(List.of(8L), numbers(Retention.decide(snapshots, keep().daily(1).build(), CLOCK).kept()));
      assertEquals(List.of(8L, 7L, 5L),
          numbers(Retention.decide(snapshots, keep().daily(1).build(), CLOCK).verdicts().stream()
              .map(Verdict::snapshot).toList()));
      Collections.reverse(snapshots);
    }
  }

  @Test
  void refusesTwoSnapshotsWithOneNumber() {
    List<Candidate> snapshots = List.of(local(3, "2026-11-20T11:00"), local(3, "2026-11-20T12:00"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Retention.decide(snapshots, keep().last(1).build(), CLOCK));
    assertEquals("snapshot number 3 appears twice", e.getMessage());
  }

  @Test
  void verdictsAreImmutable() {
    Decision decision = Retention.decide(List.of(local(1, "2026-11-20T12:00")), keep().last(1).build(), CLOCK);
    assertThrows(UnsupportedOperationException.class, () -> decision.verdicts().clear());
    assertThrows(UnsupportedOperationException.class, () -> decision.verdicts().get(0).reasons().clear());
    assertTrue(decision.verdicts().get(0).keep());
  }

  // --- helpers ---

  private static Candidate local(long number, String localDateTime) {
    return new Candidate(number, "s" + number, LocalDateTime.parse(localDateTime).atZone(BERLIN).toInstant());
  }

  private static Candidate offset(long number, String offsetDateTime) {
    return new Candidate(number, "s" + number, OffsetDateTime.parse(offsetDateTime).toInstant());
  }

  /** {@code count} snapshots at noon on consecutive days from {@code first}, numbered from 1. */
  private static List<Candidate> dailyAtNoon(LocalDate first, int count) {
    List<Candidate> snapshots = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      snapshots.add(local(i + 1, first.plusDays(i) + "T12:00"));
    }
    return snapshots;
  }

  /** One snapshot at 03:00 every day from {@code first} to {@code last}, named by its date. */
  private static List<Candidate> dailyAt3(LocalDate first, LocalDate last) {
    List<Candidate> snapshots = new ArrayList<>();
    long number = 1;
    for (LocalDate day = first; !day.isAfter(last); day = day.plusDays(1)) {
      snapshots.add(new Candidate(number++, day.toString(), day.atTime(3, 0).atZone(BERLIN).toInstant()));
    }
    return snapshots;
  }

  private static List<Long> numbers(List<Candidate> snapshots) {
    return snapshots.stream().map(Candidate::number).toList();
  }

  private static Map<Long, List<String>> keptWithReasons(Decision decision) {
    Map<Long, List<String>> kept = new LinkedHashMap<>();
    for (Verdict verdict : decision.verdicts()) {
      if (verdict.keep()) {
        kept.put(verdict.snapshot().number(), verdict.reasons().stream().map(Reason::toString).toList());
      }
    }
    return kept;
  }

  private static List<String> reasons(Decision decision, long number) {
    return decision.verdicts().stream()
        .filter(v -> v.snapshot().number() == number)
        .findFirst()
        .orElseThrow()
        .reasons().stream().map(Reason::toString).toList();
  }
}
