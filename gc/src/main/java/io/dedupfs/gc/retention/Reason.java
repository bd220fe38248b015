package io.dedupfs.gc.retention;

import java.util.Objects;

/**
 * Why a rule kept a snapshot. {@code detail} is the rank for {@link Rule#LAST} ({@code last 2}),
 * the local-time bucket for the calendar rules ({@code daily 2026-11-20}, {@code weekly 2026-W47},
 * with {@code (oldest)} appended when the rule kept the oldest snapshot because it had count left),
 * and the period for {@link Rule#WITHIN} ({@code within 7d}).
 */
public record Reason(Rule rule, String detail) {

  public Reason {
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(detail, "detail");
  }

  @Override
  public String toString() {
    return rule.label() + " " + detail;
  }
}
