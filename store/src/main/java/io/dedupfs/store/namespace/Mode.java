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
  public static final int S_ISUID = 04000;
  public static final int S_ISGID = 02000;
  private static final int S_IXGRP = 00010;
  /** Permission bits plus set-uid, set-gid and sticky. */
  public static final int PERMISSIONS = 07777;

  private Mode() {}

  public static int type(int mode) {
    return mode & S_IFMT;
  }

  public static boolean isDirectory(int mode) {
    return type(mode) == S_IFDIR;
  }

  /**
   * {@code mode} after a write by a caller who may not keep set-ID bits (it lacks CAP_FSETID):
   * set-uid goes, and set-gid when the group may execute. The rule Linux's FUSE client applies
   * to the writes it caches, so that every descriptor of a mount follows one rule (a local disk
   * also drops a set-gid without group execute when the writer is not in the file's group).
   */
  public static int afterUnprivilegedWrite(int mode) {
    int dropped = mode & ~S_ISUID;
    return (mode & S_IXGRP) != 0 ? dropped & ~S_ISGID : dropped;
  }
}
