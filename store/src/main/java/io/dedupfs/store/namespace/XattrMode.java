package io.dedupfs.store.namespace;

/** How setting an extended attribute treats an existing one (setxattr's flags). */
public enum XattrMode {
  /** Create or replace. */
  EITHER,
  /** Fail if it exists (XATTR_CREATE). */
  CREATE,
  /** Fail if it does not exist (XATTR_REPLACE). */
  REPLACE
}
