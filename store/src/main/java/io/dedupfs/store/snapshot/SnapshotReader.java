package io.dedupfs.store.snapshot;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.cache.BoundedCache;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.IndexSealing;
import io.dedupfs.store.chunk.ChunkIdSink;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.read.ChunkReader;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Browses snapshots: looks names up, lists directories in pages and finds a file's extents by
 * descending tree nodes (FORMAT.md §10.1), never loading more of a snapshot than the path asked
 * for. Decoded nodes are kept in a cache bounded in bytes. Thread-safe.
 */
public final class SnapshotReader {
  private final ChunkReader chunks;
  /** What orders a directory's entries: the names, or in an encrypted repository their tokens. */
  private final IndexSealing order;
  private final BoundedCache<ChunkId, TreeNode> cache;

  public SnapshotReader(ChunkReader chunks, long cacheBytes) {
    this.chunks = chunks;
    this.order = chunks.index().sealing();
    this.cache = new BoundedCache<>(cacheBytes, TreeNode::weight);
  }

  /** The entry reached from {@code start} (a directory) through {@code path}. */
  public TreeEntry resolve(TreeEntry start, List<Name> path) throws IOException {
    TreeEntry at = start;
    for (Name name : path) {
      if (!at.isDirectory()) {
        throw new FileSystemException(name.toString(), null, "Not a directory");
      }
      at = lookup(at, name).orElseThrow(() -> new NoSuchFileException(name.toString()));
    }
    return at;
  }

  public Optional<TreeEntry> lookup(TreeEntry directory, Name name) throws IOException {
    TreeNode node = node(directory.tree());
    byte[] key = order.entryOrderKey(name.bytes());
    while (node.type() == TreeNode.ENTRY_INDEX) {
      int k = node.search(key, order);
      int child = k >= 0 ? k : -k - 2;
      if (child < 0) {
        return Optional.empty();
      }
      node = node(node.child(child));
    }
    requireType(node, TreeNode.ENTRIES);
    int k = node.search(key, order);
    return k >= 0 ? Optional.of(node.entry(k)) : Optional.empty();
  }

  /**
   * Up to {@code limit} entries of a directory after {@code after} (null: from the start), in the
   * order of {@link IndexSealing#entryOrderKey}.
   */
  public List<TreeEntry> list(TreeEntry directory, Name after, int limit) throws IOException {
    return list(directory.tree(), after, limit);
  }

  /** Up to {@code limit} entries of the directory whose tree id is {@code tree}, after {@code after}. */
  public List<TreeEntry> list(ChunkId tree, Name after, int limit) throws IOException {
    List<TreeEntry> out = new ArrayList<>();
    collect(tree, after, limit, out);
    return out;
  }

  private void collect(ChunkId id, Name after, int limit, List<TreeEntry> out) throws IOException {
    TreeNode node = node(id);
    int k = after == null ? -1 : node.search(order.entryOrderKey(after.bytes()), order);
    if (node.type() == TreeNode.ENTRY_INDEX) {
      // The child that may hold names just after `after`: the one whose first name is at most it.
      for (int c = after == null ? 0 : Math.max(0, k >= 0 ? k : -k - 2); c < node.count() && out.size() < limit; c++) {
        collect(node.child(c), after, limit, out);
      }
      return;
    }
    requireType(node, TreeNode.ENTRIES);
    for (int e = after == null ? 0 : (k >= 0 ? k + 1 : -k - 1); e < node.count() && out.size() < limit; e++) {
      out.add(node.entry(e));
    }
  }

  /** A regular file's extents overlapping {@code [offset, offset + length)}, clipped to it, in order. */
  public List<Extent> extents(TreeEntry file, long offset, long length) throws IOException {
    long end = offset + length;
    List<Extent> out = new ArrayList<>();
    if (length <= 0) {
      return out;   // as Namespace.read: an empty range has no extents (clip would make empty ones)
    }
    if (file.extentNode() == null) {
      for (Extent e : file.inlineExtents()) {
        if (e.end() > offset && e.fileOffset() < end) {
          out.add(e.clip(offset, end));
        }
      }
    } else {
      collectExtents(file.extentNode(), offset, end, out);
    }
    return out;
  }

  /** Returns false once an extent at or past {@code end} is seen: nothing after it matters. */
  private boolean collectExtents(ChunkId id, long offset, long end, List<Extent> out) throws IOException {
    TreeNode node = node(id);
    int from = Math.max(0, node.floor(offset));
    if (node.type() == TreeNode.EXTENT_INDEX) {
      for (int c = from; c < node.count(); c++) {
        if (node.firstOffset(c) >= end || !collectExtents(node.child(c), offset, end, out)) {
          return false;
        }
      }
      return true;
    }
    requireType(node, TreeNode.EXTENTS);
    for (int k = from; k < node.count(); k++) {
      Extent e = node.extent(k);
      if (e.fileOffset() >= end) {
        return false;
      }
      if (e.end() > offset) {
        out.add(e.clip(offset, end));
      }
    }
    return true;
  }

  /**
   * Hands {@code sink} every chunk a tree reaches: its nodes, and its files' extent nodes and data
   * chunks (repeats included). A node in {@code seen} is not walked again, so trees that share
   * subtrees cost about their differences; {@code seen} may forget, which only costs time.
   */
  public void walk(ChunkId tree, ChunkIdSink sink, Seen seen) throws IOException {
    java.util.ArrayDeque<ChunkId> todo = new java.util.ArrayDeque<>();
    todo.push(tree);
    while (!todo.isEmpty()) {
      ChunkId id = todo.pop();
      sink.accept(id);
      if (!seen.firstTime(id)) {
        continue;
      }
      // Read without the cache: a walk touches each node once and would only push browsing's nodes out.
      TreeNode node = TreeNode.parse(id, chunks.readBytes(id));
      for (int k = 0; k < node.count(); k++) {
        switch (node.type()) {
          case TreeNode.ENTRY_INDEX, TreeNode.EXTENT_INDEX -> todo.push(node.child(k));
          case TreeNode.EXTENTS -> sink.accept(node.extent(k).chunk());
          default -> {
            TreeEntry e = node.entry(k);
            if (e.isDirectory()) {
              todo.push(e.tree());
            } else if (e.extentNode() != null) {
              todo.push(e.extentNode());
            } else if (e.inlineExtents() != null) {
              for (Extent x : e.inlineExtents()) {
                sink.accept(x.chunk());
              }
            }
          }
        }
      }
    }
  }

  /** The tree nodes a walk has been through. */
  @FunctionalInterface
  public interface Seen {
    /** True the first time {@code node} is asked about (or when it was forgotten since). */
    boolean firstTime(ChunkId node);
  }

  private TreeNode node(ChunkId id) throws IOException {
    TreeNode node = cache.get(id);
    if (node == null) {
      node = TreeNode.parse(id, chunks.readBytes(id));
      cache.put(id, node);
    }
    return node;
  }

  private static void requireType(TreeNode node, int type) throws CorruptDataException {
    if (node.type() != type) {
      throw new CorruptDataException("tree node " + node.id().hex() + " has type " + node.type() + " where type "
          + type + " belongs");
    }
  }
}
