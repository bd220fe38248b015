package io.dedupfs.gc;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.namespace.DamagedRanges;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.TreeSource;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import io.dedupfs.store.snapshot.TreeEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The second step of a repair (FORMAT.md §13): every reference checked against the repaired index,
 * by path, so that lost data is named where people look for it (an orphan, which has no path, by
 * its inode number). In the live tree, lost extents become holes listed in the file's {@link
 * DamagedRanges#XATTR}; snapshots are immutable, so their lost parts are only reported (reading
 * them fails with EIO); cached trees that are not whole are dropped. A tree found whole is
 * remembered (a bounded number of them), so snapshots that share subtrees cost about their
 * differences.
 */
final class LostDataScan {
  private static final int PAGE = 1024;
  /** Chunk ids named in one line of the report; the rest are counted. */
  private static final int CHUNKS_NAMED = 3;

  private final ChunkIndex index;
  private final Namespace namespace;
  private final SnapshotReader trees;
  private final Map<ChunkId, PackNumber> formerPacks;
  private final Set<ChunkId> wholeTrees;
  private long references;

  /** Where the lost parts of a tree are told: a path, and what of it is lost. */
  @FunctionalInterface
  private interface Lost {
    void at(String path, String what);
  }

  /** {@code formerPacks}: the packs that lost chunks were in, as far as the repair knows. */
  LostDataScan(ChunkIndex index, Namespace namespace, SnapshotReader trees, Map<ChunkId, PackNumber> formerPacks) {
    this.index = index;
    this.namespace = namespace;
    this.trees = trees;
    this.formerPacks = formerPacks;
    this.wholeTrees = ReferenceMarker.recentTreeIds();
  }

  /** References looked up so far. */
  long references() {
    return references;
  }

  private boolean present(ChunkId id) throws IOException {
    references++;
    return index.find(id).isPresent() || index.findFossil(id).isPresent();
  }

  private record DamagedFile(List<Extent> lost, List<String> paths) {}

  private record Pending(long directory, String path) {}

  /** Makes holes of the live files' lost extents, each file's told to {@code losses}. */
  void liveTree(Findings losses) throws IOException {
    Map<Long, DamagedFile> damaged = namespace.readTree(this::damagedFiles);
    for (Map.Entry<Long, DamagedFile> f : damaged.entrySet()) {
      List<DamagedRanges.Range> holes = namespace.markLost(f.getKey(), f.getValue().lost());
      if (!holes.isEmpty()) {
        losses.add("live tree: " + String.join(", ", f.getValue().paths()) + ": bytes " + joined(holes) + " lost ("
            + chunks(f.getValue().lost()) + "): now holes, listed in xattr "
            + new String(DamagedRanges.XATTR, StandardCharsets.US_ASCII));
      }
    }
  }

  private Map<Long, DamagedFile> damagedFiles(TreeSource source) throws IOException {
    Map<Long, DamagedFile> damaged = new LinkedHashMap<>();
    Deque<Pending> todo = new ArrayDeque<>();
    todo.push(new Pending(Namespace.ROOT, ""));
    while (!todo.isEmpty()) {
      Pending dir = todo.pop();
      Name after = null;
      for (List<DirEntry> page; !(page = source.entries(dir.directory(), after, PAGE)).isEmpty();
          after = page.get(page.size() - 1).name()) {
        for (DirEntry e : page) {
          String path = dir.path() + "/" + e.name();
          if (e.type() == Mode.S_IFDIR) {
            todo.push(new Pending(e.inode(), path));
          } else if (damaged.containsKey(e.inode())) {
            damaged.get(e.inode()).paths().add(path);
          } else if (e.type() == Mode.S_IFREG) {
            addIfDamaged(source, e.inode(), path, damaged);
          }
        }
      }
    }
    // An open file whose names are gone is still read and written through its inode number.
    for (long orphan : source.orphans()) {
      addIfDamaged(source, orphan, "inode " + orphan + " (open, its names gone)", damaged);
    }
    return damaged;
  }

