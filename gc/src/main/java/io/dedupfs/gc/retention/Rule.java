package io.dedupfs.gc.retention;

/** The rules of a {@link RetentionPolicy}, in the order a {@link Verdict} lists its reasons. */
public enum Rule {
  LAST("--keep-last", "last"),
  HOURLY("--keep-hourly", "hourly"),
  DAILY("--keep-daily", "daily"),
  WEEKLY("--keep-weekly", "weekly"),
  MONTHLY("--keep-monthly", "monthly"),
  YEARLY("--keep-yearly", "yearly"),
  WITHIN("--keep-within", "within");

  private final String option;
  private final String label;

  Rule(String option, String label) {
    this.option = option;
    this.label = label;
  }

  /** The command-line option that sets this rule, for messages. */
  public String option() {
    return option;
  }

  /** The word a reason starts with, e.g. {@code daily}. */
  public String label() {
    return label;
  }
}
