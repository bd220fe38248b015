package io.dedupfs.fs;

import java.nio.file.FileSystemException;

/**
 * Error text for log lines above debug, which name no file of the mount: whoever reads the log
 * (an administrator, journald) need not see the names of the files backed up. A path error's
 * path is left out; the path of an operation is logged at debug only.
 */
public final class Redaction {
  private Redaction() {}

  /** {@code error} as its class and message, less the paths a FileSystemException carries. */
  public static String withoutPaths(Throwable error) {
    if (error instanceof FileSystemException f) {
      return f.getClass().getName() + (f.getReason() != null ? ": " + f.getReason() : "");
    }
    return error.toString();
  }
}
