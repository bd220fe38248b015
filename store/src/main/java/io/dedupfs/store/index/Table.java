package io.dedupfs.store.index;

/** Tables of the index environment that other store packages read and write as bytes (FORMAT.md §6). */
public enum Table {
  META("meta"),
  INODES("inodes"),
  DIRENTS("dirents"),
  SYMLINKS("symlinks"),
  XATTRS("xattrs"),
  EXTENTS("extents");

  final String dbName;

  Table(String dbName) {
    this.dbName = dbName;
  }
}
