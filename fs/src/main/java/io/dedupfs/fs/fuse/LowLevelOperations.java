package io.dedupfs.fs.fuse;

import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;

/**
 * libfuse 3's {@code struct fuse_lowlevel_ops}: one function pointer per operation, in the
 * header's order. Each setter turns a Java callback into a native closure and puts it in its
 * slot; slots left empty make libfuse answer ENOSYS (or its default). The callbacks are kept
 * here, strongly reachable, for as long as the table is: jnr-ffi frees a closure whose Java
 * object is collected.
 *
 * <p>Node ids ({@code fuse_ino_t}) are unsigned 64-bit; {@code const char *} names arrive as
 * pointers, read as bytes by the adapter. The class and its callback types are public because
 * jnr-ffi implements the native side of each callback in a class loader of its own.
 */
public final class LowLevelOperations {
  /** Slots of struct fuse_lowlevel_ops in libfuse 3.14, which has 44 of them. */
  private enum Slot {
    INIT, DESTROY, LOOKUP, FORGET, GETATTR, SETATTR, READLINK, MKNOD, MKDIR, UNLINK, RMDIR, SYMLINK, RENAME, LINK,
    OPEN, READ, WRITE, FLUSH, RELEASE, FSYNC, OPENDIR, READDIR, RELEASEDIR, FSYNCDIR, STATFS, SETXATTR, GETXATTR,
    LISTXATTR, REMOVEXATTR, ACCESS, CREATE, GETLK, SETLK, BMAP, IOCTL, POLL, WRITE_BUF, RETRIEVE_REPLY, FORGET_MULTI,
    FLOCK, FALLOCATE, READDIRPLUS, COPY_FILE_RANGE, LSEEK
  }

  public interface Init {
    @Delegate
    void call(Pointer userdata, Pointer connection);
  }

  /** lookup, unlink, rmdir, removexattr: a node and a name. */
  public interface NodeName {
    @Delegate
    void call(Pointer request, long node, Pointer name);
  }

  public interface Forget {
    @Delegate
    void call(Pointer request, long node, long lookups);
  }

  public interface ForgetMulti {
    @Delegate
    void call(Pointer request, @size_t long count, Pointer forgets);
  }

  /** getattr, open, flush, release, opendir, releasedir: a node and its struct fuse_file_info (may be null for getattr). */
  public interface NodeFile {
    @Delegate
    void call(Pointer request, long node, Pointer fileInfo);
  }

  public interface SetAttr {
    @Delegate
    void call(Pointer request, long node, Pointer stat, int toSet, Pointer fileInfo);
  }

  /** readlink, statfs. */
  public interface NodeOnly {
    @Delegate
    void call(Pointer request, long node);
  }

  public interface MkNod {
    @Delegate
    void call(Pointer request, long parent, Pointer name, int mode, long rdev);
  }

  public interface MkDir {
    @Delegate
    void call(Pointer request, long parent, Pointer name, int mode);
  }

  public interface Symlink {
    @Delegate
    void call(Pointer request, Pointer target, long parent, Pointer name);
  }

  public interface Rename {
    @Delegate
    void call(Pointer request, long parent, Pointer name, long newParent, Pointer newName, int flags);
  }

  public interface Link {
    @Delegate
    void call(Pointer request, long node, long newParent, Pointer newName);
  }

  public interface Create {
    @Delegate
    void call(Pointer request, long parent, Pointer name, int mode, Pointer fileInfo);
  }

  /** read, readdir: how many bytes at most, from which offset. */
  public interface Transfer {
    @Delegate
    void call(Pointer request, long node, @size_t long size, @off_t long offset, Pointer fileInfo);
  }

  public interface Write {
    @Delegate
    void call(Pointer request, long node, Pointer data, @size_t long size, @off_t long offset, Pointer fileInfo);
  }

  /** fsync, fsyncdir. */
  public interface Sync {
    @Delegate
    void call(Pointer request, long node, int dataOnly, Pointer fileInfo);
  }

  public interface SetXattr {
    @Delegate
    void call(Pointer request, long node, Pointer name, Pointer value, @size_t long size, int flags);
  }

  public interface GetXattr {
    @Delegate
    void call(Pointer request, long node, Pointer name, @size_t long size);
  }

