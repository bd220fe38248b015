package io.dedupfs.fs.fuse;

import io.dedupfs.fs.FsPath;
import io.dedupfs.fs.LiveFileSystem;
import io.dedupfs.fs.LiveFileSystem.Caller;
import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.XattrMode;
import io.dedupfs.store.stats.RequestStats;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * Translates libfuse's high-level (path) calls to {@link LiveFileSystem} and back: paths and
 * names as bytes, attributes into {@code struct stat}, exceptions into errno through one guard.
 * No logic of its own beyond that translation.
 *
 * <p>jnr-ffi turns every C string into a Java string with the JVM's default charset. Names are
 * bytes, not text, so the filesystem process must run with {@code -Dfile.encoding=ISO-8859-1},
 * where each byte is one char and back: the constructor refuses to work otherwise.
 */
public final class FuseAdapter extends FuseStubFS {
  private static final Logger LOG = LoggerFactory.getLogger(FuseAdapter.class);
  static final Charset BYTES = StandardCharsets.ISO_8859_1;
  private static final int READDIR_PAGE = 1024;
  private static final int BLOCK = 4096;
  /** utimensat(2)'s special nanosecond values. */
  private static final long UTIME_NOW = (1L << 30) - 1;
  private static final long UTIME_OMIT = (1L << 30) - 2;
  private static final int UTIME_OMIT_OK = 1 << 2;
  private static final int XATTR_CREATE = 1;
  private static final int XATTR_REPLACE = 2;
  private static final int MAX_IO = 1 << 20;
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;

  private final LiveFileSystem fs;
  private final String fsName;
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final DirectoryCursors cursors = new DirectoryCursors();
  private final FaultLog faults = new FaultLog(LOG);
  /** One counter per {@link Operation}, at its ordinal: nothing is looked up by name on a request's way. */
  private final RequestStats[] requests = Arrays.stream(Operation.values()).map(op -> new RequestStats(op.label))
      .toArray(RequestStats[]::new);
  /** Set in init, before the first request. */
  private volatile AttributeTimeouts attributeTimeouts = AttributeTimeouts.none();
  /** Requests come one at a time (FuseMount runs libfuse single-threaded); per thread all the same, to stay safe if that changes. */
  private final ThreadLocal<byte[]> ioBuffers = ThreadLocal.withInitial(() -> new byte[128 << 10]);
  /** A stat in native memory per thread, for readdir's entries: only st_ino and st_mode are read from it. */
  private final ThreadLocal<FileStat> direntStats = ThreadLocal.withInitial(() -> {
    jnr.ffi.Runtime runtime = jnr.ffi.Runtime.getSystemRuntime();
    return FileStat.of(jnr.ffi.Memory.allocateDirect(runtime, Struct.size(new FileStat(runtime))));
  });

  public FuseAdapter(LiveFileSystem fs, String fsName) {
    if (!Charset.defaultCharset().equals(BYTES)) {
      throw new IllegalStateException("the filesystem process runs with file.encoding=" + Charset.defaultCharset()
          + "; it needs -Dfile.encoding=ISO-8859-1 so that file names pass through as bytes");
    }
    this.fs = fs;
    this.fsName = fsName;
    acceptOmittedTimes();
  }

  /**
   * Sets fuse_operations.flag_utime_omit_ok (bit 2 of the flags word after the callbacks), which
   * jnr-fuse does not expose as a setting. Without it libfuse 2.9 silently drops a utimensat that
   * sets only one of the two times (UTIME_OMIT), as tar -x does for every file it extracts.
   */
  private void acceptOmittedTimes() {
    try {
      // offset() is public but declared in a package-private class of jnr-ffi.
      Object member = fuseOperations.getClass().getField("flag_nullpath_ok").get(fuseOperations);
      java.lang.reflect.Method offset = member.getClass().getMethod("offset");
      offset.setAccessible(true);
      long flags = (Long) offset.invoke(member);
      Pointer ops = Struct.getMemory(fuseOperations);
      ops.putInt(flags, ops.getInt(flags) | UTIME_OMIT_OK);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot set flag_utime_omit_ok in jnr-fuse's fuse_operations", e);
    }
  }

  /** Completes when the kernel has finished the FUSE handshake: the mount is live. */
  public CompletableFuture<Void> initialized() {
    return initialized;
  }

  @Override
  protected String getFSName() {
    return fsName;
  }

  private interface Body {
    int run() throws Exception;
  }

