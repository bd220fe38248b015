package io.dedupfs.fs.fuse;

import com.kenai.jffi.MemoryIO;
import io.dedupfs.fs.LiveFileSystem;
import io.dedupfs.fs.LiveFileSystem.Caller;
import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.XattrMode;
import io.dedupfs.store.stats.RequestStats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates libfuse's low-level requests to {@link LiveFileSystem} and answers them: node ids
 * are inode numbers (the root is node 1 in both), names and values are bytes, attributes go out
 * as {@code struct stat}, exceptions as errno through one guard. No logic of its own beyond that
 * translation and how long the kernel may cache each answer.
 *
 * <p>Every request is answered exactly once: by the reply its handler ends with, or, if the
 * handler throws before it, by an error. Nothing after a reply may throw.
 */
public final class FuseAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(FuseAdapter.class);
  /** The largest read or write the kernel is allowed to send (max_write, max_read). */
  static final int MAX_IO = 1 << 20;
  private static final int READDIR_PAGE = 1024;
  /** What errors say instead of a name: names are anyone's data and are not logged. */
  private static final String A_NAME = "(a name)";
  private static final int BLOCK = 4096;
  private static final int XATTR_CREATE = 1;
  private static final int XATTR_REPLACE = 2;
  /** Views request memory as a ByteBuffer, without copying it. */
  private static final MemoryIO NATIVE = MemoryIO.getInstance();
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_EXCL = 0200;
  private static final int RENAME_NOREPLACE = 1;
  /** setattr's to_set bits (FUSE_SET_ATTR_*). */
  private static final int SET_MODE = 1;
  private static final int SET_UID = 1 << 1;
  private static final int SET_GID = 1 << 2;
  private static final int SET_SIZE = 1 << 3;
  private static final int SET_ATIME = 1 << 4;
  private static final int SET_MTIME = 1 << 5;
  private static final int SET_ATIME_NOW = 1 << 7;
  private static final int SET_MTIME_NOW = 1 << 8;
  /** Capabilities turned off at init: O_TRUNC comes as a truncating setattr, and the kernel clears set-uid bits itself. */
  private static final int CAP_ATOMIC_O_TRUNC = 1 << 3;
  private static final int CAP_HANDLE_KILLPRIV = 1 << 20;
  /** FUSE_CAP_NO_OPENDIR_SUPPORT: the kernel takes ENOSYS from opendir as "never ask again". */
  private static final int CAP_NO_OPENDIR_SUPPORT = 1 << 24;
  /**
   * Seconds the kernel may keep a name, a missing name or attributes. Every change of the live
   * tree comes through this mount, and the kernel drops what it cached of what it changes; a node
   * is an inode, whatever name it was reached by, so hard links share their attributes. A
   * snapshot never changes. So this bounds nothing that could go stale: it only ends the
   * kernel's trust in what it has been told (an rsync of an unchanged tree of 11,860 files right
   * after the first took 0.85 s with 1 s here and 0.70 s with 60 s).
   */
  static final double CACHE_SECONDS = 60;
  /**
   * The set of snapshots changes behind the kernel's back ({@code dedupfs snapshot create|delete}
   * through the control socket): names in {@code .snapshots} and its attributes are kept this
   * long, missing names not at all. Each such change is also told to the kernel ({@link
   * #snapshotsChanged}), which then drops the attributes and the listing at once. The attributes
   * must be kept a while: with default_permissions the kernel checks them on every path through
   * {@code .snapshots}, and {@code cp -a} of a snapshot of 20,218 entries made 107,918 getattr
   * requests when they were not kept at all, 19,563 with 1 s.
   */
  static final double SNAPSHOTS_SECONDS = 1;

  private final LiveFileSystem fs;
  private final LibFuse fuse;
  private final Runtime runtime;
  private final LowLevelOperations operations;
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final DirectoryCursors cursors = new DirectoryCursors();
  /**
   * False once the kernel said at init that it can open directories without asking: opendir then
   * answers ENOSYS once, and no directory costs an opendir or releasedir round trip again. The
   * kernel then keeps every directory's listing (as it does a snapshot's when asked to) until the
   * directory changes through it, or {@link #snapshotsChanged} says otherwise.
   */
  private volatile boolean opensDirectories = true;
  private final FaultLog faults = new FaultLog(LOG);
  /** One counter per {@link Operation}, at its ordinal: nothing is looked up by name on a request's way. */
  private final RequestStats[] requests = Arrays.stream(Operation.values()).map(op -> new RequestStats(op.label))
      .toArray(RequestStats[]::new);
  /** The libfuse session serving this adapter, for notifications to the kernel; set before the first request. */
  private volatile Pointer session;
  /** Native memory per request-serving thread, for the structs and data of replies. */
  private final ThreadLocal<Scratch> scratch;

  /** What a thread fills replies in: allocated once per thread, reused by each of its requests. */
  private static final class Scratch {
    final Pointer entry;
    final Pointer stat;
    final Pointer statvfs;
    final ByteBuffer data = ByteBuffer.allocateDirect(MAX_IO);
    final Pointer dataPointer;

    Scratch(Runtime runtime) {
      entry = Memory.allocateDirect(runtime, FuseStructs.ENTRY_SIZE, true);
      stat = Memory.allocateDirect(runtime, FuseStructs.STAT_SIZE, true);
      statvfs = Memory.allocateDirect(runtime, FuseStructs.STATVFS_SIZE, true);
      dataPointer = Pointer.wrap(runtime, data);
    }
  }

  public FuseAdapter(LiveFileSystem fs, LibFuse fuse) {
    this.fs = fs;
    this.fuse = fuse;
    this.runtime = Runtime.getSystemRuntime();
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(runtime));
    this.operations = operations();
  }

  /** The operations table handed to libfuse: every callback of this adapter in its slot. */
  LowLevelOperations operationsTable() {
    return operations;
  }

  /**
   * Tells the kernel that the list of snapshots changed: when the change came other than through
   * it (dedupfs snapshot and prune, over the control socket), it would go on listing {@code
   * .snapshots} from what it keeps, and showing its old attributes for up to {@link
   * #SNAPSHOTS_SECONDS}. Does nothing unless the mount serves.
   */
  public synchronized void snapshotsChanged() {
    if (session != null) {
      fuse.fuse_lowlevel_notify_inval_inode(session, LiveFileSystem.SNAPSHOTS_NODE, 0, 0);
    }
  }

  /** Called once the session exists, before it serves any request, and with null before it is destroyed. */
  synchronized void servedBy(Pointer session) {
    this.session = session;
  }

  /** Completes when the kernel has finished the FUSE handshake: the mount is live. */
  public CompletableFuture<Void> initialized() {
    return initialized;
  }

  /**
   * The requests served since the mount, one entry per operation in {@link Operation}'s order
   * (those never asked for too): how many, the time spent in this adapter and below it, errors
   * answered, and bytes read or written. Time in libfuse and the kernel is not in it.
   */
  public List<RequestStats.Snapshot> requestStats() {
    return Arrays.stream(requests).map(RequestStats::snapshot).toList();
  }

  private LowLevelOperations operations() {
    LowLevelOperations ops = new LowLevelOperations(runtime);
    ops.init(this::init);
    ops.lookup(this::lookup);
    ops.forget(this::forget);
    ops.forgetMulti(this::forgetMulti);
    ops.getattr(this::getattr);
    ops.setattr(this::setattr);
    ops.readlink(this::readlink);
    ops.mknod(this::mknod);
    ops.mkdir(this::mkdir);
    ops.unlink(this::unlink);
    ops.rmdir(this::rmdir);
    ops.symlink(this::symlink);
    ops.rename(this::rename);
    ops.link(this::link);
    ops.open(this::open);
    ops.read(this::read);
    ops.write(this::write);
    ops.flush(this::flush);
    ops.release(this::release);
    ops.fsync(this::fsync);
    ops.opendir(this::opendir);
    ops.readdir(this::readdir);
    ops.readdirplus(this::readdirplus);
    ops.releasedir(this::releasedir);
    ops.fsyncdir(this::fsyncdir);
    ops.statfs(this::statfs);
    ops.setxattr(this::setxattr);
    ops.getxattr(this::getxattr);
    ops.listxattr(this::listxattr);
    ops.removexattr(this::removexattr);
    ops.create(this::create);
    ops.fallocate(this::fallocate);
    return ops;
  }

  // ---------------------------------------------------------------- the guard

  private interface Handler {
    /** Serves the request and ends with its reply; returns the bytes of file data moved. */
    long serve() throws Exception;
  }

  /**
   * Every request goes through here: jnr-ffi has no try/catch of its own around Java code called
   * from C. Each is counted, with the time from here to the reply; an error reply is an error.
   */
  private void guard(Operation op, Pointer request, long node, Handler handler) {
    long start = System.nanoTime();
    long bytes = 0;
    boolean failed = false;
    try {
      bytes = handler.serve();
    } catch (Throwable e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      int errno = Errno.of(e);
      if (Errno.isFault(errno)) {
        faults.log(op.label, "node " + node, e);
      } else if (LOG.isDebugEnabled()) {
        LOG.debug("{} node {}: {}", op.label, node, e.toString());
      }
      fuse.fuse_reply_err(request, errno);
      failed = true;
    }
    requests[op.ordinal()].served(System.nanoTime() - start, failed, bytes);
  }

  private long ok(Pointer request) {
    fuse.fuse_reply_err(request, 0);
    return 0;
  }

  private static Name name(Pointer p) throws FileSystemException {
    byte[] bytes = bytes(p, Name.MAX_LENGTH);
    try {
      return Name.of(bytes);
    } catch (IllegalArgumentException e) {
      // "." and ".." never reach a filesystem: the kernel resolves them.
      throw new FileSystemException(A_NAME, null, "Invalid argument");
    }
  }

  /** A NUL-terminated string as bytes; longer than {@code max} is ENAMETOOLONG, as a kernel filesystem answers. */
  private static byte[] bytes(Pointer p, int max) throws FileSystemException {
    int length = p.indexOf(0, (byte) 0, max + 1);
    if (length < 0) {
      throw new FileSystemException(A_NAME, null, "File name too long");
    }
    byte[] bytes = new byte[length];
    p.get(0, bytes, 0, length);
    return bytes;
  }

  private static byte[] terminated(byte[] bytes) {
    return Arrays.copyOf(bytes, bytes.length + 1);
  }

  private Caller caller(Pointer request) {
    Pointer context = fuse.fuse_req_ctx(request);
    return new Caller(FuseStructs.contextUid(context), FuseStructs.contextGid(context));
  }

  // ---------------------------------------------------------------- replies

  /** Answers with a node: the kernel counts one more lookup of it, which this process forgets if the answer never arrives. */
  private long replyEntry(Pointer request, long parent, Inode inode) {
    Pointer entry = scratch.get().entry;
    FuseStructs.putEntry(entry, inode, attributeTimeout(inode.number()), nameTimeout(parent));
    if (fuse.fuse_reply_entry(request, entry) != 0) {
      fs.forget(inode.number(), 1);
    }
    return 0;
  }

  /** How long the kernel may keep a name found in {@code parent}. */
  private static double nameTimeout(long parent) {
    return parent == LiveFileSystem.SNAPSHOTS_NODE ? SNAPSHOTS_SECONDS : CACHE_SECONDS;
  }

  private long replyAttributes(Pointer request, Inode inode) {
    Pointer stat = scratch.get().stat;
    FuseStructs.putStat(stat, 0, inode);
    fuse.fuse_reply_attr(request, stat, attributeTimeout(inode.number()));
    return 0;
  }

  private static double attributeTimeout(long node) {
    return node == LiveFileSystem.SNAPSHOTS_NODE ? SNAPSHOTS_SECONDS : CACHE_SECONDS;
  }

  /** Answers with an open handle; one the kernel never received is released here, as no release will come. */
  private long replyOpen(Pointer request, Pointer fileInfo, long handle, boolean forWriting) {
    FuseStructs.setHandle(fileInfo, handle);
    if (LiveFileSystem.isSnapshotHandle(handle)) {
      // A snapshot's file never changes: its pages can stay cached from one open to the next.
      FuseStructs.setKeepCache(fileInfo);
    }
    if (!forWriting) {
      // A descriptor that cannot write has nothing to report at close (a local disk reports nothing either).
      FuseStructs.setNoFlush(fileInfo);
    }
    if (bypassesPageCache(FuseStructs.openFlags(fileInfo))) {
      FuseStructs.setDirectIo(fileInfo);
    }
    if (fuse.fuse_reply_open(request, fileInfo) != 0) {
      releaseQuietly(handle);
    }
    return 0;
  }

  /**
   * Whether a descriptor's reads and writes bypass the kernel's page cache: those backups write
   * through do, the write-only ones (cp, tar, rsync --inplace) and exclusive creates (mkstemp:
   * rsync's temporary files). Copying into the cache costs the writer as much CPU as the copy
   * into the pipeline, and each cached write first asks for security.capability, a round trip.
   * Any other descriptor that can read stays cached: it may be mapped shared, which the kernel
   * refuses on an uncached one unless told otherwise, and libfuse 3.14 cannot tell it.
   */
  private static boolean bypassesPageCache(int openFlags) {
    int access = openFlags & O_ACCMODE;
    return access == O_WRONLY || (access != O_RDONLY && (openFlags & O_EXCL) != 0);
  }

  private void releaseQuietly(long handle) {
    try {
      fs.release(handle);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn("could not release a handle the kernel never received: {}", e.toString());
    }
  }

  // ---------------------------------------------------------------- lifecycle

  private void init(Pointer userdata, Pointer connection) {
    opensDirectories = (connection.getInt(FuseStructs.CONN_CAPABLE) & CAP_NO_OPENDIR_SUPPORT) == 0;
    int want = connection.getInt(FuseStructs.CONN_WANT) & ~(CAP_ATOMIC_O_TRUNC | CAP_HANDLE_KILLPRIV);
    connection.putInt(FuseStructs.CONN_WANT, want);
    if (Integer.toUnsignedLong(connection.getInt(FuseStructs.CONN_MAX_WRITE)) > MAX_IO) {
      connection.putInt(FuseStructs.CONN_MAX_WRITE, MAX_IO);
    }
    // libfuse checks it against the max_read mount option (FuseMount's), which must agree.
    connection.putInt(FuseStructs.CONN_MAX_READ, MAX_IO);
    initialized.complete(null);
  }

  // ---------------------------------------------------------------- names and attributes

  private void lookup(Pointer request, long parent, Pointer name) {
    guard(Operation.LOOKUP, request, parent, () -> {
      Name wanted = name(name);
      Optional<Inode> found = fs.lookup(parent, wanted);
      if (found.isPresent()) {
        return replyEntry(request, parent, found.get());
      }
      LOG.debug("lookup {} in node {}: no such entry", wanted, parent);
      Pointer entry = scratch.get().entry;
      FuseStructs.putNegativeEntry(entry, parent == LiveFileSystem.SNAPSHOTS_NODE ? 0 : CACHE_SECONDS);
      fuse.fuse_reply_entry(request, entry);
      return 0;
    });
  }

  /** Forgets have no answer, not even an error: they are counted here, not through the guard. */
  private void forget(Pointer request, long node, long lookups) {
    long start = System.nanoTime();
    fs.forget(node, lookups);
    fuse.fuse_reply_none(request);
    requests[Operation.FORGET.ordinal()].served(System.nanoTime() - start, false, 0);
  }

  private void forgetMulti(Pointer request, long count, Pointer forgets) {
    long start = System.nanoTime();
    for (long i = 0; i < count; i++) {
      long at = i * FuseStructs.FORGET_SIZE;
      fs.forget(forgets.getLong(at), forgets.getLong(at + 8));
    }
    fuse.fuse_reply_none(request);
    requests[Operation.FORGET.ordinal()].served(System.nanoTime() - start, false, 0);
  }

  private void getattr(Pointer request, long node, Pointer fileInfo) {
    guard(Operation.GETATTR, request, node, () -> replyAttributes(request, fs.getattr(node)));
  }

  /** chmod, chown, utimensat, truncate and ftruncate: the size first, then the rest in one change. */
  private void setattr(Pointer request, long node, Pointer stat, int toSet, Pointer fileInfo) {
    guard(Operation.SETATTR, request, node, () -> {
      if ((toSet & SET_SIZE) != 0) {
        fs.truncate(node, fileInfo == null ? null : FuseStructs.handle(fileInfo), FuseStructs.statSize(stat));
      }
      AttributeChange change = new AttributeChange(
          (toSet & SET_MODE) != 0 ? FuseStructs.statMode(stat) & Mode.PERMISSIONS : null,
          (toSet & SET_UID) != 0 ? FuseStructs.statUid(stat) : null,
          (toSet & SET_GID) != 0 ? FuseStructs.statGid(stat) : null,
          time(toSet, SET_ATIME, SET_ATIME_NOW, FuseStructs.statAtimeNanos(stat)),
          time(toSet, SET_MTIME, SET_MTIME_NOW, FuseStructs.statMtimeNanos(stat)));
      boolean attributes = change.permissions() != null || change.uid() != null || change.gid() != null
          || change.atimeNanos() != null || change.mtimeNanos() != null;
      return replyAttributes(request, attributes ? fs.setAttributes(node, change) : fs.getattr(node));
    });
  }

  private Long time(int toSet, int given, int now, long nanos) {
    if ((toSet & now) != 0) {
      return fs.now();
    }
    return (toSet & given) != 0 ? nanos : null;
  }

  private void statfs(Pointer request, long node) {
    guard(Operation.STATFS, request, node, () -> {
      LiveFileSystem.Space space = fs.space();
      Pointer stat = scratch.get().statvfs;
      FuseStructs.putStatvfs(stat, BLOCK, space.total() / BLOCK, space.free() / BLOCK, space.available() / BLOCK,
          Name.MAX_LENGTH);
      fuse.fuse_reply_statfs(request, stat);
      return 0;
    });
  }

  private void mknod(Pointer request, long parent, Pointer name, int mode, long rdev) {
    guard(Operation.MKNOD, request, parent,
        () -> replyEntry(request, parent, fs.mknod(parent, name(name), mode, rdev, caller(request))));
  }

  private void mkdir(Pointer request, long parent, Pointer name, int mode) {
    guard(Operation.MKDIR, request, parent,
        () -> replyEntry(request, parent, fs.mkdir(parent, name(name), mode, caller(request))));
  }

  private void symlink(Pointer request, Pointer target, long parent, Pointer name) {
    guard(Operation.SYMLINK, request, parent, () -> {
      byte[] to = bytes(target, Namespace.MAX_SYMLINK_TARGET);
      return replyEntry(request, parent, fs.symlink(to, parent, name(name), caller(request)));
    });
  }

  private void readlink(Pointer request, long node) {
    guard(Operation.READLINK, request, node, () -> {
      fuse.fuse_reply_readlink(request, terminated(fs.readlink(node)));
      return 0;
    });
  }

  private void unlink(Pointer request, long parent, Pointer name) {
    guard(Operation.UNLINK, request, parent, () -> {
      fs.unlink(parent, name(name));
      return ok(request);
    });
  }

  private void rmdir(Pointer request, long parent, Pointer name) {
    guard(Operation.RMDIR, request, parent, () -> {
      fs.rmdir(parent, name(name));
      return ok(request);
    });
  }

  /** renameat2: RENAME_NOREPLACE is served; RENAME_EXCHANGE and RENAME_WHITEOUT are not (EINVAL, as on filesystems without them). */
  private void rename(Pointer request, long parent, Pointer name, long newParent, Pointer newName, int flags) {
    guard(Operation.RENAME, request, parent, () -> {
      if ((flags & ~RENAME_NOREPLACE) != 0) {
        throw new FileSystemException(A_NAME, null, "Invalid argument");
      }
      fs.rename(parent, name(name), newParent, name(newName), (flags & RENAME_NOREPLACE) == 0);
      return ok(request);
    });
  }

  private void link(Pointer request, long node, long newParent, Pointer newName) {
    guard(Operation.LINK, request, node, () -> replyEntry(request, newParent, fs.link(node, newParent, name(newName))));
  }

  // ---------------------------------------------------------------- directories

  private void opendir(Pointer request, long node, Pointer fileInfo) {
    guard(Operation.OPENDIR, request, node, () -> {
      if (!opensDirectories) {
        throw new FileSystemException("node " + node, null, "Function not implemented");
      }
      if (!fs.getattr(node).isDirectory()) {
        throw new FileSystemException("node " + node, null, "Not a directory");
      }
      if (LiveFileSystem.isSnapshotView(node) && node != LiveFileSystem.SNAPSHOTS_NODE) {
        // A snapshot's directory never changes: the kernel can keep its listing.
        FuseStructs.setCacheListing(fileInfo);
      }
      fuse.fuse_reply_open(request, fileInfo);
      return 0;
    });
  }

  /**
   * Fills up to {@code size} bytes of entries from {@code offset} on, with each entry's type and
   * inode number (d_type, d_ino), so that find, ls and rsync need not look up every name just to
   * learn whether it is a directory.
   */
  private void readdir(Pointer request, long node, long size, long offset, Pointer fileInfo) {
    guard(Operation.READDIR, request, node, () -> list(request, node, size, offset, false));
  }

  /**
   * readdir with each entry's node and attributes, as a lookup of its name gives them, so that
   * find, ls -l, rsync and cp -a need no lookup request per name. The kernel counts every entry
   * with a node as a lookup, as it counts a lookup's reply. libfuse asks for it by default once it
   * is served, and the kernel uses it for a directory's first page and, after that, only while
   * names of that directory keep being looked up (READDIRPLUS_AUTO).
   */
  private void readdirplus(Pointer request, long node, long size, long offset, Pointer fileInfo) {
    guard(Operation.READDIRPLUS, request, node, () -> list(request, node, size, offset, true));
  }

  private long list(Pointer request, long node, long size, long offset, boolean plus)
      throws IOException {
    DirectoryCursors.Cursor cursor = cursors.forOffset(node, offset);
    Entries entries = new Entries(request, node, scratch.get(), Math.min(size, MAX_IO), plus);
    long next = DirectoryCursors.position(offset);
    if (next == 0) {
      Inode dir = fs.getattr(node);
      long parent = dir.parent() != 0 ? dir.parent() : node;
      if (!entries.addNameOnly(DOT, node, Mode.S_IFDIR, cursor.offset(1))
          || !entries.addNameOnly(DOT_DOT, parent, Mode.S_IFDIR, cursor.offset(2))) {
        return entries.reply();
      }
      next = 2;
    }
    Name after = cursor.after(next, (from, limit) -> fs.list(node, from, limit));
    // readdirplus looks up what it lists: no more than a reply can hold (an entry takes 160 bytes or more).
    int pageSize = plus ? (int) (entries.capacity / PLUS_ENTRY_MIN) + 1 : READDIR_PAGE;
    while (true) {
      int listed;
      if (plus) {
        List<LiveFileSystem.Listed> page = fs.listLookedUp(node, after, pageSize);
        listed = page.size();
        for (int i = 0; i < listed; i++) {
          LiveFileSystem.Listed e = page.get(i);
          if (!entries.addLookedUp(e, cursor.offset(next + 1))) {
            page.subList(i, listed).forEach(unsent -> fs.forget(unsent.inode().number(), 1));
            return entries.reply();
          }
          next++;
          cursor.advanced(next, e.name());
          after = e.name();
        }
      } else {
        List<DirEntry> page = fs.list(node, after, pageSize);
        listed = page.size();
        for (DirEntry e : page) {
          if (!entries.addNameOnly(terminated(e.name().bytes()), e.inode(), e.type(), cursor.offset(next + 1))) {
            return entries.reply();
          }
          next++;
          cursor.advanced(next, e.name());
          after = e.name();
        }
      }
      if (listed < pageSize) {
        return entries.reply();
      }
    }
  }

  private static final byte[] DOT = {'.', 0};
  private static final byte[] DOT_DOT = {'.', '.', 0};
  /** The smallest readdirplus entry: fuse_entry_out, the dirent's header and a name of one byte, 8-aligned. */
  private static final int PLUS_ENTRY_MIN = 160;

  /** A readdir or readdirplus reply being filled: entries in libfuse's format, one after the other. */
  private final class Entries {
    private final Pointer request;
    private final long directory;
    private final Scratch scratch;
    final long capacity;
    private final boolean plus;
    private long used;
    /** Nodes given with the entries so far: lookups the kernel never counted if the reply fails. */
    private final List<Long> given = new ArrayList<>();

    Entries(Pointer request, long directory, Scratch scratch, long capacity, boolean plus) {
      this.request = request;
      this.directory = directory;
      this.scratch = scratch;
      this.capacity = capacity;
      this.plus = plus;
    }

    /** A readdirplus entry with its node and attributes, if it fits; false when the reply is full. */
    boolean addLookedUp(LiveFileSystem.Listed e, long nextOffset) {
      Inode inode = e.inode();
      FuseStructs.putEntry(scratch.entry, inode, attributeTimeout(inode.number()), nameTimeout(directory));
      if (!append(fuse.fuse_add_direntry_plus(request, scratch.dataPointer.slice(used), capacity - used,
          terminated(e.name().bytes()), scratch.entry, nextOffset))) {
        return false;
      }
      given.add(inode.number());
      return true;
    }

    /** An entry with its inode number and type only, if it fits: "." and "..", and every entry of readdir. */
    boolean addNameOnly(byte[] terminatedName, long inode, int type, long nextOffset) {
      if (plus) {
        FuseStructs.putNameOnlyEntry(scratch.entry, inode, type);
        return append(fuse.fuse_add_direntry_plus(request, scratch.dataPointer.slice(used), capacity - used,
            terminatedName, scratch.entry, nextOffset));
      }
      FuseStructs.putDirentStat(scratch.stat, inode, type);
      return append(fuse.fuse_add_direntry(request, scratch.dataPointer.slice(used), capacity - used, terminatedName,
          scratch.stat, nextOffset));
    }

    /** libfuse writes an entry only if it fits, and returns its size either way. */
    private boolean append(long needed) {
      if (needed > capacity - used) {
        return false;
      }
      used += needed;
      return true;
    }

    long reply() {
      if (fuse.fuse_reply_buf(request, scratch.dataPointer, used) != 0) {
        given.forEach(node -> fs.forget(node, 1));
      }
      return 0;
    }
  }

  /** Only from a kernel that asks opendir: listings are not tied to open directories (see DirectoryCursors). */
  private void releasedir(Pointer request, long node, Pointer fileInfo) {
    guard(Operation.RELEASEDIR, request, node, () -> ok(request));
  }

  // ---------------------------------------------------------------- files

  private void create(Pointer request, long parent, Pointer name, int mode, Pointer fileInfo) {
    guard(Operation.CREATE, request, parent, () -> {
      LiveFileSystem.Created created = fs.create(parent, name(name), mode, caller(request));
      Pointer entry = scratch.get().entry;
      FuseStructs.putEntry(entry, created.inode(), CACHE_SECONDS, CACHE_SECONDS);
      FuseStructs.setHandle(fileInfo, created.handle());
      if (bypassesPageCache(FuseStructs.openFlags(fileInfo))) {
        FuseStructs.setDirectIo(fileInfo);
      }
      if (fuse.fuse_reply_create(request, entry, fileInfo) != 0) {
        releaseQuietly(created.handle());
      }
      return 0;
    });
  }

  private void open(Pointer request, long node, Pointer fileInfo) {
    guard(Operation.OPEN, request, node, () -> {
      boolean forWriting = (FuseStructs.openFlags(fileInfo) & O_ACCMODE) != O_RDONLY;
      return replyOpen(request, fileInfo, fs.open(node, forWriting), forWriting);
    });
  }

  private void read(Pointer request, long node, long size, long offset, Pointer fileInfo) {
    guard(Operation.READ, request, node, () -> {
      Scratch s = scratch.get();
      ByteBuffer dst = s.data.clear().limit((int) Math.min(size, MAX_IO));
      int n = fs.read(FuseStructs.handle(fileInfo), offset, dst);
      fuse.fuse_reply_buf(request, s.dataPointer, n);
      return n;
    });
  }

  private void write(Pointer request, long node, Pointer data, long size, long offset, Pointer fileInfo) {
    guard(Operation.WRITE, request, node, () -> {
      if (size > MAX_IO) {
        throw new FileSystemException("node " + node, null, "Invalid argument");
      }
      // Read where libfuse received it: the write copies every byte out before the reply, after
      // which libfuse reuses the memory.
      ByteBuffer bytes = NATIVE.newDirectByteBuffer(data.address(), (int) size);
      if (fs.write(FuseStructs.handle(fileInfo), offset, bytes, FuseStructs.writerLacksFsetid(data))) {
        // The kernel would go on using the set-ID bits it has cached, to exec the file too.
        fuse.fuse_lowlevel_notify_inval_inode(session, node, -1, 0);
      }
      fuse.fuse_reply_write(request, size);
      return size;
    });
  }

  private void fallocate(Pointer request, long node, int mode, long offset, long length, Pointer fileInfo) {
    guard(Operation.FALLOCATE, request, node, () -> {
      if (mode != 0) {
        throw new FileSystemException("node " + node, null, "Operation not supported");
      }
      fs.allocate(FuseStructs.handle(fileInfo), offset, length);
      return ok(request);
    });
  }

  private void flush(Pointer request, long node, Pointer fileInfo) {
    guard(Operation.FLUSH, request, node, () -> {
      fs.flush(FuseStructs.handle(fileInfo));
      return ok(request);
    });
  }

  private void fsync(Pointer request, long node, int dataOnly, Pointer fileInfo) {
    guard(Operation.FSYNC, request, node, () -> {
      fs.fsync(FuseStructs.handle(fileInfo));
      return ok(request);
    });
  }

  private void fsyncdir(Pointer request, long node, int dataOnly, Pointer fileInfo) {
    guard(Operation.FSYNCDIR, request, node, () -> {
      fs.fsyncDirectory();
      return ok(request);
    });
  }

  private void release(Pointer request, long node, Pointer fileInfo) {
    guard(Operation.RELEASE, request, node, () -> {
      fs.release(FuseStructs.handle(fileInfo));
      return ok(request);
    });
  }

  // ---------------------------------------------------------------- extended attributes

  private void setxattr(Pointer request, long node, Pointer name, Pointer value, long size, int flags) {
    guard(Operation.SETXATTR, request, node, () -> {
      XattrMode mode = (flags & XATTR_CREATE) != 0 ? XattrMode.CREATE
          : (flags & XATTR_REPLACE) != 0 ? XattrMode.REPLACE : XattrMode.EITHER;
      byte[] bytes = new byte[(int) size];
      value.get(0, bytes, 0, bytes.length);
      fs.setXattr(node, bytes(name, Name.MAX_LENGTH), bytes, mode);
      return ok(request);
    });
  }

  private void getxattr(Pointer request, long node, Pointer name, long size) {
    guard(Operation.GETXATTR, request, node,
        () -> replyXattr(request, fs.getXattr(node, bytes(name, Name.MAX_LENGTH)), size));
  }

  private void listxattr(Pointer request, long node, long size) {
    guard(Operation.LISTXATTR, request, node, () -> {
      ByteArrayOutputStream names = new ByteArrayOutputStream();
      for (byte[] n : fs.listXattrs(node)) {
        names.write(n);
        names.write(0);
      }
      return replyXattr(request, names.toByteArray(), size);
    });
  }

  /** The xattr calls' protocol: size 0 asks for the length; a buffer too small is ERANGE. */
  private long replyXattr(Pointer request, byte[] value, long size) throws FileSystemException {
    if (size == 0) {
      fuse.fuse_reply_xattr(request, value.length);
      return 0;
    }
    if (size < value.length) {
      throw new FileSystemException("xattr", null, "Numerical result out of range");
    }
    Scratch s = scratch.get();
    s.data.clear().put(value);
    fuse.fuse_reply_buf(request, s.dataPointer, value.length);
    return 0;
  }

  private void removexattr(Pointer request, long node, Pointer name) {
    guard(Operation.REMOVEXATTR, request, node, () -> {
      fs.removeXattr(node, bytes(name, Name.MAX_LENGTH));
      return ok(request);
    });
  }
}
