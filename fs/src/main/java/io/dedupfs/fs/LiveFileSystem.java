package io.dedupfs.fs;

import io.dedupfs.store.file.FileReader;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.XattrMode;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.Snapshots;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read-write tree of a mounted repository, by node, with no FUSE: what the adapter calls for
 * each operation. A node is a live inode's number or one of the {@code .snapshots} view's (the
 * kernel learns each from a lookup). File data goes through one {@link FileWriter} per inode
 * being written and a shared {@link FileReader}. Errors are the
 * namespace's java.nio exceptions. Every second, runs of writes older than 2 s are committed, and the
 * index is synced, so data not fsync'ed is durable within a few seconds. Thread-safe.
 */
public final class LiveFileSystem implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LiveFileSystem.class);
  /** A run this old ends, so its writes commit without waiting for close or 64 MiB (FORMAT.md §8 invariant 8). */
  static final long MAX_RUN_AGE_NANOS = 2_000_000_000L;
  private static final long SYNC_PERIOD_MILLIS = 1000;

  /** Who asks: new nodes belong to them. */
  public record Caller(int uid, int gid) {}

  /** Space figures of the disk holding the repository, in bytes. */
  public record Space(long total, long free, long available) {}

  private final Namespace namespace;
  private final FileReader reader;
  private final IngestPipeline pipeline;
  private final FileStore disk;
  private final OpenFiles files;
  private final Snapshots snapshots;
  private final SnapshotFileSystem snapshotTree;
  private final ScheduledExecutorService background;

  /** Opens the repository's snapshots given how to commit what open files buffer. */
  @FunctionalInterface
  public interface SnapshotsOpener {
    Snapshots open(Snapshots.PendingWrites pending) throws IOException;
  }

  public LiveFileSystem(Namespace namespace, IngestPipeline pipeline, FileReader reader, FileStore disk,
      SnapshotsOpener snapshots, SnapshotReader snapshotReader) throws IOException {
    this.namespace = namespace;
    this.pipeline = pipeline;
    this.reader = reader;
    this.disk = disk;
    this.files = new OpenFiles(namespace, pipeline);
    this.snapshots = snapshots.open(this::commitAll);
    this.snapshotTree = new SnapshotFileSystem(this.snapshots, snapshotReader, reader, namespace);
    this.background = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dedupfs-write-back");
      t.setDaemon(true);
      return t;
    });
    background.scheduleWithFixedDelay(this::writeBack, SYNC_PERIOD_MILLIS, SYNC_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- nodes and names

  /**
   * Nodes are what the kernel names files by: a live inode's number, or a node of the
   * {@code .snapshots} view (numbers from {@link SnapshotFileSystem#DIRECTORY_INODE} up).
   */
  public static boolean isSnapshotView(long node) {
    return SnapshotFileSystem.isInView(node);
  }

  /** The node of {@code .snapshots}: its attributes change behind the kernel's back, as snapshots come and go. */
  public static final long SNAPSHOTS_NODE = SnapshotFileSystem.DIRECTORY_INODE;

  /** Whether an open handle is on a file of a snapshot, which never changes. */
  public static boolean isSnapshotHandle(long handle) {
    return SnapshotFileSystem.owns(handle);
  }

  /** The entry {@code name} in directory {@code parent}, if there is one. {@code .snapshots} is reachable by name in the root. */
  public Optional<Inode> lookup(long parent, Name name) throws IOException {
    if (isSnapshotDirectory(parent, name)) {
      return Optional.of(snapshotTree.getattr(SnapshotFileSystem.DIRECTORY_INODE));
    }
    if (isSnapshotView(parent)) {
      return snapshotTree.lookup(parent, name);
    }
    return files.shownIfPresent(() -> namespace.lookup(parent, name));
  }

  /** The kernel dropped {@code lookups} references to {@code node}. */
  public void forget(long node, long lookups) {
    if (isSnapshotView(node)) {
      snapshotTree.forget(node, lookups);
    }
  }

  public Inode getattr(long node) throws IOException {
    return isSnapshotView(node) ? snapshotTree.getattr(node) : files.shown(() -> namespace.getattr(node));
  }

  public byte[] readlink(long node) throws IOException {
    return isSnapshotView(node) ? snapshotTree.readlink(node) : namespace.readlink(node);
  }

  public Inode mknod(long parent, Name name, int mode, long rdev, Caller caller) throws IOException {
    requireCreatable(parent, name);
    return namespace.mknod(parent, name, mode, caller.uid(), caller.gid(), rdev);
  }

  /** In {@code .snapshots}, takes a snapshot of the tree named as the new directory. */
  public Inode mkdir(long parent, Name name, int permissions, Caller caller) throws IOException, InterruptedException {
    if (isSnapshotView(parent)) {
      return snapshotTree.mkdir(parent, name);
    }
    return mknod(parent, name, Mode.S_IFDIR | (permissions & Mode.PERMISSIONS), 0, caller);
  }

  public Inode symlink(byte[] target, long parent, Name name, Caller caller) throws IOException {
    requireCreatable(parent, name);
    return namespace.symlink(parent, name, target, caller.uid(), caller.gid());
  }

  public void unlink(long parent, Name name) throws IOException {
    requireRemovable(parent, name);
    namespace.unlink(parent, name);
  }

  /** In {@code .snapshots}, deletes the snapshot. */
  public void rmdir(long parent, Name name) throws IOException {
    if (isSnapshotView(parent)) {
      snapshotTree.rmdir(parent, name);
      return;
    }
    requireRemovable(parent, name);
    namespace.rmdir(parent, name);
  }

  /** Within {@code .snapshots}, renames a snapshot; nothing moves in or out of it. */
  public void rename(long parent, Name name, long newParent, Name newName, boolean replace) throws IOException {
    if (isSnapshotView(parent) && isSnapshotView(newParent)) {
      snapshotTree.rename(parent, name, newParent, newName);
      return;
    }
    requireRemovable(parent, name);
    requireCreatable(newParent, newName);
    namespace.rename(parent, name, newParent, newName, replace);
  }

  public Inode link(long node, long newParent, Name newName) throws IOException {
    requireWritable(node);
    requireCreatable(newParent, newName);
    namespace.link(node, newParent, newName);
    return getattr(node);
  }

  /**
   * chmod, chown, utimens. A file with a writer (open, or still committing) takes the change
   * through it: ordered with its writes, and committed with them. A chmod of a file with an access
   * ACL is the exception: the ACL, which it rewrites, must not be read stale meanwhile.
   */
  public Inode setAttributes(long node, AttributeChange change) throws IOException, InterruptedException {
    requireWritable(node);
    Optional<Inode> viaWriter = files.withExistingWriter(node, writer -> {
      writer.setAttributes(change);
      if (change.permissions() != null && namespace.hasAccessAcl(node)) {
        writer.commitAttributes();
      }
      return writer.view(namespace.getattr(node));
    });
    return viaWriter.isPresent() ? viaWriter.get() : namespace.setAttributes(node, change);
  }

  /** Up to {@code limit} entries of a directory after {@code after} (null: from the start), in name order. */
  public List<DirEntry> list(long directory, Name after, int limit) throws IOException {
    return isSnapshotView(directory) ? snapshotTree.list(directory, after, limit) : namespace.list(directory, after, limit);
  }

  /** An entry of a directory with its attributes, as a lookup of its name gives them. */
  public record Listed(Name name, Inode inode) {}

  /**
   * {@link #list} with each entry's attributes, each counted as a lookup of its node
   * (readdirplus): the caller {@link #forget}s those it does not hand to the kernel.
   */
  public List<Listed> listLookedUp(long directory, Name after, int limit) throws IOException {
    if (isSnapshotView(directory)) {
      return snapshotTree.listLookedUp(directory, after, limit);
    }
    List<DirEntry> page = namespace.list(directory, after, limit);
    List<Inode> inodes = files.shownAll(() -> namespace.getattr(page));
    List<Listed> out = new ArrayList<>(page.size());
    for (int i = 0; i < page.size(); i++) {
      out.add(new Listed(page.get(i).name(), inodes.get(i)));
    }
    return out;
  }

  /** Now on the namespace's clock, in nanoseconds since the epoch (for UTIME_NOW). */
  public long now() {
    return namespace.now();
  }

  public Space space() throws IOException {
    return new Space(disk.getTotalSpace(), disk.getUnallocatedSpace(), disk.getUsableSpace());
  }

  // ---------------------------------------------------------------- extended attributes

  public byte[] getXattr(long node, byte[] name) throws IOException {
    return isSnapshotView(node) ? snapshotTree.getXattr(node, name) : namespace.getXattr(node, name);
  }

  public void setXattr(long node, byte[] name, byte[] value, XattrMode mode) throws IOException, InterruptedException {
    requireWritable(node);
    if (Namespace.isAccessAcl(name)) {
      // It sets the permission bits too: a chmod its writer still holds must land first.
      files.withExistingWriter(node, writer -> {
        boolean held = writer.showsPermissions();
        if (held) {
          writer.commitAttributes();
        }
        return held;
      });
    }
    namespace.setXattr(node, name, value, mode);
  }

  public List<byte[]> listXattrs(long node) throws IOException {
    return isSnapshotView(node) ? snapshotTree.listXattrs(node) : namespace.listXattrs(node);
  }

  public void removeXattr(long node, byte[] name) throws IOException {
    requireWritable(node);
    namespace.removeXattr(node, name);
  }

  // ---------------------------------------------------------------- file data

  /** Opens a regular file; the handle names it until {@link #release}, whatever happens to its names. */
  public long open(long node, boolean forWriting) throws IOException {
    if (isSnapshotView(node)) {
      return snapshotTree.open(node, forWriting);
    }
    return files.open(() -> {
      Inode inode = namespace.getattr(node);
      if (inode.isDirectory()) {
        throw new FileSystemException("inode " + node, null, "Is a directory");
      }
      return inode;
    });
  }

  /** A new regular file, open. */
  public record Created(Inode inode, long handle) {}

  /** Creates a regular file and opens it. */
  public Created create(long parent, Name name, int permissions, Caller caller) throws IOException {
    Inode inode = mknod(parent, name, Mode.S_IFREG | (permissions & Mode.PERMISSIONS), 0, caller);
    return new Created(inode, files.open(() -> inode));
  }

  /** Reads into {@code dst} at {@code offset}; a file's own pending writes are committed first, so they read back. */
  public int read(long handle, long offset, ByteBuffer dst) throws IOException, InterruptedException {
    if (SnapshotFileSystem.owns(handle)) {
      return snapshotTree.read(handle, offset, dst);
    }
    FileWriter writer = files.writer(handle);
    if (!writer.isSettled()) {
      writer.commit();
    }
    return reader.read(files.inodeOf(handle), offset, dst);
  }

  /**
   * write(2). {@code unprivileged}: the writer may not keep the file's set-ID bits, which a local
   * file system drops; on a write that bypasses its page cache the kernel leaves that to us.
   * Returns whether it dropped some, which changes the file's mode.
   */
  public boolean write(long handle, long offset, ByteBuffer data, boolean unprivileged)
      throws IOException, InterruptedException {
    if (offset < 0) {
      throw new FileSystemException("handle " + handle, null, "Invalid argument");
    }
    FileWriter writer = files.writer(handle);
    // An earlier write that failed fails the later ones: nothing is half-written behind the caller's back.
    writer.checkFailed();
    boolean dropped = unprivileged && dropSetIds(files.inodeOf(handle), writer);
    writer.write(offset, data);
    return dropped;
  }

  private boolean dropSetIds(long node, FileWriter writer) throws IOException, InterruptedException {
    int mode = writer.view(namespace.getattr(node)).mode();
    int kept = Mode.afterUnprivilegedWrite(mode);
    if (kept == mode) {
      return false;
    }
    setAttributes(node, AttributeChange.permissions(kept));
    return true;
  }

  /** truncate(2) by node, or ftruncate(2) when {@code handle} is not null. */
  public void truncate(long node, Long handle, long size) throws IOException, InterruptedException {
    requireWritable(node);
    if (handle != null) {
      files.writer(handle).truncate(requireSize(size));
      return;
    }
    files.withWriter(() -> regularFile(node), w -> {
      w.truncate(requireSize(size));
      return null;
    });
  }

  /** The committed attributes of {@code node}, which truncate(2) by path needs to be a regular file. */
  private Inode regularFile(long node) throws IOException {
    Inode file = namespace.getattr(node);
    if (file.isDirectory()) {
      throw new FileSystemException("inode " + node, null, "Is a directory");
    }
    if (file.type() != Mode.S_IFREG) {
      throw new FileSystemException("inode " + node, null, "Invalid argument");
    }
    return file;
  }

  /** fallocate(2) in its default mode: the file grows to cover the range; the new bytes read as zeros. */
  public void allocate(long handle, long offset, long length) throws IOException, InterruptedException {
    if (offset < 0 || length <= 0) {
      throw new FileSystemException("handle " + handle, null, "Invalid argument");
    }
    FileWriter writer = files.writer(handle);
    synchronized (writer) {
      long end = offset + length;
      if (end > writer.pendingEnd()) {
        writer.truncate(end);
      }
    }
  }

  /** close(2) of one descriptor: reports a failed earlier write; data goes on committing in the background. */
  public void flush(long handle) throws IOException {
    if (!SnapshotFileSystem.owns(handle)) {
      files.writer(handle).checkFailed();
    }
  }

  /** fsync(2): everything written to the file so far is durable on return. */
  public void fsync(long handle) throws IOException, InterruptedException {
    if (!SnapshotFileSystem.owns(handle)) {
      files.writer(handle).flush();
    }
  }

  /** fsync(2) of a directory: every change of names so far is durable on return. */
  public void fsyncDirectory() throws IOException {
    namespace.sync();
  }

  public void release(long handle) throws IOException, InterruptedException {
    if (SnapshotFileSystem.owns(handle)) {
      snapshotTree.release(handle);
    } else {
      files.release(handle);
    }
  }

  /** The snapshots of the mounted repository, for the control socket. */
  public Snapshots snapshots() {
    return snapshots;
  }

  /** Commits what every open file buffers (its writes reach the namespace; durability is separate). */
  public void commitAll() throws IOException, InterruptedException {
    for (FileWriter w : files.all()) {
      w.commit();
    }
  }

  private static boolean isSnapshotDirectory(long parent, Name name) {
    return parent == Namespace.ROOT && name.equals(SnapshotFileSystem.DIRECTORY);
  }

  /** Only the live tree changes; the snapshots change by mkdir, rmdir and rename in {@code .snapshots}. */
  private static void requireWritable(long node) throws FileSystemException {
    if (isSnapshotView(node)) {
      throw new FileSystemException("inode " + node, null, SnapshotFileSystem.READ_ONLY);
    }
  }

  /** A new name can go in a live directory, except {@code .snapshots} in the root: it exists and stays. */
  private static void requireCreatable(long parent, Name name) throws FileSystemException {
    requireWritable(parent);
    if (isSnapshotDirectory(parent, name)) {
      throw new FileAlreadyExistsException(name.toString(), null, "reserved for snapshots");
    }
  }

  private static void requireRemovable(long parent, Name name) throws FileSystemException {
    requireWritable(parent);
    if (isSnapshotDirectory(parent, name)) {
      throw SnapshotFileSystem.readOnly(name);
    }
  }

  private static long requireSize(long size) throws FileSystemException {
    if (size < 0) {
      throw new FileSystemException("size " + size, null, "Invalid argument");
    }
    return size;
  }

  /** Commits runs idle for a while and syncs the index: the "few seconds" of durability for data nobody fsync'ed. */
  private void writeBack() {
    try {
      for (FileWriter w : files.all()) {
        w.endRunIfOlderThan(MAX_RUN_AGE_NANOS);
      }
      namespace.sync();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable e) {
      LOG.error("periodic write-back failed; will retry", e);
    }
  }

  /**
   * Unmount: commits every file's writes, makes everything durable and stops the write-back.
   * Failures are logged per file and the rest still goes through.
   */
  @Override
  public void close() throws IOException {
    background.shutdown();
    try {
      background.awaitTermination(10, TimeUnit.SECONDS);
      for (FileWriter w : files.all()) {
        try {
          w.commit();
        } catch (IOException e) {
          LOG.error("could not commit a file's last writes at unmount: {}", Redaction.withoutPaths(e));
        }
      }
      pipeline.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while committing at unmount");
    }
    namespace.sync();
  }
}