  /**
   * Every call goes through here: jnr-fuse has no try/catch of its own around Java code. Each is
   * counted, with the time from here to the reply: a negative reply (an errno) is an error.
   */
  private int guard(Operation op, String path, Body body) {
    long start = System.nanoTime();
    int reply;
    try {
      reply = body.run();
    } catch (Throwable e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      int errno = Errno.of(e);
      if (Errno.isFault(errno)) {
        faults.log(op.label, path, e);
      } else if (LOG.isDebugEnabled()) {
        LOG.debug("{} {}: {}", op.label, path, e.toString());
      }
      reply = -errno;
    }
    requests[op.ordinal()].served(System.nanoTime() - start, reply < 0, op.movesData && reply > 0 ? reply : 0);
    return reply;
  }

  /**
   * The requests served since the mount, one entry per operation in {@link Operation}'s order
   * (those never asked for too): how many, the time spent in this adapter and below it, errors
   * answered, and bytes read or written. Time in libfuse, jnr-fuse and the kernel is not in it.
   */
  public List<RequestStats.Snapshot> requestStats() {
    return Arrays.stream(requests).map(RequestStats::snapshot).toList();
  }

  private static FsPath path(String path) throws java.nio.file.FileSystemException {
    return FsPath.parse(path.getBytes(BYTES));
  }

  private Caller caller() {
    var context = getContext();
    return new Caller((int) context.uid.get(), (int) context.gid.get());
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public Pointer init(Pointer conn) {
    attributeTimeouts = AttributeTimeouts.locate(getContext().fuse.get());
    if (!attributeTimeouts.located()) {
      LOG.warn("this libfuse is not the 2.9 whose configuration dedupfs knows: no attributes are cached,"
          + " so every path walk asks the filesystem (correct, slower)");
    }
    initialized.complete(null);
    return null;
  }

  // ---------------------------------------------------------------- attributes

  /** libfuse replies with the attributes these two fill in: each sets how long they may be cached. */
  @Override
  public int getattr(String path, FileStat stat) {
    return guard(Operation.GETATTR, path, () -> reply(stat, fs.getattr(path(path))));
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    return guard(Operation.FGETATTR, path, () -> reply(stat, fs.getattr(fi.fh.get())));
  }

  private int reply(FileStat stat, Inode inode) {
    attributeTimeouts.beforeReply(inode, LiveFileSystem.isSnapshotView(inode));
    return fill(stat, inode);
  }

  private static int fill(FileStat stat, Inode inode) {
    stat.st_ino.set(inode.number());
    stat.st_mode.set(inode.mode());
    stat.st_nlink.set(inode.nlink());
    stat.st_uid.set(Integer.toUnsignedLong(inode.uid()));
    stat.st_gid.set(Integer.toUnsignedLong(inode.gid()));
    stat.st_size.set(inode.size());
    stat.st_rdev.set(inode.rdev());
    stat.st_blksize.set(128 << 10);
    stat.st_blocks.set((inode.size() + 511) / 512);
    setTime(stat.st_atim, inode.atimeNanos());
    setTime(stat.st_mtim, inode.mtimeNanos());
    setTime(stat.st_ctim, inode.ctimeNanos());
    return 0;
  }

  private static void setTime(Timespec t, long nanos) {
    t.tv_sec.set(Math.floorDiv(nanos, 1_000_000_000L));
    t.tv_nsec.set(Math.floorMod(nanos, 1_000_000_000L));
  }

  @Override
  public int chmod(String path, @mode_t long mode) {
    return guard(Operation.CHMOD, path, () -> {
      fs.setAttributes(path(path), AttributeChange.permissions((int) mode));
      return 0;
    });
  }

  @Override
  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    return guard(Operation.CHOWN, path, () -> {
      // (uid_t) -1 leaves the owner as it is; jnr hands it over as 2^32-1 or -1.
      Integer u = (int) uid == -1 ? null : (int) uid;
      Integer g = (int) gid == -1 ? null : (int) gid;
      fs.setAttributes(path(path), new AttributeChange(null, u, g, null, null));
      return 0;
    });
  }

  @Override
  public int utimens(String path, Timespec[] times) {
    return guard(Operation.UTIMENS, path, () -> {
      fs.setAttributes(path(path), AttributeChange.times(timeOf(times[0]), timeOf(times[1])));
      return 0;
    });
  }

  private Long timeOf(Timespec t) {
    long nsec = t.tv_nsec.longValue();
    if (nsec == UTIME_OMIT) {
      return null;
    }
    if (nsec == UTIME_NOW) {
      return fs.now();
    }
    return t.tv_sec.get() * 1_000_000_000L + nsec;
  }