  private void addIfDamaged(TreeSource source, long inode, String path, Map<Long, DamagedFile> damaged)
      throws IOException {
    List<Extent> lost = lostExtents(source, inode);
    if (!lost.isEmpty()) {
      damaged.put(inode, new DamagedFile(lost, new ArrayList<>(List.of(path))));
    }
  }

  private List<Extent> lostExtents(TreeSource source, long inode) throws IOException {
    List<Extent> lost = new ArrayList<>();
    long from = 0;
    for (List<Extent> page; !(page = source.extents(inode, from, PAGE)).isEmpty();
        from = page.get(page.size() - 1).fileOffset() + 1) {
      for (Extent e : page) {
        if (!present(e.chunk())) {
          lost.add(e);
        }
      }
    }
    return lost;
  }

  /** Drops the cached trees that are not whole; returns the directories whose tree was dropped. */
  List<Long> treeCache() throws IOException {
    List<Long> notWhole = namespace.readTree(source -> {
      List<Long> out = new ArrayList<>();
      source.cachedTrees((directory, tree) -> {
        // What a cached tree lost, the live tree or a snapshot that shares it has reported.
        if (!whole(tree.tree(), "", (path, what) -> { })) {
          out.add(directory);
        }
      });
      return out;
    });
    for (long directory : notWhole) {
      namespace.forgetCachedTree(directory);
    }
    return notWhole;
  }

  /** Tells {@code losses} each path of the snapshot whose data is lost. */
  void snapshot(SnapshotRecord s, Findings losses) throws IOException {
    whole(s.root().tree(), "", (path, what) -> losses.add("snapshot " + s.name() + ": " + path + ": " + what));
  }

  private boolean whole(ChunkId tree, String path, Lost lost) throws IOException {
    if (wholeTrees.contains(tree)) {
      return true;
    }
    boolean whole = true;
    try {
      Name after = null;
      for (List<TreeEntry> page; !(page = trees.list(tree, after, PAGE)).isEmpty();
          after = page.get(page.size() - 1).name()) {
        for (TreeEntry e : page) {
          String below = path + "/" + e.name();
          if (e.isDirectory()) {
            whole &= whole(e.tree(), below, lost);
          } else if (e.isRegularFile()) {
            whole &= fileWhole(e, below, lost);
          }
        }
      }
    } catch (ChunkNotFoundException | CorruptDataException e) {
      lost.at(path.isEmpty() ? "/" : path, "the directory cannot be read, nor anything below it (" + e.getMessage() + ")");
      return false;
    }
    if (whole) {
      wholeTrees.add(tree);
    }
    return whole;
  }

  private boolean fileWhole(TreeEntry file, String path, Lost lost) throws IOException {
    List<Extent> extents;
    try {
      extents = trees.extents(file, 0, file.inode().size());
    } catch (ChunkNotFoundException | CorruptDataException e) {
      lost.at(path, "its extent list cannot be read, nor any of its bytes (" + e.getMessage() + ")");
      return false;
    }
    List<Extent> missing = new ArrayList<>();
    for (Extent e : extents) {
      if (!present(e.chunk())) {
        missing.add(e);
      }
    }
    if (!missing.isEmpty()) {
      lost.at(path, "bytes " + joined(missing.stream().map(e -> new DamagedRanges.Range(e.fileOffset(), e.end() - 1))
          .toList()) + " lost (" + chunks(missing) + "): reading them fails");
    }
    return missing.isEmpty();
  }

  private static String joined(List<DamagedRanges.Range> ranges) {
    return String.join(",", ranges.stream().map(DamagedRanges.Range::toString).toList());
  }

  /** The lost extents' chunks, each with the pack it was in when the repair knows it. */
  private String chunks(List<Extent> lost) {
    Set<ChunkId> ids = new LinkedHashSet<>();
    lost.forEach(e -> ids.add(e.chunk()));
    List<String> named = new ArrayList<>();
    for (ChunkId id : ids) {
      if (named.size() == CHUNKS_NAMED) {
        named.add("and " + (ids.size() - CHUNKS_NAMED) + " more");
        break;
      }
      PackNumber p = formerPacks.get(id);
      named.add("chunk " + id + (p == null ? ", in no pack" : ", was in pack " + p));
    }
    return String.join("; ", named);
  }
}
