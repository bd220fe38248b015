package io.dedupfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The functions of libfuse 3's low-level API that dedupfs calls (fuse_lowlevel.h of libfuse
 * 3.14; every one of them has been in the library since 3.0). Requests are answered by node id,
 * so this binding needs no path and no name passes through a Java String: strings go in as
 * NUL-terminated byte arrays.
 */
public interface LibFuse {
  /** libfuse 3 as Debian installs it: the runtime package has only the versioned name. */
  static LibFuse load() {
    LinkageError first = null;
    for (String name : new String[] {"libfuse3.so.3", "fuse3"}) {
      try {
        return LibraryLoader.create(LibFuse.class).failImmediately().load(name);
      } catch (LinkageError e) {
        first = first == null ? e : first;
      }
    }
    throw new UnsatisfiedLinkError("libfuse 3 is not installed (Debian: apt-get install fuse3): " + first.getMessage());
  }

  Pointer fuse_session_new(Pointer args, Pointer operations, @size_t long operationsSize, Pointer userdata);

  int fuse_session_mount(Pointer session, @In byte[] mountpoint);

  int fuse_session_receive_buf(Pointer session, Pointer buf);

  void fuse_session_process_buf(Pointer session, Pointer buf);

  void fuse_session_exit(Pointer session);

  /**
   * Replaces the reads and writes of {@code /dev/fuse} with {@code io} (a struct
   * fuse_custom_io, copied): how replies to requests that came by io_uring are taken.
   */
  int fuse_session_custom_io(Pointer session, Pointer io, int fd);

  /** The session's {@code /dev/fuse} descriptor. */
  int fuse_session_fd(Pointer session);

  void fuse_session_unmount(Pointer session);

  void fuse_session_destroy(Pointer session);

  /** Drops what the kernel caches of a node: its attributes, and with {@code offset} ≥ 0 its pages from there. */
  int fuse_lowlevel_notify_inval_inode(Pointer session, long node, long offset, long length);

  Pointer fuse_req_ctx(Pointer request);

  int fuse_reply_err(Pointer request, int errno);

  void fuse_reply_none(Pointer request);

  int fuse_reply_entry(Pointer request, Pointer entry);

  int fuse_reply_create(Pointer request, Pointer entry, Pointer fileInfo);

  int fuse_reply_attr(Pointer request, Pointer stat, double timeout);

  int fuse_reply_readlink(Pointer request, @In byte[] target);

  int fuse_reply_open(Pointer request, Pointer fileInfo);

  int fuse_reply_write(Pointer request, @size_t long count);

  int fuse_reply_buf(Pointer request, Pointer buf, @size_t long size);

  int fuse_reply_statfs(Pointer request, Pointer statvfs);

  int fuse_reply_xattr(Pointer request, @size_t long count);

  @size_t
  long fuse_add_direntry(Pointer request, Pointer buf, @size_t long bufsize, @In byte[] name, Pointer stat, long nextOffset);

  /** An entry with its node and attributes (struct fuse_entry_param); node 0 gives only name, inode number and type. */
  @size_t
  long fuse_add_direntry_plus(Pointer request, Pointer buf, @size_t long bufsize, @In byte[] name, Pointer entry,
      long nextOffset);

  /** What of libc the request threads use. */
  interface LibC {
    static LibC load() {
      return LibraryLoader.create(LibC.class).failImmediately().load("c");
    }

    /** Frees what libfuse allocated for a request buffer. */
    void free(Pointer memory);

    int fcntl(int fd, int command, int argument);

    @SaveError
    @ssize_t
    long read(int fd, Pointer buffer, @size_t long count);

    @SaveError
    @ssize_t
    long writev(int fd, Pointer iov, int count);

    int close(int fd);

    /** A system call by number: for io_uring, which libc has no wrappers for. */
    @SaveError
    long syscall(long number, long a, long b, long c, long d, long e, long f);

    /** MAP_FAILED is the address -1. */
    @SaveError
    Pointer mmap(Pointer address, @size_t long length, int protection, int flags, int fd, @off_t long offset);

    int munmap(Pointer address, @size_t long length);

    int umount2(@In byte[] target, int flags);

    /** {@code mask}: a cpu_set_t of {@code size} bytes; pid 0 is the calling thread. */
    int sched_setaffinity(int pid, @size_t long size, Pointer mask);

    /** {@code fds}: an array of struct pollfd (int fd, short events, short revents). */
    @SaveError
    int poll(Pointer fds, long count, int timeoutMillis);
  }
}
