package io.dedupfs.store.index;

/** The named databases of the index environment (FORMAT.md §6), read and written as bytes. */
public enum Table {
  CHUNKS("chunks"),
  PACKS("packs"),
  META("meta"),
  INODES("inodes"),
  DIRENTS("dirents"),
  SYMLINKS("symlinks"),
  XATTRS("xattrs"),
  EXTENTS("extents"),
  LINKS("links"),
  TREES("trees"),
  FOSSILS("fossils"),
  ORPHANS("orphans");

  final String dbName;

  Table(String dbName) {
    this.dbName = dbName;
  }
}
