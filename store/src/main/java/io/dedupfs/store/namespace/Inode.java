package io.dedupfs.store.namespace;

/**
 * An inode of the live tree (FORMAT.md §6.1). Times are nanoseconds since the epoch; {@code parent}
 * is a directory's parent and 0 for anything else.
 */
public record Inode(
    long number, int mode, int uid, int gid, int nlink, long size, long atimeNanos, long mtimeNanos,
    long ctimeNanos, long rdev, long parent) {
  public Inode {
    if (number <= 0 || nlink < 0 || size < 0) {
      throw new IllegalArgumentException("invalid inode " + number);
    }
  }

  public boolean isDirectory() {
    return Mode.isDirectory(mode);
  }

  public int type() {
    return Mode.type(mode);
  }

  Inode withNlink(int n, long ctime) {
    return new Inode(number, mode, uid, gid, n, size, atimeNanos, mtimeNanos, ctime, rdev, parent);
  }

  Inode withMode(int m, long ctime) {
    return new Inode(number, m, uid, gid, nlink, size, atimeNanos, mtimeNanos, ctime, rdev, parent);
  }

  Inode withParent(long p, long ctime) {
    return new Inode(number, mode, uid, gid, nlink, size, atimeNanos, mtimeNanos, ctime, rdev, p);
  }

  Inode touched(long now) {
    return new Inode(number, mode, uid, gid, nlink, size, atimeNanos, now, now, rdev, parent);
  }
}
