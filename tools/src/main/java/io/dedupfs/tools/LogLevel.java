package io.dedupfs.tools;

/** The levels {@code --log-level} takes; paths of files in the mount are logged only from DEBUG on. */
enum LogLevel {
  ERROR, WARN, INFO, DEBUG, TRACE
}
