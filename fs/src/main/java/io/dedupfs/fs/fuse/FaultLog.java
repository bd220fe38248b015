package io.dedupfs.fs.fuse;

import io.dedupfs.fs.Redaction;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;

/**
 * Logs each distinct fault (EIO, ENOSPC) once: a corrupt chunk read by every read of a large file
 * would otherwise flood the log. The error line names the chunk and pack but no file of the mount
 * ({@link Redaction}); the path and the stack trace follow at debug. Remembers the last 1024.
 */
final class FaultLog {
  private static final int REMEMBERED = 1024;
  private final Logger log;
  private final Map<String, Boolean> seen = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED;
    }
  };

  FaultLog(Logger log) {
    this.log = log;
  }

  void log(String op, String path, Throwable error) {
    String key = error.getClass().getName() + ": " + error.getMessage();
    synchronized (seen) {
      if (seen.put(key, Boolean.TRUE) != null) {
        return;
      }
    }
    log.error("{} failed: {}", op, Redaction.withoutPaths(error));
    log.debug("{} {} failed", op, path, error);
  }
}