  public interface ListXattr {
    @Delegate
    void call(Pointer request, long node, @size_t long size);
  }

  public interface Fallocate {
    @Delegate
    void call(Pointer request, long node, int mode, @off_t long offset, @off_t long length, Pointer fileInfo);
  }

  private final Runtime runtime;
  private final Pointer table;
  private final List<Object> callbacks = new ArrayList<>();

  LowLevelOperations(Runtime runtime) {
    this.runtime = runtime;
    this.table = Memory.allocateDirect(runtime, size(), true);
  }

  /** The native table, for fuse_session_new. */
  Pointer table() {
    return table;
  }

  /** The table's size in bytes, for fuse_session_new. */
  long size() {
    return (long) Slot.values().length * runtime.addressSize();
  }

  private <T> void put(Slot slot, Class<T> type, T callback) {
    callbacks.add(callback);
    table.putPointer((long) slot.ordinal() * runtime.addressSize(), runtime.getClosureManager().getClosurePointer(type, callback));
  }

  void init(Init c) {
    put(Slot.INIT, Init.class, c);
  }

  void lookup(NodeName c) {
    put(Slot.LOOKUP, NodeName.class, c);
  }

  void forget(Forget c) {
    put(Slot.FORGET, Forget.class, c);
  }

  void forgetMulti(ForgetMulti c) {
    put(Slot.FORGET_MULTI, ForgetMulti.class, c);
  }

  void getattr(NodeFile c) {
    put(Slot.GETATTR, NodeFile.class, c);
  }

  void setattr(SetAttr c) {
    put(Slot.SETATTR, SetAttr.class, c);
  }

  void readlink(NodeOnly c) {
    put(Slot.READLINK, NodeOnly.class, c);
  }

  void mknod(MkNod c) {
    put(Slot.MKNOD, MkNod.class, c);
  }

  void mkdir(MkDir c) {
    put(Slot.MKDIR, MkDir.class, c);
  }

  void unlink(NodeName c) {
    put(Slot.UNLINK, NodeName.class, c);
  }

  void rmdir(NodeName c) {
    put(Slot.RMDIR, NodeName.class, c);
  }

  void symlink(Symlink c) {
    put(Slot.SYMLINK, Symlink.class, c);
  }

  void rename(Rename c) {
    put(Slot.RENAME, Rename.class, c);
  }

  void link(Link c) {
    put(Slot.LINK, Link.class, c);
  }

  void open(NodeFile c) {
    put(Slot.OPEN, NodeFile.class, c);
  }

  void read(Transfer c) {
    put(Slot.READ, Transfer.class, c);
  }

  void write(Write c) {
    put(Slot.WRITE, Write.class, c);
  }

  void flush(NodeFile c) {
    put(Slot.FLUSH, NodeFile.class, c);
  }

  void release(NodeFile c) {
    put(Slot.RELEASE, NodeFile.class, c);
  }

  void fsync(Sync c) {
    put(Slot.FSYNC, Sync.class, c);
  }

  void opendir(NodeFile c) {
    put(Slot.OPENDIR, NodeFile.class, c);
  }

  void readdir(Transfer c) {
    put(Slot.READDIR, Transfer.class, c);
  }

  void readdirplus(Transfer c) {
    put(Slot.READDIRPLUS, Transfer.class, c);
  }

  void releasedir(NodeFile c) {
    put(Slot.RELEASEDIR, NodeFile.class, c);
  }

  void fsyncdir(Sync c) {
    put(Slot.FSYNCDIR, Sync.class, c);
  }

  void statfs(NodeOnly c) {
    put(Slot.STATFS, NodeOnly.class, c);
  }

  void setxattr(SetXattr c) {
    put(Slot.SETXATTR, SetXattr.class, c);
  }

  void getxattr(GetXattr c) {
    put(Slot.GETXATTR, GetXattr.class, c);
  }

  void listxattr(ListXattr c) {
    put(Slot.LISTXATTR, ListXattr.class, c);
  }

  void removexattr(NodeName c) {
    put(Slot.REMOVEXATTR, NodeName.class, c);
  }

  void create(Create c) {
    put(Slot.CREATE, Create.class, c);
  }

  void fallocate(Fallocate c) {
    put(Slot.FALLOCATE, Fallocate.class, c);
  }
}
