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
}
