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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code MOUNT/.snapshots}: a directory of snapshots, each a read-only directory holding the tree
 * as it was (FORMAT.md §10). Paths here are relative to {@code .snapshots}: the first name is a
 * snapshot's. {@code mkdir}, {@code rmdir} and {@code rename} of a snapshot take, delete and
 * rename it; any other change gives EROFS. Thread-safe.
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

  // ---------------------------------------------------------------- reading

  Inode getattr(List<Name> path) throws IOException {
    if (path.isEmpty()) {
      // Owned by root like the tree's root, read and search for all, its times the newest snapshot's.
      List<SnapshotRecord> all = snapshots.list();
      long time = all.isEmpty() ? namespace.getattr(Namespace.ROOT).ctimeNanos() : all.get(all.size() - 1).createdNanos();
      return new Inode(DIRECTORY_INODE, Mode.S_IFDIR | 0555, 0, 0, 2 + all.size(), 0, time, time, time, 0, 0);
    }
    Located at = locate(path);
    return shown(at.snapshot, at.entry);
  }

  List<DirEntry> list(List<Name> path, Name after, int limit) throws IOException {
    if (path.isEmpty()) {
      List<DirEntry> out = new ArrayList<>();
      snapshots.list().stream()
          .filter(r -> after == null || r.name().compareTo(after) > 0)
          .sorted((a, b) -> a.name().compareTo(b.name()))
          .limit(limit)
          .forEach(r -> out.add(new DirEntry(r.name(), Snapshots.inodeInSnapshot(r.number(), r.root().inode().number()),
              Mode.S_IFDIR)));
      return out;
    }
    Located at = directory(path);
    List<DirEntry> out = new ArrayList<>();
    for (TreeEntry e : reader.list(at.entry, after, limit)) {
      out.add(new DirEntry(e.name(), Snapshots.inodeInSnapshot(at.snapshot.number(), e.inode().number()),
          e.inode().type()));
    }
    return out;
  }

  byte[] readlink(List<Name> path) throws IOException {
    TreeEntry e = locate(path).entry;
    if (e.target() == null) {
      throw new FileSystemException(path.toString(), null, "Invalid argument");
    }
    return e.target();
  }

  byte[] getXattr(List<Name> path, byte[] name) throws IOException {
    for (Xattr x : xattrs(path)) {
      if (Arrays.equals(x.name(), name)) {
        return x.value();
      }
    }
    throw new NoSuchAttributeException(path.toString(), new String(name, java.nio.charset.StandardCharsets.UTF_8));
  }

  List<byte[]> listXattrs(List<Name> path) throws IOException {
    List<byte[]> names = new ArrayList<>();
    xattrs(path).forEach(x -> names.add(x.name()));
    return names;
  }

  private List<Xattr> xattrs(List<Name> path) throws IOException {
    return path.isEmpty() ? List.of() : locate(path).entry.xattrs();
  }

  long open(List<Name> path, boolean forWriting) throws IOException {
    if (forWriting) {
      throw new FileSystemException(path.toString(), null, READ_ONLY);
    }
    if (path.isEmpty()) {
      throw new FileSystemException(DIRECTORY.toString(), null, "Is a directory");
    }
    Located at = locate(path);
    if (at.entry.isDirectory()) {
      throw new FileSystemException(path.toString(), null, "Is a directory");
    }
    long handle = nextHandle.getAndIncrement();
    open.put(handle, at);
    return handle;
  }

  Inode getattr(long handle) throws FileSystemException {
    Located at = file(handle);
    return shown(at.snapshot, at.entry);
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

  void mkdir(List<Name> path) throws IOException, InterruptedException {
    if (path.size() != 1) {
      throw readOnly(path);
    }
    snapshots.create(path.get(0));
  }

  void rmdir(List<Name> path) throws IOException {
    if (path.size() != 1) {
      throw readOnly(path);
    }
    snapshots.delete(path.get(0));
  }

  void rename(List<Name> from, List<Name> to) throws IOException {
    if (from.size() != 1 || to.size() != 1) {
      throw readOnly(from);
    }
    snapshots.rename(from.get(0), to.get(0));
  }

  static FileSystemException readOnly(List<Name> path) {
    return new FileSystemException(DIRECTORY + path.toString(), null, READ_ONLY);
  }

  // ---------------------------------------------------------------- paths

  private record Located(SnapshotRecord snapshot, TreeEntry entry) {}

  private Located locate(List<Name> path) throws IOException {
    SnapshotRecord snapshot = snapshots.get(path.get(0));
    return new Located(snapshot, reader.resolve(snapshot.root(), path.subList(1, path.size())));
  }

  private Located directory(List<Name> path) throws IOException {
    Located at = locate(path);
    if (!at.entry.isDirectory()) {
      throw new FileSystemException(path.toString(), null, "Not a directory");
    }
    return at;
  }

  /** The attributes shown for an entry: its own, with the snapshot's inode numbering. */
  private static Inode shown(SnapshotRecord snapshot, TreeEntry e) {
    Inode i = e.inode();
    return new Inode(Snapshots.inodeInSnapshot(snapshot.number(), i.number()), i.mode(), i.uid(), i.gid(), i.nlink(),
        i.size(), i.atimeNanos(), i.mtimeNanos(), i.ctimeNanos(), i.rdev(), 0);
  }
}
