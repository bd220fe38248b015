package io.dedupfs.gc.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties of {@link Retention#decide} over random snapshot sets, policies, clocks and zones
 * (jqwik prints the seed and the shrunk case on failure).
 */
class RetentionPropertiesTest {
  private static final long HOUR = 3600;
  private static final long DAY = 24 * HOUR;
  /** The dense snapshots below cover Berlin's DST end on 2026-10-25 and its daily ones two year ends. */
  private static final Instant BASE = Instant.parse("2026-10-23T12:00:00Z");
  /** Zones whose local hour never runs back across an hour boundary, so restic's walk applies as is. */
  private static final List<ZoneId> ZONES = List.of(ZoneId.of("Europe/Berlin"), ZoneId.of("UTC"),
      ZoneId.of("America/St_Johns"), ZoneId.of("Australia/Lord_Howe"));
  private static final List<Rule> CALENDAR_RULES = List.of(Rule.HOURLY, Rule.DAILY, Rule.WEEKLY, Rule.MONTHLY,
      Rule.YEARLY);

  record Case(List<Candidate> snapshots, RetentionPolicy policy, Clock clock) {
    Decision decide() {
      return Retention.decide(snapshots, policy, clock);
    }
  }

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<Long> seconds = Arbitraries.oneOf(
        // Spread over four years around BASE.
        Arbitraries.longs().between(-2 * 366 * DAY, 2 * 366 * DAY),
        // Quarter hours over four days: many snapshots per hour and day, and equal instants.
        Arbitraries.longs().between(0, 4 * 24 * 4).map(q -> q * 900),
        // One time of day over 500 days: equal instants, and many days in a week and a month.
        Arbitraries.longs().between(-250, 250).map(d -> d * DAY));
    Arbitrary<List<Candidate>> snapshots = seconds.list().ofMaxSize(40).map(RetentionPropertiesTest::numbered);
    Arbitrary<Clock> clocks = Combinators.combine(
            Arbitraries.longs().between(-3 * 366 * DAY, 3 * 366 * DAY), Arbitraries.of(ZONES))
        .as((offset, zone) -> Clock.fixed(BASE.plusSeconds(offset), zone));
    return Combinators.combine(snapshots, policies(), clocks).as(Case::new);
  }

  private static Arbitrary<RetentionPolicy> policies() {
    Arbitrary<Integer> counts = Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.just(0)),
        Tuple.of(4, Arbitraries.integers().between(1, 6)),
        Tuple.of(1, Arbitraries.integers().between(7, 50)),
        Tuple.of(1, Arbitraries.just(RetentionPolicy.UNLIMITED)));
    Arbitrary<DurationSpec> withins = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just(DurationSpec.ZERO)),
        Tuple.of(2, Combinators.combine(Arbitraries.integers().between(0, 1), Arbitraries.integers().between(0, 3),
            Arbitraries.integers().between(0, 20), Arbitraries.integers().between(0, 48)).as(DurationSpec::new)));
    return Combinators.combine(counts.list().ofSize(6), withins)
        .filter((c, within) -> c.stream().anyMatch(n -> n != 0) || !within.isZero())
        .as((c, within) -> new RetentionPolicy(c.get(0), c.get(1), c.get(2), c.get(3), c.get(4), c.get(5), within));
  }

  private static List<Candidate> numbered(List<Long> seconds) {
    List<Candidate> snapshots = new ArrayList<>();
    for (int i = 0; i < seconds.size(); i++) {
      snapshots.add(new Candidate(i + 1, "s" + (i + 1), BASE.plusSeconds(seconds.get(i))));
    }
    return snapshots;
  }

  @Property(tries = 1000)
  void oneVerdictPerSnapshotNewestFirst(@ForAll("cases") Case c) {
    List<Verdict> verdicts = c.decide().verdicts();
    assertEquals(Set.copyOf(c.snapshots()), Set.copyOf(snapshots(verdicts)));
    assertEquals(c.snapshots().size(), verdicts.size());
    for (int i = 1; i < verdicts.size(); i++) {
      Candidate newer = verdicts.get(i - 1).snapshot();
      Candidate older = verdicts.get(i).snapshot();
      int byTime = newer.created().compareTo(older.created());
      assertTrue(byTime > 0 || byTime == 0 && newer.number() > older.number(), newer + " before " + older);
    }
  }

  /** (a) keep-last N keeps exactly the N newest. */
  @Property(tries = 1000)
  void keepLastKeepsTheNNewest(@ForAll("cases") Case c) {
    int n = c.policy().keepLast();
    List<Verdict> verdicts = c.decide().verdicts();
    for (int i = 0; i < verdicts.size(); i++) {
      assertEquals(n == RetentionPolicy.UNLIMITED || i < n, rules(verdicts.get(i)).contains(Rule.LAST), "rank " + i);
    }
  }

  /**
   * (b) A calendar rule keeps at most its count, and one snapshot per bucket except the oldest
   * snapshot, which it may keep in a bucket it already has.
   */
  @Property(tries = 1000)
  void aCalendarRuleKeepsAtMostItsCount(@ForAll("cases") Case c) {
    List<Verdict> verdicts = c.decide().verdicts();
    for (Rule rule : CALENDAR_RULES) {
      int count = count(c.policy(), rule);
      List<Reason> reasons = verdicts.stream().flatMap(v -> v.reasons().stream()).filter(r -> r.rule() == rule)
          .toList();
      assertTrue(count == RetentionPolicy.UNLIMITED || reasons.size() <= count, rule + ": " + reasons);
      List<String> buckets = reasons.stream().map(Reason::detail).filter(d -> !d.endsWith(" (oldest)")).toList();
      assertEquals(Set.copyOf(buckets).size(), buckets.size(), rule + " kept two of one bucket: " + reasons);
      for (int i = 0; i < verdicts.size() - 1; i++) {
        assertTrue(verdicts.get(i).reasons().stream().noneMatch(r -> r.detail().endsWith(" (oldest)")));
      }
    }
  }

  /** (c) The newest snapshot is always kept: every rule keeps it. */
  @Property(tries = 1000)
  void theNewestIsAlwaysKept(@ForAll("cases") Case c) {
    List<Verdict> verdicts = c.decide().verdicts();
    if (!verdicts.isEmpty()) {
      assertTrue(verdicts.get(0).keep(), verdicts.get(0).toString());
    }
  }

  /**
   * (d) Deciding again on the kept snapshots keeps all of them, for the same reasons. This holds
   * for restic's semantics: keep-last's N newest stay the N newest; a calendar rule kept the newest
   * snapshot of each of the first buckets it met, which stay the newest of their buckets with no
   * other bucket before them, so it meets and keeps them again; if it had count left at the oldest
   * snapshot it kept that one, which stays the oldest and again finds the same count left; and
   * keep-within keeps the snapshot it measures from, so it measures from the same one.
   */
  @Property(tries = 1000)
  void decidingAgainKeepsEverythingKept(@ForAll("cases") Case c) {
    Decision first = c.decide();
    Decision again = Retention.decide(first.kept(), c.policy(), c.clock());
    assertEquals(first.verdicts().stream().filter(Verdict::keep).toList(), again.verdicts());
  }

  /** The input order does not matter, equal instants included. */
  @Property(tries = 500)
  void theInputOrderDoesNotMatter(@ForAll("cases") Case c) {
    List<Candidate> reversed = new ArrayList<>(c.snapshots());
    Collections.reverse(reversed);
    assertEquals(c.decide(), Retention.decide(reversed, c.policy(), c.clock()));
  }

  /** More of any rule never deletes a snapshot that less of it kept. */
  @Property(tries = 1000)
  void aLargerRuleNeverKeepsLess(@ForAll("cases") Case c, @ForAll @IntRange(min = 0, max = 6) int which,
      @ForAll @IntRange(min = 1, max = 5) int more) {
    RetentionPolicy p = c.policy();
    int[] counts = {p.keepLast(), p.keepHourly(), p.keepDaily(), p.keepWeekly(), p.keepMonthly(), p.keepYearly()};
    DurationSpec within = p.keepWithin();
    if (which == 6) {
      within = new DurationSpec(within.years(), within.months(), within.days(), within.hours() + more);
    } else if (counts[which] != RetentionPolicy.UNLIMITED) {
      counts[which] += more;
    }
    RetentionPolicy larger = new RetentionPolicy(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
        within);
    Set<Candidate> kept = Set.copyOf(c.decide().kept());
    Set<Candidate> keptByLarger = Set.copyOf(Retention.decide(c.snapshots(), larger, c.clock()).kept());
    assertTrue(keptByLarger.containsAll(kept), larger + " drops some of " + kept);
  }

  /** keep-within keeps a run of the newest snapshots, the newest included. */
  @Property(tries = 1000)
  void withinKeepsTheNewestRun(@ForAll("cases") Case c) {
    List<Verdict> verdicts = c.decide().verdicts();
    int run = 0;
    while (run < verdicts.size() && rules(verdicts.get(run)).contains(Rule.WITHIN)) {
      run++;
    }
    for (int i = run; i < verdicts.size(); i++) {
      assertTrue(!rules(verdicts.get(i)).contains(Rule.WITHIN), "within after a gap at " + i);
    }
    assertEquals(!c.policy().keepWithin().isZero() && !verdicts.isEmpty(), run > 0);
  }

  /** Agrees with a plain transcription of restic's ApplyPolicy (snapshot_policy.go). */
  @Property(tries = 1000)
  void keepsWhatResticKeeps(@ForAll("cases") Case c) {
    assertEquals(resticKeeps(c), Set.copyOf(c.decide().kept()));
  }

  /**
   * restic's walk as it is written there: a rule with count left keeps a snapshot whose bucket
   * differs from the previous one it kept, or the oldest snapshot. decide() remembers every bucket
   * instead, which gives the same result in zones like those above.
   */
  private static Set<Candidate> resticKeeps(Case c) {
    List<Candidate> list = new ArrayList<>(c.snapshots());
    list.sort(Retention.NEWEST_FIRST);
    RetentionPolicy p = c.policy();
    ZoneId zone = c.clock().getZone();
    int[] counts = {p.keepLast(), p.keepHourly(), p.keepDaily(), p.keepWeekly(), p.keepMonthly(), p.keepYearly()};
    List<Function<ZonedDateTime, Object>> bucketers = List.of(
        t -> t.toLocalDate().atTime(t.getHour(), 0),
        ZonedDateTime::toLocalDate,
        t -> t.get(IsoFields.WEEK_BASED_YEAR) * 100 + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR),
        t -> t.getYear() * 100 + t.getMonthValue(),
        ZonedDateTime::getYear);
    Object[] last = new Object[6];
    Instant latest = list.stream().map(Candidate::created).filter(t -> !t.isAfter(c.clock().instant()))
        .findFirst().orElse(null);
    Set<Candidate> keep = new HashSet<>();
    for (int nr = 0; nr < list.size(); nr++) {
      Candidate cur = list.get(nr);
      ZonedDateTime local = cur.created().atZone(zone);
      if (!p.keepWithin().isZero()
          && (latest == null || cur.created().isAfter(p.keepWithin().before(latest, zone)))) {
        keep.add(cur);
      }
      for (int i = 0; i < 6; i++) {
        if (counts[i] > 0 || counts[i] == RetentionPolicy.UNLIMITED) {
          Object val = i == 0 ? (Object) nr : bucketers.get(i - 1).apply(local);
          if (!Objects.equals(val, last[i]) || nr == list.size() - 1) {
            keep.add(cur);
            last[i] = val;
            if (counts[i] > 0) {
              counts[i]--;
            }
          }
        }
      }
    }
    return keep;
  }

  private static int count(RetentionPolicy p, Rule rule) {
    return switch (rule) {
      case LAST -> p.keepLast();
      case HOURLY -> p.keepHourly();
      case DAILY -> p.keepDaily();
      case WEEKLY -> p.keepWeekly();
      case MONTHLY -> p.keepMonthly();
      case YEARLY -> p.keepYearly();
      case WITHIN -> throw new IllegalArgumentException("within has no count");
    };
  }

  private static Set<Rule> rules(Verdict verdict) {
    Set<Rule> rules = new HashSet<>();
    verdict.reasons().forEach(r -> rules.add(r.rule()));
    return rules;
  }

  private static List<Candidate> snapshots(List<Verdict> verdicts) {
    return verdicts.stream().map(Verdict::snapshot).toList();
  }
}
