package io.dedupfs.gc.retention;

import static io.dedupfs.gc.retention.Policies.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Validation of the rules, and the values the count options take. */
class RetentionPolicyTest {

  @Test
  void refusesAPolicyWithNoRule() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> keep().build());
    assertEquals("no --keep rule given: that would delete every snapshot", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> keep().within("0d").build(), "a zero period is no rule");
  }

  @Test
  void anyOneRuleIsEnough() {
    keep().last(1).build();
    keep().hourly(1).build();
    keep().daily(1).build();
    keep().weekly(1).build();
    keep().monthly(1).build();
    keep().yearly(1).build();
    keep().within("1h").build();
    keep().daily(RetentionPolicy.UNLIMITED).build();
  }

  @Test
  void refusesCountsBelowUnlimited() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> keep().weekly(-2).build());
    assertEquals("--keep-weekly is -2: a count is 0 or more, or unlimited", e.getMessage());
  }

  @Test
  void refusesAMissingPeriod() {
    assertThrows(NullPointerException.class, () -> new RetentionPolicy(1, 0, 0, 0, 0, 0, null));
  }

  @ParameterizedTest
  @CsvSource({"0, 0", "7, 7", "007, 7", "999999999, 999999999", "unlimited, -1", "-1, -1"})
  void parsesCounts(String text, int count) {
    assertEquals(count, RetentionPolicy.parseCount(Rule.DAILY, text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "x", "-2", "1.5", " 7", "+7", "Unlimited", "all", "1000000000", "99999999999"})
  void refusesWhatIsNotACount(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.parseCount(Rule.MONTHLY, text));
    assertEquals("--keep-monthly: '" + text + "' is not a count (a number of 0 or more, or unlimited)",
        e.getMessage());
  }
}
