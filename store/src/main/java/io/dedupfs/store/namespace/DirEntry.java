package io.dedupfs.store.namespace;

/** One entry of a directory listing: name, inode number and file type ({@code S_IFMT} bits). */
public record DirEntry(Name name, long inode, int type) {}
