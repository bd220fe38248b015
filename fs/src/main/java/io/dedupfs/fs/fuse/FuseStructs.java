package io.dedupfs.fs.fuse;

import io.dedupfs.store.namespace.Inode;
import jnr.ffi.Pointer;

/**
 * The C structs exchanged with libfuse 3, by byte offset, as laid out on x86-64 Linux with glibc
 * (the only platform this binding knows; {@link FuseMount} refuses others). Offsets follow
 * libfuse 3.14's headers and glibc's {@code struct stat} and {@code struct statvfs}.
 */
final class FuseStructs {
  private FuseStructs() {}

  /** Whether this process runs where these layouts hold. */
  static boolean layoutsHold() {
    String arch = System.getProperty("os.arch");
    return System.getProperty("os.name").equals("Linux") && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  // ---------------------------------------------------------------- struct stat

  static final int STAT_SIZE = 144;
  private static final int ST_INO = 8;
  private static final int ST_NLINK = 16;
  private static final int ST_MODE = 24;
  private static final int ST_UID = 28;
  private static final int ST_GID = 32;
  private static final int ST_RDEV = 40;
  private static final int ST_SIZE = 48;
  private static final int ST_BLKSIZE = 56;
  private static final int ST_BLOCKS = 64;
  private static final int ST_ATIME = 72;
  private static final int ST_MTIME = 88;
  private static final int ST_CTIME = 104;
  private static final long NANOS = 1_000_000_000L;
  private static final int PREFERRED_IO = 128 << 10;

  /** Fills the whole struct stat at {@code at}; what an inode does not have is zero. */
  static void putStat(Pointer p, long at, Inode inode) {
    p.setMemory(at, STAT_SIZE, (byte) 0);
    p.putLong(at + ST_INO, inode.number());
    p.putLong(at + ST_NLINK, inode.nlink());
    p.putInt(at + ST_MODE, inode.mode());
    p.putInt(at + ST_UID, inode.uid());
    p.putInt(at + ST_GID, inode.gid());
    p.putLong(at + ST_RDEV, inode.rdev());
    p.putLong(at + ST_SIZE, inode.size());
    p.putLong(at + ST_BLKSIZE, PREFERRED_IO);
    p.putLong(at + ST_BLOCKS, (inode.size() + 511) / 512);
    putTime(p, at + ST_ATIME, inode.atimeNanos());
    putTime(p, at + ST_MTIME, inode.mtimeNanos());
    putTime(p, at + ST_CTIME, inode.ctimeNanos());
  }

  /** Only what readdir's entries carry: the inode number and the type bits of the mode. */
  static void putDirentStat(Pointer p, long inode, int type) {
    p.putLong(ST_INO, inode);
    p.putInt(ST_MODE, type);
  }

  private static void putTime(Pointer p, long at, long nanos) {
    p.putLong(at, Math.floorDiv(nanos, NANOS));
    p.putLong(at + 8, Math.floorMod(nanos, NANOS));
  }

  /** The fields setattr reads from the struct stat it is given. */
  static int statMode(Pointer stat) {
    return stat.getInt(ST_MODE);
  }

  static int statUid(Pointer stat) {
    return stat.getInt(ST_UID);
  }

  static int statGid(Pointer stat) {
    return stat.getInt(ST_GID);
  }

  static long statSize(Pointer stat) {
    return stat.getLong(ST_SIZE);
  }

  static long statAtimeNanos(Pointer stat) {
    return timeAt(stat, ST_ATIME);
  }

  static long statMtimeNanos(Pointer stat) {
    return timeAt(stat, ST_MTIME);
  }

  private static long timeAt(Pointer stat, long at) {
    return stat.getLong(at) * NANOS + stat.getLong(at + 8);
  }

  // ---------------------------------------------------------------- struct fuse_entry_param

  static final int ENTRY_SIZE = 176;
  private static final int ENTRY_INO = 0;
  private static final int ENTRY_GENERATION = 8;
  private static final int ENTRY_ATTR = 16;
  private static final int ENTRY_ATTR_TIMEOUT = 160;
  private static final int ENTRY_ENTRY_TIMEOUT = 168;

  /** A positive entry: the node, its attributes and how long the kernel may keep each. */
  static void putEntry(Pointer p, Inode inode, double attrTimeout, double entryTimeout) {
    p.putLong(ENTRY_INO, inode.number());
    p.putLong(ENTRY_GENERATION, 0);
    putStat(p, ENTRY_ATTR, inode);
    p.putDouble(ENTRY_ATTR_TIMEOUT, attrTimeout);
    p.putDouble(ENTRY_ENTRY_TIMEOUT, entryTimeout);
  }

  /**
   * An entry of a readdirplus listing without a node (0): only the inode number and type, for
   * "." and "..", which the kernel does not look up, and for a name gone since it was listed.
   */
  static void putNameOnlyEntry(Pointer p, long inode, int type) {
    p.setMemory(0, ENTRY_SIZE, (byte) 0);
    putDirentStat(p.slice(ENTRY_ATTR), inode, type);
  }

  /** A negative entry (node 0): "no such name", cached by the kernel for {@code timeout} seconds. */
  static void putNegativeEntry(Pointer p, double timeout) {
    p.setMemory(0, ENTRY_SIZE, (byte) 0);
    p.putDouble(ENTRY_ENTRY_TIMEOUT, timeout);
  }

  // ---------------------------------------------------------------- struct fuse_file_info

  private static final int FI_FLAGS = 0;
  private static final int FI_BITS = 4;
  private static final int FI_FH = 16;
  /** direct_io in the bit-field word: reads and writes bypass the kernel's page cache. */
  private static final int FI_DIRECT_IO = 1 << 1;
  /** keep_cache in the bit-field word: the kernel may keep the file's pages across opens. */
  private static final int FI_KEEP_CACHE = 1 << 2;
  /** cache_readdir: the kernel may keep a directory's listing. */
  private static final int FI_CACHE_READDIR = 1 << 6;
  /** noflush: close(2) sends no FLUSH. */
  private static final int FI_NOFLUSH = 1 << 7;

  static int openFlags(Pointer fi) {
    return fi.getInt(FI_FLAGS);
  }

  static long handle(Pointer fi) {
    return fi.getLong(FI_FH);
  }

  static void setHandle(Pointer fi, long handle) {
    fi.putLong(FI_FH, handle);
  }

  static void setKeepCache(Pointer fi) {
    setBits(fi, FI_KEEP_CACHE);
  }

  static void setCacheListing(Pointer fi) {
    setBits(fi, FI_KEEP_CACHE | FI_CACHE_READDIR);
  }

  static void setNoFlush(Pointer fi) {
    setBits(fi, FI_NOFLUSH);
  }

  static void setDirectIo(Pointer fi) {
    setBits(fi, FI_DIRECT_IO);
  }

  // ---------------------------------------------------------------- struct fuse_write_in

  /** The kernel's fuse_write_in, which libfuse 3 hands a write's data right behind (protocol 7.9 on). */
  private static final int WRITE_IN_SIZE = 40;
  private static final int WRITE_IN_WRITE_FLAGS = 20;
  /** FUSE_WRITE_KILL_SUIDGID: the writer lacks CAP_FSETID. */
  private static final int WRITE_KILL_SUIDGID = 1 << 2;

  /**
   * Whether the kernel marked the write whose data starts at {@code data} as made by a writer who
   * may not keep set-ID bits. libfuse 3.14 does not pass write_flags on, so they are read from
   * the request itself, which libfuse's write callback points into.
   */
  static boolean writerLacksFsetid(Pointer data) {
    return (data.getInt(WRITE_IN_WRITE_FLAGS - WRITE_IN_SIZE) & WRITE_KILL_SUIDGID) != 0;
  }

  private static void setBits(Pointer fi, int bits) {
    fi.putInt(FI_BITS, fi.getInt(FI_BITS) | bits);
  }

  // ---------------------------------------------------------------- struct fuse_ctx

  static int contextUid(Pointer ctx) {
    return ctx.getInt(0);
  }

  static int contextGid(Pointer ctx) {
    return ctx.getInt(4);
  }

  // ---------------------------------------------------------------- struct fuse_conn_info

  static final int CONN_MAX_WRITE = 8;
  static final int CONN_MAX_READ = 12;
  static final int CONN_CAPABLE = 20;
  static final int CONN_WANT = 24;

  // ---------------------------------------------------------------- struct fuse_forget_data

  static final int FORGET_SIZE = 16;

  // ---------------------------------------------------------------- struct statvfs

  static final int STATVFS_SIZE = 112;

  static void putStatvfs(Pointer p, long blockSize, long blocks, long free, long available, int nameMax) {
    p.setMemory(0, STATVFS_SIZE, (byte) 0);
    p.putLong(0, blockSize);
    p.putLong(8, blockSize);
    p.putLong(16, blocks);
    p.putLong(24, free);
    p.putLong(32, available);
    p.putLong(80, nameMax);
  }

  // ---------------------------------------------------------------- struct fuse_buf, struct fuse_args

  /** A struct fuse_buf: size, flags, then mem (malloc'ed by libfuse when null), fd, pos. */
  static final int BUF_SIZE = 40;
  static final int BUF_MEM = 16;

  /** Makes {@code buf} describe {@code size} bytes of a request in memory at {@code mem}. */
  static void putMemoryBuf(Pointer buf, long size, long mem) {
    buf.putLong(0, size);
    buf.putInt(8, 0);
    buf.putAddress(BUF_MEM, mem);
    buf.putInt(24, -1);
    buf.putLong(32, 0);
  }

  /** struct fuse_in_header, which every request starts with. */
  static final int IN_HEADER_SIZE = 40;
  /** A struct fuse_args: argc, argv, allocated. */
  static final int ARGS_SIZE = 24;
}