  @Override
  public int statfs(String path, Statvfs stat) {
    return guard(Operation.STATFS, path, () -> {
      LiveFileSystem.Space space = fs.space();
      stat.f_bsize.set(BLOCK);
      stat.f_frsize.set(BLOCK);
      stat.f_blocks.set(space.total() / BLOCK);
      stat.f_bfree.set(space.free() / BLOCK);
      stat.f_bavail.set(space.available() / BLOCK);
      stat.f_namemax.set(Name.MAX_LENGTH);
      return 0;
    });
  }

  // ---------------------------------------------------------------- names

  @Override
  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    return guard(Operation.MKNOD, path, () -> {
      fs.mknod(path(path), (int) mode, rdev, caller());
      return 0;
    });
  }

  @Override
  public int mkdir(String path, @mode_t long mode) {
    return guard(Operation.MKDIR, path, () -> {
      fs.mkdir(path(path), (int) mode, caller());
      return 0;
    });
  }

  @Override
  public int symlink(String target, String linkPath) {
    return guard(Operation.SYMLINK, linkPath, () -> {
      fs.symlink(target.getBytes(BYTES), path(linkPath), caller());
      return 0;
    });
  }

  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    return guard(Operation.READLINK, path, () -> {
      byte[] target = fs.readlink(path(path));
      // As readlink(2) through libfuse: truncated to fit, always NUL-terminated.
      int n = (int) Math.min(target.length, size - 1);
      buf.put(0, target, 0, n);
      buf.putByte(n, (byte) 0);
      return 0;
    });
  }

  @Override
  public int unlink(String path) {
    return guard(Operation.UNLINK, path, () -> {
      fs.unlink(path(path));
      return 0;
    });
  }

  @Override
  public int rmdir(String path) {
    return guard(Operation.RMDIR, path, () -> {
      fs.rmdir(path(path));
      return 0;
    });
  }

  @Override
  public int rename(String from, String to) {
    return guard(Operation.RENAME, from, () -> {
      fs.rename(path(from), path(to));
      return 0;
    });
  }

  @Override
  public int link(String existing, String newPath) {
    return guard(Operation.LINK, newPath, () -> {
      fs.link(path(existing), path(newPath));
      return 0;
    });
  }

  // ---------------------------------------------------------------- directories

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return guard(Operation.OPENDIR, path, () -> {
      FsPath dir = path(path);
      if (!fs.getattr(dir).isDirectory()) {
        return -ErrorCodes.ENOTDIR();
      }
      fi.fh.set(cursors.open(dir));
      return 0;
    });
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
    return guard(Operation.READDIR, path, () -> {
      DirectoryCursors.Cursor cursor = cursors.get(fi.fh.get());
      long next = offset;
      if (next == 0) {
        if (fill(filler, buf, ".", 1) || fill(filler, buf, "..", 2)) {
          return 0;
        }
        next = 2;
      }
      Name after = cursor.positionFor(next, (from, limit) -> fs.list(cursor.directory(), from, limit));
      while (true) {
        List<DirEntry> page = fs.list(cursor.directory(), after, READDIR_PAGE);
        for (DirEntry e : page) {
          next++;
          if (fill(filler, buf, e.name().bytes(), e, next)) {
            return 0;
          }
          cursor.advanced(next, e.name());
          after = e.name();
        }
        if (page.size() < READDIR_PAGE) {
          return 0;
        }
      }
    });
  }

  /** Hands one entry to the kernel's buffer; true when the buffer is full and the entry did not fit. */
  private boolean fill(FuseFillDir filler, Pointer buf, String dotName, long nextOffset) {
    return fill(filler, buf, dotName.getBytes(BYTES), null, nextOffset);
  }

  /**
   * With the entry's type and inode number (d_type, d_ino), so that find, ls and rsync need not
   * stat every name just to learn whether it is a directory.
   */
  private boolean fill(FuseFillDir filler, Pointer buf, byte[] name, DirEntry entry, long nextOffset) {
    ByteBuffer terminated = ByteBuffer.allocate(name.length + 1).put(name).put((byte) 0).flip();
    Pointer stat = null;
    if (entry != null) {
      FileStat s = direntStats.get();
      s.st_ino.set(entry.inode());
      s.st_mode.set(entry.type());
      stat = Struct.getMemory(s);
    }
    return filler.apply(buf, terminated, stat, nextOffset) != 0;
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return guard(Operation.RELEASEDIR, path, () -> {
      cursors.close(fi.fh.get());
      return 0;
    });
  }

  // ---------------------------------------------------------------- files

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    return guard(Operation.CREATE, path, () -> {
      fi.fh.set(fs.create(path(path), (int) mode, caller()));
      return 0;
    });
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    return guard(Operation.OPEN, path, () -> {
      int access = fi.flags.intValue() & O_ACCMODE;
      fi.fh.set(fs.open(path(path), access != O_RDONLY));
      return 0;
    });
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return guard(Operation.READ, path, () -> {
      byte[] bytes = buffer(size);
      int n = fs.read(fi.fh.get(), offset, ByteBuffer.wrap(bytes, 0, (int) size));
      buf.put(0, bytes, 0, n);
      return n;
    });
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return guard(Operation.WRITE, path, () -> {
      byte[] bytes = buffer(size);
      buf.get(0, bytes, 0, (int) size);
      fs.write(fi.fh.get(), offset, ByteBuffer.wrap(bytes, 0, (int) size));
      return (int) size;
    });
  }

  private byte[] buffer(long size) {
    if (size > MAX_IO) {
      throw new IllegalArgumentException("I/O of " + size + " bytes");
    }
    byte[] b = ioBuffers.get();
    if (b.length < size) {
      b = new byte[(int) size];
      ioBuffers.set(b);
    }
    return b;
  }

  @Override
  public int truncate(String path, @off_t long size) {
    return guard(Operation.TRUNCATE, path, () -> {
      fs.truncate(path(path), size);
      return 0;
    });
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    return guard(Operation.FTRUNCATE, path, () -> {
      fs.truncate(fi.fh.get(), size);
      return 0;
    });
  }

  @Override
  public int fallocate(String path, int mode, @off_t long offset, @off_t long length, FuseFileInfo fi) {
    return guard(Operation.FALLOCATE, path, () -> {
      if (mode != 0) {
        return -ErrorCodes.EOPNOTSUPP();
      }
      fs.allocate(fi.fh.get(), offset, length);
      return 0;
    });
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return guard(Operation.FLUSH, path, () -> {
      fs.flush(fi.fh.get());
      return 0;
    });
  }

  @Override
  public int fsync(String path, int datasync, FuseFileInfo fi) {
    return guard(Operation.FSYNC, path, () -> {
      fs.fsync(fi.fh.get());
      return 0;
    });
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return guard(Operation.RELEASE, path, () -> {
      fs.release(fi.fh.get());
      return 0;
    });
  }

  // ---------------------------------------------------------------- extended attributes

  @Override
  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    return guard(Operation.SETXATTR, path, () -> {
      XattrMode mode = (flags & XATTR_CREATE) != 0 ? XattrMode.CREATE
          : (flags & XATTR_REPLACE) != 0 ? XattrMode.REPLACE : XattrMode.EITHER;
      byte[] bytes = new byte[(int) size];
      value.get(0, bytes, 0, bytes.length);
      fs.setXattr(path(path), name.getBytes(BYTES), bytes, mode);
      return 0;
    });
  }

  @Override
  public int getxattr(String path, String name, Pointer value, @size_t long size) {
    return guard(Operation.GETXATTR, path, () -> {
      byte[] bytes = fs.getXattr(path(path), name.getBytes(BYTES));
      return copyOut(bytes, value, size);
    });
  }

  @Override
  public int listxattr(String path, Pointer list, @size_t long size) {
    return guard(Operation.LISTXATTR, path, () -> {
      java.io.ByteArrayOutputStream names = new java.io.ByteArrayOutputStream();
      for (byte[] n : fs.listXattrs(path(path))) {
        names.write(n);
        names.write(0);
      }
      return copyOut(names.toByteArray(), list, size);
    });
  }

  /** The xattr calls' protocol: size 0 asks for the length; a buffer too small is ERANGE. */
  private static int copyOut(byte[] bytes, Pointer dst, long size) {
    if (size == 0) {
      return bytes.length;
    }
    if (size < bytes.length) {
      return -ErrorCodes.ERANGE();
    }
    dst.put(0, bytes, 0, bytes.length);
    return bytes.length;
  }

  @Override
  public int removexattr(String path, String name) {
    return guard(Operation.REMOVEXATTR, path, () -> {
      fs.removeXattr(path(path), name.getBytes(BYTES));
      return 0;
    });
  }
}
