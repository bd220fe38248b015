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
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read-write tree of a mounted repository, by path, with no FUSE: what the adapter calls for
 * each operation. Paths resolve to inodes in one transaction each; file data goes through one
 * {@link FileWriter} per inode being written and a shared {@link FileReader}. Errors are the
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

  // ---------------------------------------------------------------- attributes and names

  public Inode getattr(FsPath path) throws IOException {
    List<Name> snapshot = inSnapshots(path);
    return snapshot != null ? snapshotTree.getattr(snapshot) : files.view(namespace.resolve(Namespace.ROOT, path.names()));
  }

  /** Whether {@code inode} is in the read-only {@code .snapshots} view (or is that directory): its attributes never change. */
  public static boolean isSnapshotView(Inode inode) {
    return inode.number() >= SnapshotFileSystem.DIRECTORY_INODE;
  }

  /** The attributes of the inode an open handle is on. */
  public Inode getattr(long handle) throws IOException {
    return SnapshotFileSystem.owns(handle) ? snapshotTree.getattr(handle)
        : files.view(namespace.getattr(files.inodeOf(handle)));
  }

  public byte[] readlink(FsPath path) throws IOException {
    List<Name> snapshot = inSnapshots(path);
    return snapshot != null ? snapshotTree.readlink(snapshot) : namespace.readlink(resolve(path));
  }

  public Inode mknod(FsPath path, int mode, long rdev, Caller caller) throws IOException {
    return namespace.mknod(resolve(writableParent(path)), path.name(), mode, caller.uid(), caller.gid(), rdev);
  }

  /** In {@code .snapshots}, takes a snapshot of the tree named as the new directory. */
  public void mkdir(FsPath path, int permissions, Caller caller) throws IOException, InterruptedException {
    List<Name> snapshot = inSnapshots(path);
    if (snapshot != null && !snapshot.isEmpty()) {
      snapshotTree.mkdir(snapshot);
    } else {
      mknod(path, Mode.S_IFDIR | (permissions & Mode.PERMISSIONS), 0, caller);
    }
  }

  public Inode symlink(byte[] target, FsPath link, Caller caller) throws IOException {
    return namespace.symlink(resolve(writableParent(link)), link.name(), target, caller.uid(), caller.gid());
  }

  public void unlink(FsPath path) throws IOException {
    namespace.unlink(resolve(writableParent(path)), path.name());
  }

  /** In {@code .snapshots}, deletes the snapshot. */
  public void rmdir(FsPath path) throws IOException {
    List<Name> snapshot = inSnapshots(path);
    if (snapshot != null) {
      snapshotTree.rmdir(snapshot);
    } else {
      namespace.rmdir(resolve(path.parent()), path.name());
    }
  }

  /** Within {@code .snapshots}, renames a snapshot; nothing moves in or out of it. */
  public void rename(FsPath from, FsPath to) throws IOException {
    List<Name> fromSnapshot = inSnapshots(from);
    List<Name> toSnapshot = inSnapshots(to);
    if (fromSnapshot != null && toSnapshot != null) {
      snapshotTree.rename(fromSnapshot, toSnapshot);
    } else {
      namespace.rename(resolve(writableParent(from)), from.name(), resolve(writableParent(to)), to.name());
    }
  }

  public Inode link(FsPath existing, FsPath newPath) throws IOException {
    requireWritable(existing);
    return namespace.link(resolve(existing), resolve(writableParent(newPath)), newPath.name());
  }

  /** chmod, chown, utimens. A file being written takes the change through its writer, which keeps it ordered after earlier writes. */
  public Inode setAttributes(FsPath path, AttributeChange change) throws IOException {
    long inode = resolve(requireWritable(path));
    FileWriter writer = files.existingWriter(inode);
    return writer == null ? namespace.setAttributes(inode, change) : files.view(writer.setAttributes(change));
  }

  /** Up to {@code limit} entries of a directory after {@code after} (null: from the start), in name order. */
  public List<DirEntry> list(FsPath directory, Name after, int limit) throws IOException {
    List<Name> snapshot = inSnapshots(directory);
    return snapshot != null ? snapshotTree.list(snapshot, after, limit) : namespace.list(resolve(directory), after, limit);
  }

  /** Now on the namespace's clock, in nanoseconds since the epoch (for UTIME_NOW). */
  public long now() {
    return namespace.now();
  }

  public Space space() throws IOException {
    return new Space(disk.getTotalSpace(), disk.getUnallocatedSpace(), disk.getUsableSpace());
  }

  // ---------------------------------------------------------------- extended attributes

  public byte[] getXattr(FsPath path, byte[] name) throws IOException {
    List<Name> snapshot = inSnapshots(path);
    return snapshot != null ? snapshotTree.getXattr(snapshot, name) : namespace.getXattr(resolve(path), name);
  }

  public void setXattr(FsPath path, byte[] name, byte[] value, XattrMode mode) throws IOException {
    namespace.setXattr(resolve(requireWritable(path)), name, value, mode);
  }

  public List<byte[]> listXattrs(FsPath path) throws IOException {
    List<Name> snapshot = inSnapshots(path);
    return snapshot != null ? snapshotTree.listXattrs(snapshot) : namespace.listXattrs(resolve(path));
  }

  public void removeXattr(FsPath path, byte[] name) throws IOException {
    namespace.removeXattr(resolve(requireWritable(path)), name);
  }

  // ---------------------------------------------------------------- file data

  /** Opens a regular file; the handle names it until {@link #release}, whatever happens to its names. */
  public long open(FsPath path, boolean forWriting) throws IOException {
    List<Name> snapshot = inSnapshots(path);
    if (snapshot != null) {
      return snapshotTree.open(snapshot, forWriting);
    }
    Inode inode = namespace.resolve(Namespace.ROOT, path.names());
    if (inode.isDirectory()) {
      throw new FileSystemException(path.toString(), null, "Is a directory");
    }
    return files.open(inode.number());
  }

  /** Creates a regular file and opens it. */
  public long create(FsPath path, int permissions, Caller caller) throws IOException {
    writableParent(path);
    Inode inode = mknod(path, Mode.S_IFREG | (permissions & Mode.PERMISSIONS), 0, caller);
    return files.open(inode.number());
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

  public void write(long handle, long offset, ByteBuffer data) throws IOException, InterruptedException {
    if (offset < 0) {
      throw new FileSystemException("handle " + handle, null, "Invalid argument");
    }
    FileWriter writer = files.writer(handle);
    // An earlier write that failed fails the later ones: nothing is half-written behind the caller's back.
    writer.checkFailed();
    writer.write(offset, data);
  }

  public void truncate(FsPath path, long size) throws IOException, InterruptedException {
    requireWritable(path);
    Inode file = namespace.resolve(Namespace.ROOT, path.names());
    if (file.isDirectory()) {
      throw new FileSystemException(path.toString(), null, "Is a directory");
    }
    if (file.type() != Mode.S_IFREG) {
      throw new FileSystemException(path.toString(), null, "Invalid argument");
    }
    files.withWriter(file.number(), w -> {
      w.truncate(requireSize(size));
      return null;
    });
  }

  public void truncate(long handle, long size) throws IOException, InterruptedException {
    files.writer(handle).truncate(requireSize(size));
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

  private long resolve(FsPath path) throws IOException {
    return namespace.resolve(Namespace.ROOT, path.names()).number();
  }

  /**
   * The names below {@code .snapshots} when {@code path} is in it or is it (then empty), else
   * null. {@code .snapshots} is reachable by name only in the root, and never listed there.
   */
  private static List<Name> inSnapshots(FsPath path) {
    List<Name> names = path.names();
    return !names.isEmpty() && names.get(0).equals(SnapshotFileSystem.DIRECTORY) ? names.subList(1, names.size()) : null;
  }

  /** {@code path}, if it is in the live tree: snapshots change only by mkdir, rmdir and rename. */
  private static FsPath requireWritable(FsPath path) throws FileSystemException {
    List<Name> snapshot = inSnapshots(path);
    if (snapshot != null) {
      throw SnapshotFileSystem.readOnly(snapshot);
    }
    return path;
  }

  /** The parent of a name to create or remove in the live tree; {@code .snapshots} itself exists and stays. */
  private static FsPath writableParent(FsPath path) throws FileSystemException {
    List<Name> snapshot = inSnapshots(path);
    if (snapshot != null && snapshot.isEmpty()) {
      throw new FileAlreadyExistsException(path.toString(), null, "reserved for snapshots");
    }
    return requireWritable(path).parent();
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
