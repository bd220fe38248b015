package io.dedupfs.store.namespace;

/**
 * A change of inode attributes (chmod, chown, utimens); null fields stay as they are. A file's
 * size belongs to its data and changes with its extents, not here.
 */
public record AttributeChange(Integer permissions, Integer uid, Integer gid, Long atimeNanos, Long mtimeNanos) {
  public static AttributeChange permissions(int mode) {
    return new AttributeChange(mode, null, null, null, null);
  }

  public static AttributeChange times(Long atimeNanos, Long mtimeNanos) {
    return new AttributeChange(null, null, null, atimeNanos, mtimeNanos);
  }

  /** This change followed by {@code later}, as one: a field {@code later} sets wins. */
  public AttributeChange then(AttributeChange later) {
    return new AttributeChange(later.permissions != null ? later.permissions : permissions,
        later.uid != null ? later.uid : uid, later.gid != null ? later.gid : gid,
        later.atimeNanos != null ? later.atimeNanos : atimeNanos,
        later.mtimeNanos != null ? later.mtimeNanos : mtimeNanos);
  }

  /** This change without its chmod. */
  public AttributeChange withoutPermissions() {
    return new AttributeChange(null, uid, gid, atimeNanos, mtimeNanos);
  }

  /** This change without its mtime. */
  public AttributeChange withoutMtime() {
    return new AttributeChange(permissions, uid, gid, atimeNanos, null);
  }

  /**
   * {@code inode} with this change made at {@code changedAtNanos}: the file type stays, and
   * ctime never goes back (a change applied after a later rename keeps the rename's ctime).
   */
  public Inode applyTo(Inode inode, long changedAtNanos) {
    return new Inode(inode.number(),
        permissions == null ? inode.mode() : (inode.mode() & Mode.S_IFMT) | (permissions & Mode.PERMISSIONS),
        uid == null ? inode.uid() : uid, gid == null ? inode.gid() : gid, inode.nlink(), inode.size(),
        atimeNanos == null ? inode.atimeNanos() : atimeNanos, mtimeNanos == null ? inode.mtimeNanos() : mtimeNanos,
        Math.max(inode.ctimeNanos(), changedAtNanos), inode.rdev(), inode.parent());
  }
}
