package io.dedupfs.gc.retention;

/** Test shorthand for policies: {@code keep().daily(7).weekly(4).build()}. */
final class Policies {
  private int last;
  private int hourly;
  private int daily;
  private int weekly;
  private int monthly;
  private int yearly;
  private DurationSpec within = DurationSpec.ZERO;

  static Policies keep() {
    return new Policies();
  }

  Policies last(int n) {
    last = n;
    return this;
  }

  Policies hourly(int n) {
    hourly = n;
    return this;
  }

  Policies daily(int n) {
    daily = n;
    return this;
  }

  Policies weekly(int n) {
    weekly = n;
    return this;
  }

  Policies monthly(int n) {
    monthly = n;
    return this;
  }

  Policies yearly(int n) {
    yearly = n;
    return this;
  }

  Policies within(String period) {
    within = DurationSpec.parse(period);
    return this;
  }

  RetentionPolicy build() {
    return new RetentionPolicy(last, hourly, daily, weekly, monthly, yearly, within);
  }
}
