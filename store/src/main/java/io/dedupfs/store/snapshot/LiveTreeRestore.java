package io.dedupfs.store.snapshot;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.namespace.DamagedRanges;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.Namespace.RestoredEntry;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Makes a snapshot the live tree again, in an index rebuilt from the packs (FORMAT.md §13): the
 * live tree lives only in the index, so a lost index leaves the newest snapshot as the best there
 * is. Inode numbers, attributes, xattrs, symlinks and hard links come back as they were; a
 * directory whose tree nodes are lost comes back empty and a file whose extent list is lost comes
 * back as a hole named in {@link DamagedRanges#XATTR}, each told to the {@link Losses}.
 */
public final class LiveTreeRestore {
  /** Entries entered per transaction: short transactions, whatever the size of a directory. */
  private static final int PAGE = 1024;

  /** Where the parts of the snapshot that could not be restored are told, by path. */
  @FunctionalInterface
  public interface Losses {
    void lost(String path, IOException why);
  }

  private final SnapshotReader trees;
  private final Namespace namespace;
  private final Losses losses;

  public LiveTreeRestore(SnapshotReader trees, Namespace namespace, Losses losses) {
    this.trees = trees;
    this.namespace = namespace;
    this.losses = losses;
  }

  private record Pending(TreeEntry directory, long inode, String path) {}

  /** Restores {@code snapshot} into a live tree that holds nothing but its root. */
  public void restore(SnapshotRecord snapshot) throws IOException {
    namespace.restoreRoot(snapshot.root().inode(), snapshot.root().xattrs());
    Deque<Pending> todo = new ArrayDeque<>();
    todo.push(new Pending(snapshot.root(), Namespace.ROOT, ""));
    while (!todo.isEmpty()) {
      Pending dir = todo.pop();
      Name after = null;
      for (List<TreeEntry> page; !(page = listOrNone(dir, after)).isEmpty(); after = page.get(page.size() - 1).name()) {
        List<RestoredEntry> entries = new ArrayList<>(page.size());
        for (TreeEntry e : page) {
          String path = dir.path() + "/" + e.name();
          entries.add(restored(e, path));
          if (e.isDirectory()) {
            todo.push(new Pending(e, e.inode().number(), path));
          }
        }
        namespace.restore(dir.inode(), entries);
      }
    }
  }

  private List<TreeEntry> listOrNone(Pending dir, Name after) throws IOException {
    try {
      return trees.list(dir.directory(), after, PAGE);
    } catch (ChunkNotFoundException | CorruptDataException e) {
      losses.lost(dir.path().isEmpty() ? "/" : dir.path(), e);
      return List.of();
    }
  }

  private RestoredEntry restored(TreeEntry e, String path) throws IOException {
    List<Extent> extents = List.of();
    List<DamagedRanges.Range> lost = List.of();
    if (e.isRegularFile() && e.inode().size() > 0) {
      try {
        extents = trees.extents(e, 0, e.inode().size());
      } catch (ChunkNotFoundException | CorruptDataException x) {
        losses.lost(path, x);
        lost = List.of(new DamagedRanges.Range(0, e.inode().size() - 1));
      }
    }
    return new RestoredEntry(e.name(), e.inode(), e.xattrs(), e.target(), extents, lost);
  }
}
