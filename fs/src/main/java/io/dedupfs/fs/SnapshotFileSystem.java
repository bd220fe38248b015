package io.dedupfs.fs;

import io.dedupfs.store.file.FileReader;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.NoSuchAttributeException;
import io.dedupfs.store.namespace.TreeSource.Xattr;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.SnapshotRecord;
import io.dedupfs.store.snapshot.Snapshots;
import io.dedupfs.store.snapshot.TreeEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code MOUNT/.snapshots}: a directory of snapshots, each a read-only directory holding the tree
 * as it was (FORMAT.md §10). Its nodes are numbered as {@link Snapshots#inodeInSnapshot} shows
 * them, all at or above {@link #DIRECTORY_INODE}. The kernel learns a node only from a lookup
 * and names it by number from then on, so each node it holds is kept here, with how many
 * lookups it has not yet forgotten. {@code mkdir}, {@code rmdir} and {@code rename} of a
 * snapshot take, delete and rename it; any other change gives EROFS. Thread-safe.
 */
final class SnapshotFileSystem {
  static final Name DIRECTORY = Name.of(".snapshots");
  /** {@code st_ino} of {@code .snapshots}: below every snapshot's numbers and above any live inode's in practice. */
  static final long DIRECTORY_INODE = (1L << Snapshots.INODE_BITS) - 1;
  /** Handles of snapshot files have this bit, so the live tree's handles never collide with them. */
  static final long HANDLE_BIT = 1L << 62;
  static final String READ_ONLY = "Read-only file system";

  private final Snapshots snapshots;
  private final SnapshotReader reader;
  private final FileReader files;
  private final Namespace namespace;
  private final Map<Long, Node> nodes = new ConcurrentHashMap<>();
  private final Map<Long, Located> open = new ConcurrentHashMap<>();
  private final AtomicLong nextHandle = new AtomicLong(HANDLE_BIT | 1);

  SnapshotFileSystem(Snapshots snapshots, SnapshotReader reader, FileReader files, Namespace namespace) {
    this.snapshots = snapshots;
    this.reader = reader;
    this.files = files;
    this.namespace = namespace;
  }

  static boolean owns(long handle) {
    return (handle & HANDLE_BIT) != 0;
  }

  static boolean isInView(long node) {
    return node >= DIRECTORY_INODE;
  }

  // ---------------------------------------------------------------- nodes

  /** An entry of a snapshot, with its snapshot: what a node or an open handle stands for. */
  private record Located(SnapshotRecord snapshot, TreeEntry entry) {
    long node() {
      return Snapshots.inodeInSnapshot(snapshot.number(), entry.inode().number());
    }

    /** The attributes shown for the entry: its own, with the node's number. */
    Inode shown() {
      Inode i = entry.inode();
      return new Inode(node(), i.mode(), i.uid(), i.gid(), i.nlink(), i.size(), i.atimeNanos(), i.mtimeNanos(),
          i.ctimeNanos(), i.rdev(), 0);
    }
  }

  /** A node the kernel holds, and how many of its lookups it has not forgotten. */
  private record Node(Located at, long lookups) {}

  /** The entry {@code name} in directory {@code parent}, counted as one more lookup of its node. */
  Optional<Inode> lookup(long parent, Name name) throws IOException {
    Optional<Located> found;
    if (parent == DIRECTORY_INODE) {
      found = snapshots.find(name).map(r -> new Located(r, r.root()));
    } else {
      Located dir = directory(parent);
      found = reader.lookup(dir.entry, name).map(e -> new Located(dir.snapshot, e));
    }
    return found.map(this::lookedUp);
  }

  /** Counts one more lookup of a node; its attributes as shown. */
  private Inode lookedUp(Located at) {
    nodes.merge(at.node(), new Node(at, 1), (old, one) -> new Node(old.at, old.lookups + 1));
    return at.shown();
  }

  /**
   * Up to {@code limit} entries of a directory after {@code after}, with their attributes, each
   * counted as one more lookup of its node, as readdirplus gives them to the kernel.
   */
  List<LiveFileSystem.Listed> listLookedUp(long node, Name after, int limit) throws IOException {
    List<LiveFileSystem.Listed> out = new ArrayList<>();
    for (Child c : children(node, after, limit)) {
      out.add(new LiveFileSystem.Listed(c.name, lookedUp(c.at)));
    }
    return out;
  }

  /** An entry of a directory of the view: a snapshot in {@code .snapshots}, or an entry of a snapshot's directory. */
  private record Child(Name name, Located at) {}

  /** Up to {@code limit} entries of a directory of the view after {@code after}, in name order. */
  private List<Child> children(long node, Name after, int limit) throws IOException {
    List<Child> out = new ArrayList<>();
    if (node == DIRECTORY_INODE) {
      snapshots.list().stream()
          .filter(r -> after == null || r.name().compareTo(after) > 0)
          .sorted((a, b) -> a.name().compareTo(b.name()))
          .limit(limit)
          .forEach(r -> out.add(new Child(r.name(), new Located(r, r.root()))));
      return out;
    }
    Located at = directory(node);
    for (TreeEntry e : reader.list(at.entry, after, limit)) {
      out.add(new Child(e.name(), new Located(at.snapshot, e)));
    }
    return out;
  }

  /** The kernel dropped {@code lookups} of its references to {@code node}; at none left, it is forgotten here too. */
  void forget(long node, long lookups) {
    nodes.computeIfPresent(node, (n, held) -> held.lookups <= lookups ? null : new Node(held.at, held.lookups - lookups));
  }

  private Located located(long node) throws NoSuchFileException {
    Node held = nodes.get(node);
    if (held == null) {
      // The kernel names only nodes it looked up; one deleted meanwhile is gone.
      throw new NoSuchFileException("snapshot node " + node);
    }
    return held.at;
  }

  private Located directory(long node) throws IOException {
    Located at = located(node);
    if (!at.entry.isDirectory()) {
      throw new FileSystemException("snapshot node " + node, null, "Not a directory");
    }
    return at;
  }

  // ---------------------------------------------------------------- reading

  Inode getattr(long node) throws IOException {
    if (node == DIRECTORY_INODE) {
      // Owned by root like the tree's root, read and search for all, its times the newest snapshot's.
      List<SnapshotRecord> all = snapshots.list();
      long time = all.isEmpty() ? namespace.getattr(Namespace.ROOT).ctimeNanos() : all.get(all.size() - 1).createdNanos();
      return new Inode(DIRECTORY_INODE, Mode.S_IFDIR | 0555, 0, 0, 2 + all.size(), 0, time, time, time, 0, 0);
    }
    return located(node).shown();
  }

  List<DirEntry> list(long node, Name after, int limit) throws IOException {
    List<DirEntry> out = new ArrayList<>();
    for (Child c : children(node, after, limit)) {
      out.add(new DirEntry(c.name, c.at.node(), c.at.entry.inode().type()));
    }
    return out;
  }

  byte[] readlink(long node) throws IOException {
    TreeEntry e = located(node).entry;
    if (e.target() == null) {
      throw new FileSystemException("snapshot node " + node, null, "Invalid argument");
    }
    return e.target();
  }

  byte[] getXattr(long node, byte[] name) throws IOException {
    for (Xattr x : xattrs(node)) {
      if (Arrays.equals(x.name(), name)) {
        return x.value();
      }
    }
    throw new NoSuchAttributeException("snapshot node " + node, new String(name, java.nio.charset.StandardCharsets.UTF_8));
  }

  List<byte[]> listXattrs(long node) throws IOException {
    List<byte[]> names = new ArrayList<>();
    xattrs(node).forEach(x -> names.add(x.name()));
    return names;
  }

  private List<Xattr> xattrs(long node) throws IOException {
    return node == DIRECTORY_INODE ? List.of() : located(node).entry.xattrs();
  }

  long open(long node, boolean forWriting) throws IOException {
    if (forWriting) {
      throw new FileSystemException("snapshot node " + node, null, READ_ONLY);
    }
    if (node == DIRECTORY_INODE) {
      throw new FileSystemException(DIRECTORY.toString(), null, "Is a directory");
    }
    Located at = located(node);
    if (at.entry.isDirectory()) {
      throw new FileSystemException("snapshot node " + node, null, "Is a directory");
    }
    long handle = nextHandle.getAndIncrement();
    open.put(handle, at);
    return handle;
  }

  int read(long handle, long offset, ByteBuffer dst) throws IOException {
    TreeEntry e = file(handle).entry;
    if (!e.isRegularFile()) {
      throw new FileSystemException("handle " + handle, null, "Invalid argument");
    }
    long size = e.inode().size();
    long length = Math.max(0, Math.min(dst.remaining(), size - offset));
    return files.read(new Namespace.FileRange(size, reader.extents(e, offset, length)), offset, dst);
  }

  void release(long handle) {
    open.remove(handle);
  }

  private Located file(long handle) throws FileSystemException {
    Located e = open.get(handle);
    if (e == null) {
      throw new FileSystemException("handle " + handle, null, "Bad file descriptor");
    }
    return e;
  }

  // ---------------------------------------------------------------- changing the set of snapshots

  /** Takes a snapshot named {@code name}: its root is then looked up, as for any new directory. */
  Inode mkdir(long parent, Name name) throws IOException, InterruptedException {
    requireDirectory(parent, name);
    snapshots.create(name);
    return lookup(DIRECTORY_INODE, name).orElseThrow(() -> new NoSuchFileException(name.toString()));
  }

  void rmdir(long parent, Name name) throws IOException {
    requireDirectory(parent, name);
    snapshots.delete(name);
  }

  void rename(long parent, Name name, long newParent, Name newName) throws IOException {
    requireDirectory(parent, name);
    requireDirectory(newParent, newName);
    snapshots.rename(name, newName);
  }

  /** Snapshots are the entries of {@code .snapshots}; below them nothing changes. */
  private static void requireDirectory(long parent, Name name) throws FileSystemException {
    if (parent != DIRECTORY_INODE) {
      throw readOnly(name);
    }
  }

  static FileSystemException readOnly(Name name) {
    return new FileSystemException(name.toString(), null, READ_ONLY);
  }
}
