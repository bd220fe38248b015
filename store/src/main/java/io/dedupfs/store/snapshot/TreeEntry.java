package io.dedupfs.store.snapshot;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.TreeSource.Xattr;
import java.util.List;

/**
 * One Entry of a tree node (FORMAT.md §10.1): a name (null for a snapshot's root) and the inode
 * as it was, with its xattrs and the body its type has: a directory's tree id, a symlink's
 * target, or a regular file's extents, inline or as the id of an extent node.
 */
public record TreeEntry(Name name, Inode inode, List<Xattr> xattrs, ChunkId tree, byte[] target,
    List<Extent> inlineExtents, ChunkId extentNode) {

  public boolean isDirectory() {
    return inode.isDirectory();
  }

  public boolean isRegularFile() {
    return inode.type() == Mode.S_IFREG;
  }
}
