package io.dedupfs.tools;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.Duration;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Where log lines go and from which level. logback.xml sends them to stderr (commands, and
 * {@code mount --foreground}, whose stderr journald keeps under systemd); the filesystem process
 * of a background mount sends them to the repository's log instead, rotated so that it stays
 * bounded: the file and {@value #OLD_FILES} older ones, each rotated at {@value #DEFAULT_FILE_SIZE}.
 */
final class Logging {
  static final String LEVEL_VARIABLE = "DEDUPFS_LOG_LEVEL";
  /** Overrides the rotation size (a logback size such as 64KB), so that a test can see rotation. */
  static final String FILE_SIZE_PROPERTY = "dedupfs.log.fileSize";
  static final String DEFAULT_FILE_SIZE = "10MB";
  static final int OLD_FILES = 3;
  /**
   * The file's size is looked at before every line (a stat, small beside formatting and writing
   * the line), so that a file ends within one line of the size; logback's default, once a minute,
   * lets a minute of debug lines overshoot by any amount.
   */
  private static final Duration SIZE_CHECK_INTERVAL = Duration.buildByMilliseconds(0);
  private static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";

  private Logging() {}

  /** The level {@code chosen} by --log-level, else $DEDUPFS_LOG_LEVEL, else {@code otherwise}. */
  static void setLevel(LogLevel chosen, LogLevel otherwise) {
    String variable = System.getenv(LEVEL_VARIABLE);
    Level fallback = Level.toLevel(otherwise.name());
    Level level = chosen != null ? Level.toLevel(chosen.name())
        : variable != null && !variable.isBlank() ? Level.toLevel(variable, fallback) : fallback;
    root().setLevel(level);
  }

  /** From now on, log lines go to {@code file} (rotated to file.1 ... file.N) and nowhere else. */
  static void toRotatedFile(Path file) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(context);
    appender.setName("repository");
    appender.setFile(file.toString());

    FixedWindowRollingPolicy rotation = new FixedWindowRollingPolicy();
    rotation.setContext(context);
    rotation.setParent(appender);
    rotation.setFileNamePattern(file + ".%i");
    rotation.setMinIndex(1);
    rotation.setMaxIndex(OLD_FILES);
    rotation.start();

    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(FileSize.valueOf(System.getProperty(FILE_SIZE_PROPERTY, DEFAULT_FILE_SIZE)));
    trigger.setCheckIncrement(SIZE_CHECK_INTERVAL);
    trigger.start();

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();

    appender.setRollingPolicy(rotation);
    appender.setTriggeringPolicy(trigger);
    appender.setEncoder(encoder);
    appender.start();
    Logger root = root();
    root.detachAndStopAllAppenders();
    root.addAppender(appender);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
