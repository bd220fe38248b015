package io.dedupfs.gc.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code --keep-within} syntax and how far back a period reaches in local calendar time. */
class DurationSpecTest {
  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

  @ParameterizedTest
  @CsvSource({
    "1y6m7d12h, 1, 6, 7, 12, 1y6m7d12h",
    "2y5m7d3h, 2, 5, 7, 3, 2y5m7d3h",
    "7d, 0, 0, 7, 0, 7d",
    "36h, 0, 0, 0, 36, 36h",
    "12m, 0, 12, 0, 0, 12m",
    "1y3h, 1, 0, 0, 3, 1y3h",
    "007d, 0, 0, 7, 0, 7d",
    "0d, 0, 0, 0, 0, 0h",
    "2147483647h, 0, 0, 0, 2147483647, 2147483647h",
  })
  void parsesRestic(String text, int years, int months, int days, int hours, String canonical) {
    DurationSpec spec = DurationSpec.parse(text);
    assertEquals(new DurationSpec(years, months, days, hours), spec);
    assertEquals(canonical, spec.toString());
    assertEquals(spec, DurationSpec.parse(spec.toString()), "toString parses back");
  }

  @ParameterizedTest
  @ValueSource(strings = {"5x", "", "7", "d", "1d2y", "1d1d", "-1d", "1.5d", " 7d", "7d ", "7D", "1w", "7 d",
      "1y-2m", "P7D", "７d"})
  void refusesWhatIsNotAPeriod(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DurationSpec.parse(text));
    assertEquals("--keep-within: '" + text + "' is not a duration like 1y6m7d12h", e.getMessage());
  }

  @Test
  void refusesNumbersBeyondAnInt() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DurationSpec.parse("2147483648h"));
    assertEquals("--keep-within: '2147483648h' has a number too large", e.getMessage());
  }

  @Test
  void refusesNegativeFields() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DurationSpec(0, 0, -1, 0));
    assertTrue(e.getMessage().startsWith("--keep-within: a period cannot be negative"), e.getMessage());
  }

  @Test
  void zero() {
    assertTrue(DurationSpec.ZERO.isZero());
    assertTrue(DurationSpec.parse("0y0m0d0h").isZero());
    assertTrue(!DurationSpec.parse("1h").isZero());
  }

  @Test
  void daysAreCalendarDaysAndHoursAreExact() {
    // 2026-03-29 has 23 hours in Berlin: a day back from noon that day is 23 hours back.
    Instant noon = at("2026-03-29T12:00+02:00");
    assertEquals(at("2026-03-28T12:00+01:00"), DurationSpec.parse("1d").before(noon, BERLIN));
    assertEquals(at("2026-03-28T11:00+01:00"), DurationSpec.parse("24h").before(noon, BERLIN));
    // 2026-10-25 has 25 hours.
    Instant evening = at("2026-10-25T20:00+01:00");
    assertEquals(at("2026-10-24T20:00+02:00"), DurationSpec.parse("1d").before(evening, BERLIN));
    assertEquals(at("2026-10-24T21:00+02:00"), DurationSpec.parse("24h").before(evening, BERLIN));
  }

  @Test
  void monthsClampToTheLastDayOfTheMonth() {
    Instant end = at("2026-03-31T12:00+02:00");
    assertEquals(at("2026-02-28T12:00+01:00"), DurationSpec.parse("1m").before(end, BERLIN));
    assertEquals(at("2024-02-29T12:00+01:00"), DurationSpec.parse("2y1m").before(end, BERLIN));
    assertEquals(at("2025-03-31T09:00+02:00"), DurationSpec.parse("1y3h").before(end, BERLIN));
  }

  @Test
  void aPeriodBeyondTheCalendarReachesBackToTheBeginningOfTime() {
    Instant end = at("2026-03-31T12:00+02:00");
    assertEquals(Instant.MIN, DurationSpec.parse("2147483647y2147483647m").before(end, BERLIN));
  }

  private static Instant at(String offsetDateTime) {
    return OffsetDateTime.parse(offsetDateTime).toInstant();
  }
}
