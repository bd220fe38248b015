package io.dedupfs.store.snapshot;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.namespace.CachedTree;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.TreeSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Serializes the live tree, as one read transaction sees it, into tree nodes (FORMAT.md §10.1):
 * directories with a cached tree are reused as they are, the others are written children first.
 * Works without recursion (trees can be deeper than a thread's stack) and reads entries and
 * extents in pages, so memory holds the path being worked on, not the tree.
 */
final class TreeSerializer {
  private static final int PAGE = 1024;
  /** Files with at most this many extents keep them in their entry. */
  static final int INLINE_EXTENTS = 16;

  /** The root's entry and totals, and every directory serialized anew, for the tree cache. */
  record Result(TreeEntry root, CachedTree rootTree, Map<Long, CachedTree> serialized) {}

  private final TreeSource source;
  private final NodeBuilder.NodeStore store;
  private final Map<Long, CachedTree> serialized = new HashMap<>();

  TreeSerializer(TreeSource source, NodeBuilder.NodeStore store) {
    this.source = source;
    this.store = store;
  }

  Result serialize() throws IOException {
    CachedTree tree = treeOf(Namespace.ROOT);
    TreeEntry root = new TreeEntry(null, source.inode(Namespace.ROOT), source.xattrs(Namespace.ROOT), tree.tree(),
        null, null, null);
    return new Result(root, tree, serialized);
  }

  /** A directory walked depth first: {@code after} is the last entry looked at for subdirectories to do first. */
  private static final class Frame {
    final long directory;
    Name after;
    List<DirEntry> page = List.of();
    int next;

    Frame(long directory) {
      this.directory = directory;
    }
  }

  private CachedTree treeOf(long directory) throws IOException {
    Optional<CachedTree> cached = known(directory);
    if (cached.isPresent()) {
      return cached.get();
    }
    Deque<Frame> stack = new ArrayDeque<>();
    stack.push(new Frame(directory));
    while (!stack.isEmpty()) {
      Frame frame = stack.peek();
      Long todo = nextSubdirectoryToDo(frame);
      if (todo != null) {
        stack.push(new Frame(todo));
      } else {
        stack.pop();
        serialized.put(frame.directory, encode(frame.directory));
      }
    }
    return serialized.get(directory);
  }

  /** The next subdirectory of the frame's directory that has no tree yet, or null when all have one. */
  private Long nextSubdirectoryToDo(Frame frame) throws IOException {
    while (true) {
      if (frame.next == frame.page.size()) {
        frame.page = source.entries(frame.directory, frame.after, PAGE);
        frame.next = 0;
        if (frame.page.isEmpty()) {
          return null;
        }
      }
      DirEntry e = frame.page.get(frame.next++);
      frame.after = e.name();
      if (e.type() == Mode.S_IFDIR && known(e.inode()).isEmpty()) {
        return e.inode();
      }
    }
  }

  private Optional<CachedTree> known(long directory) throws IOException {
    CachedTree done = serialized.get(directory);
    return done != null ? Optional.of(done) : source.cachedTree(directory);
  }

  /** Writes a directory whose subdirectories all have trees. */
  private CachedTree encode(long directory) throws IOException {
    NodeBuilder nodes = new NodeBuilder(TreeNode.ENTRIES, TreeNode.ENTRY_INDEX, store);
    long bytes = 0;
    long files = 0;
    long directories = 0;
    for (List<DirEntry> page = source.entries(directory, null, PAGE); !page.isEmpty();
        page = source.entries(directory, page.get(page.size() - 1).name(), PAGE)) {
      for (DirEntry e : page) {
        Inode inode = source.inode(e.inode());
        TreeEntry entry = entryOf(e.name(), inode);
        if (inode.isDirectory()) {
          CachedTree sub = known(inode.number()).orElseThrow();
          bytes += sub.bytes();
          files += sub.files();
          directories += sub.directories() + 1;
        } else {
          files++;
          bytes += entry.isRegularFile() ? inode.size() : 0;
        }
        byte[] name = e.name().bytes();
        byte[] key = ByteBuffer.allocate(1 + name.length).put((byte) name.length).put(name).array();
        nodes.add(key, TreeCodec.encodeEntry(entry));
      }
    }
    return new CachedTree(nodes.finish(), bytes, files, directories);
  }

  private TreeEntry entryOf(Name name, Inode inode) throws IOException {
    List<TreeSource.Xattr> xattrs = source.xattrs(inode.number());
    return switch (inode.type()) {
      case Mode.S_IFDIR -> new TreeEntry(name, inode, xattrs, known(inode.number()).orElseThrow().tree(), null, null, null);
      case Mode.S_IFLNK -> new TreeEntry(name, inode, xattrs, null, source.symlinkTarget(inode.number()), null, null);
      case Mode.S_IFREG -> {
        List<Extent> first = source.extents(inode.number(), 0, INLINE_EXTENTS + 1);
        yield first.size() <= INLINE_EXTENTS
            ? new TreeEntry(name, inode, xattrs, null, null, first, null)
            : new TreeEntry(name, inode, xattrs, null, null, null, extentNodes(inode.number(), first));
      }
      default -> new TreeEntry(name, inode, xattrs, null, null, null, null);
    };
  }

  private ChunkId extentNodes(long inode, List<Extent> first) throws IOException {
    NodeBuilder nodes = new NodeBuilder(TreeNode.EXTENTS, TreeNode.EXTENT_INDEX, store);
    for (List<Extent> page = first; !page.isEmpty();
        page = source.extents(inode, page.get(page.size() - 1).fileOffset() + 1, PAGE)) {
      for (Extent x : page) {
        nodes.add(ByteBuffer.allocate(8).putLong(0, x.fileOffset()).array(), TreeCodec.encodeExtent(x));
      }
    }
    return nodes.finish();
  }
}
