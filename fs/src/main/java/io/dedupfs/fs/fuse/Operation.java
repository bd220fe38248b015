package io.dedupfs.fs.fuse;

import java.util.Locale;

/**
 * The libfuse operations {@link FuseAdapter} serves, each named as in libfuse's {@code
 * fuse_lowlevel_ops}, for the logs and for the request counters.
 */
enum Operation {
  LOOKUP, FORGET, GETATTR, SETATTR, STATFS,
  MKNOD, MKDIR, SYMLINK, READLINK, UNLINK, RMDIR, RENAME, LINK,
  OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR,
  CREATE, OPEN, READ(true), WRITE(true), FALLOCATE, FLUSH, FSYNC, RELEASE,
  SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR;

  final String label = name().toLowerCase(Locale.ROOT);
  /** A non-negative reply is the number of bytes of file data moved. */
  final boolean movesData;

  Operation() {
    this(false);
  }

  Operation(boolean movesData) {
    this.movesData = movesData;
  }
}
