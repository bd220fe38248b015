package io.dedupfs.store.namespace;

/** The {@code st_mode} bits the namespace interprets (values as in Linux's sys/stat.h). */
public final class Mode {
  public static final int S_IFMT = 0170000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFIFO = 0010000;
  public static final int S_ISGID = 02000;
  /** Permission bits plus set-uid, set-gid and sticky. */
  public static final int PERMISSIONS = 07777;

  private Mode() {}

  public static int type(int mode) {
    return mode & S_IFMT;
  }

  public static boolean isDirectory(int mode) {
    return type(mode) == S_IFDIR;
  }
}
