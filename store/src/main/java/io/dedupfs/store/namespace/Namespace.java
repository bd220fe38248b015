package io.dedupfs.store.namespace;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.IndexTransaction;
import io.dedupfs.store.index.Table;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongPredicate;

/**
 * The live tree (FORMAT.md §6.1) with POSIX semantics and no FUSE: inodes, directory entries,
 * hard links, symlinks, device nodes and extended attributes. Every operation is one LMDB write
 * transaction, so it happens wholly or not at all. Errors are java.nio exceptions whose reasons
 * are the strerror texts of the errno a kernel filesystem would return.
 */
public final class Namespace {
  public static final long ROOT = 1;
  public static final int MAX_SYMLINK_TARGET = 4095;
  public static final int MAX_XATTR_VALUE = 65536;
  static final String IS_A_DIRECTORY = "Is a directory";
  static final String NOT_A_DIRECTORY = "Not a directory";
  static final String INVALID_ARGUMENT = "Invalid argument";
  static final String NOT_PERMITTED = "Operation not permitted";
  private static final byte[] NEXT_INODE = "next-inode".getBytes(StandardCharsets.US_ASCII);
  /** Present once {@code links} holds every name of every non-directory. */
  private static final byte[] LINKS_KEPT = "links-kept".getBytes(StandardCharsets.US_ASCII);
  private static final int DEFAULT_ROOT_MODE = Mode.S_IFDIR | 0755;
  private static final int SCAN_PAGE = 256;
  static final String OUT_OF_RANGE = "Numerical result out of range";

  private final ChunkIndex index;
  private final Clock clock;
  /** The snapshot being taken, told of every directory whose subtree changes meanwhile (FORMAT.md §10.4). */
  private final AtomicReference<ChangeWatch> watch = new AtomicReference<>();
  /** Asked whether an inode losing its last name is open; nothing is, until the fs layer says how to tell. */
  private volatile LongPredicate openInodes = inode -> false;

  private Namespace(ChunkIndex index, Clock clock) {
    this.index = index;
    this.clock = clock;
  }

  /** Opens the live tree of the index, creating the root directory (owned by root, 0755) if missing. */
  public static Namespace open(ChunkIndex index, Clock clock) throws IOException {
    Namespace ns = new Namespace(index, clock);
    index.write(tx -> {
      if (tx.get(Table.INODES, NamespaceCodec.inodeKey(ROOT)).isEmpty()) {
        long now = ns.now();
        ns.store(tx, new Inode(ROOT, DEFAULT_ROOT_MODE, 0, 0, 2, 0, now, now, now, 0, ROOT));
        tx.put(Table.META, NEXT_INODE, ByteBuffer.allocate(8).putLong(0, ROOT + 1).array());
      }
      if (tx.get(Table.META, LINKS_KEPT).isEmpty()) {
        rebuildLinks(tx);
        tx.put(Table.META, LINKS_KEPT, new byte[] {1});
      }
      deleteOrphans(tx);
      return null;
    });
    return ns;
  }

  /**
   * Deletes the orphans a crash or an unmount left: whoever opens the namespace holds the
   * repository lock, so no process can have one of them open any more.
   */
  private static void deleteOrphans(IndexTransaction tx) {
    for (long orphan : new TreeSource(tx).orphans()) {
      deleteOrphan(tx, orphan);
    }
  }

  /**
   * Fills {@code links} from the directory entries, for a tree written before it was kept: without
   * it a changed file would not reach its directories' cached trees (FORMAT.md §10.4).
   */
  private static void rebuildLinks(IndexTransaction tx) throws IOException {
    tx.clear(Table.LINKS);
    tx.clear(Table.TREES);
    byte[] all = new byte[0];
    for (List<IndexTransaction.Entry> page = tx.scan(Table.DIRENTS, all, null, SCAN_PAGE);
        !page.isEmpty(); page = tx.scan(Table.DIRENTS, all, page.get(page.size() - 1).key(), SCAN_PAGE)) {
      for (IndexTransaction.Entry e : page) {
        if (NamespaceCodec.direntType(e.value()) != Mode.S_IFDIR) {
          addLink(tx, NamespaceCodec.direntInode(e.value()), ByteBuffer.wrap(e.key()).getLong(0));
        }
      }
    }
  }

  /** Now on this namespace's clock, in nanoseconds since the epoch. */
  public long now() {
    Instant t = clock.instant();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  public Inode getattr(long inode) throws IOException {
    return index.read(tx -> load(tx, inode));
  }

  /** The inodes of {@code entries} (a page of a listing), read in one transaction. */
  public List<Inode> getattr(List<DirEntry> entries) throws IOException {
    return index.read(tx -> {
      List<Inode> out = new ArrayList<>(entries.size());
      for (DirEntry e : entries) {
        out.add(load(tx, e.inode()));
      }
      return out;
    });
  }

  /** Makes every change committed so far durable (commits reach the disk at the latest here). */
  public void sync() throws IOException {
    index.sync();
  }

  public Optional<Inode> lookup(long parent, Name name) throws IOException {
    return index.read(tx -> {
      directory(tx, parent);
      Optional<byte[]> entry = tx.get(Table.DIRENTS, NamespaceCodec.entryKey(parent, name));
      return entry.isEmpty() ? Optional.empty() : Optional.of(load(tx, NamespaceCodec.direntInode(entry.get())));
    });
  }

  /**
   * Creates a directory, regular file, device node, fifo or socket. In a set-gid directory the
   * new node takes the directory's group, and a new directory keeps the set-gid bit.
   */
  public Inode mknod(long parent, Name name, int mode, int uid, int gid, long rdev) throws IOException {
    // As mknod(2): no type means a regular file; symlinks have their own call; nothing else exists.
    int typed = Mode.type(mode) == 0 ? mode | Mode.S_IFREG : mode;
    int type = Mode.type(typed);
    if (type != Mode.S_IFREG && type != Mode.S_IFDIR && type != Mode.S_IFCHR && type != Mode.S_IFBLK
        && type != Mode.S_IFIFO && type != Mode.S_IFSOCK) {
      throw new FileSystemException(describe(parent, name), null, INVALID_ARGUMENT);
    }
    int clean = type | (typed & Mode.PERMISSIONS);
    return index.write(tx -> create(tx, parent, name, clean, uid, gid, rdev));
  }

  public Inode symlink(long parent, Name name, byte[] target, int uid, int gid) throws IOException {
    if (target.length == 0 || target.length > MAX_SYMLINK_TARGET) {
      throw new FileSystemException(describe(parent, name), null, INVALID_ARGUMENT);
    }
    return index.write(tx -> {
      Inode link = create(tx, parent, name, Mode.S_IFLNK | 0777, uid, gid, 0);
      Inode sized = new Inode(link.number(), link.mode(), link.uid(), link.gid(), link.nlink(), target.length,
          link.atimeNanos(), link.mtimeNanos(), link.ctimeNanos(), 0, 0);
      store(tx, sized);
      tx.put(Table.SYMLINKS, NamespaceCodec.inodeKey(link.number()), target);
      return sized;
    });
  }

  public byte[] readlink(long inode) throws IOException {
    return index.read(tx -> {
      Inode i = load(tx, inode);
      if (i.type() != Mode.S_IFLNK) {
        throw new FileSystemException("inode " + inode, null, INVALID_ARGUMENT);
      }
      return tx.get(Table.SYMLINKS, NamespaceCodec.inodeKey(inode))
          .orElseThrow(() -> new CorruptDataException("index: symlink " + inode + " has no target"));
    });
  }

  /**
   * Removes a non-directory entry; the inode goes with its last name, or stays as an orphan while
   * it is open (see {@link #holdOpenInodes}).
   */
  public void unlink(long parent, Name name) throws IOException {
    index.write(tx -> {
      Inode dir = directory(tx, parent);
      Inode target = entry(tx, parent, name);
      if (target.isDirectory()) {
        throw new FileSystemException(describe(parent, name), null, IS_A_DIRECTORY);
      }
      long now = now();
      tx.delete(Table.DIRENTS, NamespaceCodec.entryKey(parent, name));
      removeLink(tx, target.number(), parent);
      dropLink(tx, target, now);
      store(tx, dir.touched(now));
      return null;
    });
  }

  public void rmdir(long parent, Name name) throws IOException {
    index.write(tx -> {
      directory(tx, parent);
      Inode target = entry(tx, parent, name);
      if (!target.isDirectory()) {
        throw new FileSystemException(describe(parent, name), null, NOT_A_DIRECTORY);
      }
      requireEmpty(tx, target, parent, name);
      long now = now();
      tx.delete(Table.DIRENTS, NamespaceCodec.entryKey(parent, name));
      delete(tx, target.number());
      Inode dir = load(tx, parent);
      store(tx, dir.withNlink(dir.nlink() - 1, now).touched(now));
      return null;
    });
  }

  /**
   * rename(2): moves an entry, replacing a destination of the same kind (an empty directory for a
   * directory, a non-directory for a non-directory, which goes as {@link #unlink} would take it).
   * Renaming onto another name of the same inode does nothing; a directory cannot move below itself.
   */
  public void rename(long srcParent, Name srcName, long dstParent, Name dstName) throws IOException {
    rename(srcParent, srcName, dstParent, dstName, true);
  }

  /** renameat2(2): with {@code replace} false (RENAME_NOREPLACE), an existing destination is EEXIST. */
  public void rename(long srcParent, Name srcName, long dstParent, Name dstName, boolean replace) throws IOException {
    index.write(tx -> {
      directory(tx, srcParent);
      directory(tx, dstParent);
      Inode moved = entry(tx, srcParent, srcName);
      if (moved.isDirectory() && isAncestorOrSelf(tx, moved.number(), dstParent)) {
        throw new FileSystemException(describe(dstParent, dstName), null, INVALID_ARGUMENT);
      }
      Optional<byte[]> existing = tx.get(Table.DIRENTS, NamespaceCodec.entryKey(dstParent, dstName));
      long now = now();
      if (existing.isPresent() && !replace) {
        throw new FileAlreadyExistsException(describe(dstParent, dstName));
      }
      if (existing.isPresent()) {
        Inode replaced = load(tx, NamespaceCodec.direntInode(existing.get()));
        // As the kernel does, before any type check: a destination that contains the source is not empty.
        if (replaced.isDirectory() && isAncestorOrSelf(tx, replaced.number(), srcParent)) {
          throw new DirectoryNotEmptyException(describe(dstParent, dstName));
        }
        if (replaced.number() == moved.number()) {
          return null;
        }
        if (moved.isDirectory() && !replaced.isDirectory()) {
          throw new FileSystemException(describe(dstParent, dstName), null, NOT_A_DIRECTORY);
        }
        if (!moved.isDirectory() && replaced.isDirectory()) {
          throw new FileSystemException(describe(dstParent, dstName), null, IS_A_DIRECTORY);
        }
        if (replaced.isDirectory()) {
          requireEmpty(tx, replaced, dstParent, dstName);
          delete(tx, replaced.number());
          Inode dst = load(tx, dstParent);
          store(tx, dst.withNlink(dst.nlink() - 1, now));
        } else {
          removeLink(tx, replaced.number(), dstParent);
          dropLink(tx, replaced, now);
        }
      }
      if (!moved.isDirectory()) {
        removeLink(tx, moved.number(), srcParent);
        addLink(tx, moved.number(), dstParent);
      }
      tx.delete(Table.DIRENTS, NamespaceCodec.entryKey(srcParent, srcName));
      tx.put(Table.DIRENTS, NamespaceCodec.entryKey(dstParent, dstName),
          NamespaceCodec.encodeDirent(moved.number(), moved.type()));
      if (moved.isDirectory() && srcParent != dstParent) {
        Inode src = load(tx, srcParent);
        store(tx, src.withNlink(src.nlink() - 1, now));
        Inode dst = load(tx, dstParent);
        store(tx, dst.withNlink(dst.nlink() + 1, now));
        store(tx, load(tx, moved.number()).withParent(dstParent, now));
      } else {
        Inode m = load(tx, moved.number());
        store(tx, m.withNlink(m.nlink(), now));
      }
      store(tx, load(tx, srcParent).touched(now));
      store(tx, load(tx, dstParent).touched(now));
      return null;
    });
  }

  /** link(2): a new name for a non-directory. */
  public Inode link(long inode, long newParent, Name newName) throws IOException {
    return index.write(tx -> {
      Inode target = load(tx, inode);
      Inode dir = directory(tx, newParent);
      byte[] key = NamespaceCodec.entryKey(newParent, newName);
      // The kernel checks the new name before the target's type: EEXIST wins over EPERM.
      if (tx.get(Table.DIRENTS, key).isPresent()) {
        throw new FileAlreadyExistsException(describe(newParent, newName));
      }
      if (target.isDirectory()) {
        throw new FileSystemException(describe(newParent, newName), null, NOT_PERMITTED);
      }
      // As Linux: a file whose last name is gone (an orphan, open) cannot be given a name again.
      if (target.nlink() == 0) {
        throw new NoSuchFileException("inode " + inode);
      }
      long now = now();
      tx.put(Table.DIRENTS, key, NamespaceCodec.encodeDirent(inode, target.type()));
      addLink(tx, inode, newParent);
      Inode linked = target.withNlink(target.nlink() + 1, now);
      store(tx, linked);
      store(tx, dir.touched(now));
      return linked;
    });
  }

  // ---------------------------------------------------------------- open files (for the fs layer)

  /**
   * Tells the namespace which inodes are open, so that a non-directory whose last name goes (unlink,
   * or rename over it) while it is open stays, with nlink 0, as an <em>orphan</em>: it keeps its
   * inode number, attributes, xattrs and extents, and every call by inode number works on it but
   * {@link #link}, until {@link #releaseOrphan}. Set once by the fs layer before it serves; until
   * then nothing is open.
   *
   * <p>{@code isOpen} is asked inside the write transaction that removes the name, on the thread
   * of the caller, while every other writer waits: it must be thread-safe and quick, and must not
   * call this namespace. What counts as open is the fs layer's to say (open handles, or any use the
   * kernel still makes of the inode number); once it answered false the inode is deleted, and a use
   * that begins after that finds no inode.
   */
  public void holdOpenInodes(LongPredicate isOpen) {
    openInodes = isOpen;
  }

  /**
   * Deletes {@code inode} with everything it holds if it is an orphan; does nothing if it still
   * has a name or is gone. The fs layer calls it once the last use of the inode ended and its
   * writes were committed, <em>after</em> {@code isOpen} (see {@link #holdOpenInodes}) answers
   * false for it: an unlink between the two then deletes the inode itself. Idempotent.
   */
  public void releaseOrphan(long inode) throws IOException {
    byte[] key = NamespaceCodec.inodeKey(inode);
    // Nearly every closed file still has a name: a read tells so without waiting for the writer.
    if (index.read(tx -> tx.get(Table.ORPHANS, key)).isPresent()) {
      index.write(tx -> {
        deleteOrphan(tx, inode);
        return null;
      });
    }
  }

  /** Up to {@code limit} entries of a directory in name order, after {@code after} (null: from the start). */
  public List<DirEntry> list(long directory, Name after, int limit) throws IOException {
    return index.read(tx -> {
      directory(tx, directory);
      return new TreeSource(tx).entries(directory, after, limit);
    });
  }

  /** chmod, chown, utimens; ctime becomes now. */
  public Inode setAttributes(long inode, AttributeChange change) throws IOException {
    return setAttributes(inode, change, now());
  }

  /**
   * chmod, chown, utimens made at {@code changedAtNanos}, which a file's writer may hand over
   * after the fact (its ctime then stays if a later change already moved it).
   */
  public Inode setAttributes(long inode, AttributeChange change, long changedAtNanos) throws IOException {
    return index.write(tx -> {
      Inode changed = applyAttributes(tx, load(tx, inode), change, changedAtNanos);
      store(tx, changed);
      return changed;
    });
  }

  /** {@code inode} changed as {@code change} says, its access ACL rewritten by a chmod; not stored yet. */
  private Inode applyAttributes(IndexTransaction tx, Inode inode, AttributeChange change, long changedAtNanos)
      throws IOException {
    Inode changed = change.applyTo(inode, changedAtNanos);
    if (change.permissions() != null) {
      byte[] aclKey = xattrKey(inode.number(), PosixAcl.ACCESS_XATTR);
      Optional<byte[]> acl = tx.get(Table.XATTRS, aclKey);
      if (acl.isPresent()) {
        tx.put(Table.XATTRS, aclKey, PosixAcl.withMode(acl.get(), changed.mode()));
      }
    }
    return changed;
  }

  /** Whether {@code name} is the access ACL's, whose setting sets the permission bits too. */
  public static boolean isAccessAcl(byte[] name) {
    return PosixAcl.isAccessAcl(name);
  }

  /** Whether an inode has an access ACL, whose permission entries a chmod rewrites. */
  public boolean hasAccessAcl(long inode) throws IOException {
    byte[] key = xattrKey(inode, PosixAcl.ACCESS_XATTR);
    return index.read(tx -> tx.get(Table.XATTRS, key).isPresent());
  }

  public byte[] getXattr(long inode, byte[] name) throws IOException {
    byte[] key = xattrKey(inode, name);
    return index.read(tx -> {
      load(tx, inode);
      return tx.get(Table.XATTRS, key).orElseThrow(() -> new NoSuchAttributeException("inode " + inode, printable(name)));
    });
  }

  public void setXattr(long inode, byte[] name, byte[] value, XattrMode mode) throws IOException {
    byte[] key = xattrKey(inode, name);
    if (value.length > MAX_XATTR_VALUE) {
      throw new FileSystemException("inode " + inode, null, "Argument list too long");
    }
    index.write(tx -> {
      Inode i = load(tx, inode);
      boolean exists = tx.get(Table.XATTRS, key).isPresent();
      if (exists && mode == XattrMode.CREATE) {
        throw new FileAlreadyExistsException("inode " + inode, null, "attribute " + printable(name) + " exists");
      }
      if (!exists && mode == XattrMode.REPLACE) {
        throw new NoSuchAttributeException("inode " + inode, printable(name));
      }
      tx.put(Table.XATTRS, key, value);
      // As Linux does: the access ACL and the mode's permission bits are one thing seen twice.
      int newMode = PosixAcl.isAccessAcl(name) ? (i.mode() & ~0777) | PosixAcl.permissionBits(value) : i.mode();
      store(tx, i.withMode(newMode, now()));
      return null;
    });
  }

  public List<byte[]> listXattrs(long inode) throws IOException {
    return index.read(tx -> {
      load(tx, inode);
      List<byte[]> names = new ArrayList<>();
      for (IndexTransaction.Entry e : tx.scan(Table.XATTRS, NamespaceCodec.prefix(inode), null, Integer.MAX_VALUE)) {
        names.add(java.util.Arrays.copyOfRange(e.key(), 8, e.key().length));
      }
      return names;
    });
  }

  public void removeXattr(long inode, byte[] name) throws IOException {
    byte[] key = xattrKey(inode, name);
    index.write(tx -> {
      Inode i = load(tx, inode);
      if (!tx.delete(Table.XATTRS, key)) {
        throw new NoSuchAttributeException("inode " + inode, printable(name));
      }
      store(tx, i.withNlink(i.nlink(), now()));
      return null;
    });
  }

  /**
   * Replaces the bytes {@code [offset, offset + length)} of a regular file with {@code extents},
   * which lie within that range in order; parts of the range they leave out become holes. The
   * file grows to cover the range; mtime and ctime become {@code writtenAtNanos}, the time of the
   * write (not of this commit, which may come seconds later), or stay as they are when null (times
   * set explicitly after the write). The chunks must already be indexed.
   */
  public Inode replaceRange(long inode, long offset, long length, List<Extent> extents, Long writtenAtNanos)
      throws IOException {
    return replaceRange(inode, offset, length, extents, writtenAtNanos, null, 0);
  }

  /**
   * {@link #replaceRange(long, long, long, List, Long)} with the attribute changes a file's writer
   * held meanwhile (null: none) applied first, in the same transaction: a copied file commits its
   * data and its chmod, chown and utimens at once. A write newer than an explicit mtime comes with
   * its own {@code writtenAtNanos}; an older one with null.
   */
  public Inode replaceRange(long inode, long offset, long length, List<Extent> extents, Long writtenAtNanos,
      AttributeChange attributes, long attributesAtNanos) throws IOException {
    long end = offset + length;
    long next = offset;
    for (Extent e : extents) {
      if (e.fileOffset() < next || e.end() > end) {
        throw new IllegalArgumentException("extents must lie in order within [" + offset + ", " + end + ")");
      }
      next = e.end();
    }
    return index.write(tx -> {
      Inode file = regularFile(tx, inode);
      if (attributes != null) {
        file = applyAttributes(tx, file, attributes, attributesAtNanos);
      }
      cut(tx, inode, offset, end);
      for (Extent e : extents) {
        tx.put(Table.EXTENTS, NamespaceCodec.extentKey(inode, e.fileOffset()), NamespaceCodec.encodeExtent(e));
      }
      long mtime = writtenAtNanos == null ? file.mtimeNanos() : writtenAtNanos;
      long ctime = writtenAtNanos == null ? file.ctimeNanos() : Math.max(writtenAtNanos, file.ctimeNanos());
      Inode changed = new Inode(inode, file.mode(), file.uid(), file.gid(), file.nlink(), Math.max(file.size(), end),
          file.atimeNanos(), mtime, ctime, file.rdev(), file.parent());
      store(tx, changed);
      return changed;
    });
  }

  /** truncate(2): the file ends at {@code size}; bytes past it are gone, growth reads as zeros. */
  public Inode truncate(long inode, long size) throws IOException {
    return truncate(inode, size, now());
  }

  /**
   * truncate(2) done at {@code changedAtNanos}, which becomes mtime and ctime; null keeps them
   * (times set explicitly after the truncate, whose commit comes later).
   */
  public Inode truncate(long inode, long size, Long changedAtNanos) throws IOException {
    if (size < 0) {
      throw new FileSystemException("inode " + inode, null, INVALID_ARGUMENT);
    }
    return index.write(tx -> {
      Inode file = regularFile(tx, inode);
      cut(tx, inode, size, Long.MAX_VALUE);
      long mtime = changedAtNanos == null ? file.mtimeNanos() : changedAtNanos;
      long ctime = changedAtNanos == null ? file.ctimeNanos() : changedAtNanos;
      Inode changed = new Inode(inode, file.mode(), file.uid(), file.gid(), file.nlink(), size, file.atimeNanos(),
          mtime, ctime, file.rdev(), file.parent());
      store(tx, changed);
      return changed;
    });
  }

  /** The extents of a file within {@code [offset, offset + length)}, clipped to it, in order; gaps are holes. */
  public List<Extent> extents(long inode, long offset, long length) throws IOException {
    return read(inode, offset, length).extents();
  }

  /** A file's size and its extents within a range, read in one transaction so they agree. */
  public record FileRange(long size, List<Extent> extents) {}

  /** The file's size, and its extents within {@code [offset, offset + length)} clipped to the size too. */
  public FileRange read(long inode, long offset, long length) throws IOException {
    return index.read(tx -> {
      Inode file = regularFile(tx, inode);
      long end = Math.min(offset + length, file.size());
      List<Extent> out = new ArrayList<>();
      if (end > offset) {
        for (Extent e : overlapping(tx, inode, offset, end)) {
          out.add(e.clip(offset, end));
        }
      }
      return new FileRange(file.size(), out);
    });
  }

  // ---------------------------------------------------------------- for snapshots

  /**
   * Starts telling {@code watch} of every directory whose subtree changes from now on. Registered
   * inside a write transaction, so every later transaction is seen by it, and every earlier one is
   * seen by a read transaction begun after this returns. One watch at a time.
   */
  public void startWatching(ChangeWatch w) throws IOException {
    index.write(tx -> {
      if (!watch.compareAndSet(null, w)) {
        throw new IllegalStateException("another snapshot is being taken");
      }
      return null;
    });
  }

  public void stopWatching(ChangeWatch w) {
    watch.compareAndSet(w, null);
  }

  /** Runs {@code body} over one consistent state of the whole tree. */
  public <T> T readTree(TreeSource.Body<T> body) throws IOException {
    return index.read(tx -> body.apply(new TreeSource(tx)));
  }

  /**
   * Records the trees a snapshot serialized, by directory, except those {@code watch} saw change
   * after the snapshot read the tree (they and their ancestors stay uncached).
   */
  public void cacheTrees(Map<Long, CachedTree> trees, ChangeWatch w) throws IOException {
    index.write(tx -> {
      for (Map.Entry<Long, CachedTree> e : trees.entrySet()) {
        if (!w.sawChange(e.getKey()) && tx.get(Table.INODES, NamespaceCodec.inodeKey(e.getKey())).isPresent()) {
          tx.put(Table.TREES, NamespaceCodec.inodeKey(e.getKey()), NamespaceCodec.encodeCachedTree(e.getValue()));
        }
      }
      return null;
    });
  }

  // ---------------------------------------------------------------- for dedupfs check --repair (FORMAT.md §13)

  /**
   * Turns the given extents of a regular file into holes, each only if it is still there as given
   * (a writer may have replaced it since it was read), and adds their ranges to the file's {@link
   * DamagedRanges#XATTR}, in one transaction: what a repair does with extents whose chunk is lost.
   * Returns the ranges that became holes.
   */
  public List<DamagedRanges.Range> markLost(long inode, List<Extent> lost) throws IOException {
    return index.write(tx -> {
      Inode file = regularFile(tx, inode);
      List<DamagedRanges.Range> holes = new ArrayList<>();
      for (Extent e : lost) {
        byte[] key = NamespaceCodec.extentKey(inode, e.fileOffset());
        byte[] value = NamespaceCodec.encodeExtent(e);
        if (tx.get(Table.EXTENTS, key).filter(v -> java.util.Arrays.equals(v, value)).isPresent()) {
          tx.delete(Table.EXTENTS, key);
          holes.add(DamagedRanges.Range.of(e));
        }
      }
      if (!holes.isEmpty()) {
        addDamage(tx, inode, holes);
        // ctime: the file changed, and so did the trees cached above it.
        store(tx, file.withNlink(file.nlink(), now()));
      }
      return holes;
    });
  }

  private static void addDamage(IndexTransaction tx, long inode, List<DamagedRanges.Range> ranges)
      throws FileSystemException {
    byte[] key = xattrKey(inode, DamagedRanges.XATTR);
    byte[] old = tx.get(Table.XATTRS, key).orElse(new byte[0]);
    tx.put(Table.XATTRS, key, DamagedRanges.encode(DamagedRanges.merge(old, ranges)));
  }

  /** Drops the cached tree of {@code directory} and its ancestors': a repair found it not whole. */
  public void forgetCachedTree(long directory) throws IOException {
    index.write(tx -> {
      changedBelow(tx, directory);
      return null;
    });
  }

  /**
   * One name of a tree being restored: the inode as it was, with its xattrs, a symlink's target
   * (else null), a regular file's extents, and the ranges of the file that could not be restored
   * (its extent list was lost), which become holes named in {@link DamagedRanges#XATTR}.
   */
  public record RestoredEntry(Name name, Inode inode, List<TreeSource.Xattr> xattrs, byte[] target,
      List<Extent> extents, List<DamagedRanges.Range> lost) {}

  /**
   * Sets the root directory's attributes and xattrs to {@code root}'s, for a live tree being
   * restored from a snapshot into a new index.
   */
  public void restoreRoot(Inode root, List<TreeSource.Xattr> xattrs) throws IOException {
    index.write(tx -> {
      Inode i = root;
      tx.put(Table.INODES, NamespaceCodec.inodeKey(ROOT), NamespaceCodec.encodeInode(new Inode(ROOT, i.mode(), i.uid(),
          i.gid(), i.nlink(), i.size(), i.atimeNanos(), i.mtimeNanos(), i.ctimeNanos(), i.rdev(), ROOT)));
      putXattrs(tx, ROOT, xattrs);
      return null;
    });
  }

  /**
   * Enters {@code entries} into directory {@code parent} with their inode numbers as they are,
   * for a live tree being restored from a snapshot into a new index: an inode met again (another
   * name of a hard link) only gains the name. {@code next-inode} is raised above every number
   * entered, so numbers stay unique.
   */
  public void restore(long parent, List<RestoredEntry> entries) throws IOException {
    index.write(tx -> {
      long next = ByteBuffer.wrap(tx.get(Table.META, NEXT_INODE)
          .orElseThrow(() -> new CorruptDataException("index: no next-inode entry"))).getLong(0);
      for (RestoredEntry e : entries) {
        Inode i = e.inode();
        tx.put(Table.DIRENTS, NamespaceCodec.entryKey(parent, e.name()), NamespaceCodec.encodeDirent(i.number(), i.type()));
        if (!i.isDirectory()) {
          addLink(tx, i.number(), parent);
        }
        if (tx.get(Table.INODES, NamespaceCodec.inodeKey(i.number())).isEmpty()) {
          Inode placed = i.isDirectory() ? i.withParent(parent, i.ctimeNanos()) : i;
          tx.put(Table.INODES, NamespaceCodec.inodeKey(i.number()), NamespaceCodec.encodeInode(placed));
          putXattrs(tx, i.number(), e.xattrs());
          if (e.target() != null) {
            tx.put(Table.SYMLINKS, NamespaceCodec.inodeKey(i.number()), e.target());
          }
          for (Extent x : e.extents()) {
            tx.put(Table.EXTENTS, NamespaceCodec.extentKey(i.number(), x.fileOffset()), NamespaceCodec.encodeExtent(x));
          }
          if (!e.lost().isEmpty()) {
            addDamage(tx, i.number(), e.lost());
          }
        }
        next = Math.max(next, i.number() + 1);
      }
      tx.put(Table.META, NEXT_INODE, ByteBuffer.allocate(8).putLong(0, next).array());
      return null;
    });
  }

  private static void putXattrs(IndexTransaction tx, long inode, List<TreeSource.Xattr> xattrs) throws FileSystemException {
    for (TreeSource.Xattr x : xattrs) {
      tx.put(Table.XATTRS, xattrKey(inode, x.name()), x.value());
    }
  }

  // ---------------------------------------------------------------- inside a transaction

  /** Every extent overlapping {@code [from, to)}: the one starting before {@code from}, if it reaches in, then those starting inside. */
  private List<Extent> overlapping(IndexTransaction tx, long inode, long from, long to) throws IOException {
    List<Extent> out = new ArrayList<>();
    byte[] prefix = NamespaceCodec.prefix(inode);
    if (from > 0) {
      Optional<IndexTransaction.Entry> before = tx.floor(Table.EXTENTS, prefix, NamespaceCodec.extentKey(inode, from - 1));
      if (before.isPresent()) {
        Extent e = NamespaceCodec.decodeExtent(before.get().key(), before.get().value());
        if (e.end() > from) {
          out.add(e);
        }
      }
    }
    // In pages, so that a small range of a file with millions of extents reads only what it needs.
    byte[] start = NamespaceCodec.extentKey(inode, from);
    for (List<IndexTransaction.Entry> page; !(page = tx.scanFrom(Table.EXTENTS, prefix, start, SCAN_PAGE)).isEmpty(); ) {
      for (IndexTransaction.Entry entry : page) {
        Extent e = NamespaceCodec.decodeExtent(entry.key(), entry.value());
        if (e.fileOffset() >= to) {
          return out;
        }
        out.add(e);
      }
      start = NamespaceCodec.extentKey(inode, out.get(out.size() - 1).fileOffset() + 1);
    }
    return out;
  }

  /** Removes the bytes {@code [from, to)} from a file's extents, keeping the parts outside. */
  private void cut(IndexTransaction tx, long inode, long from, long to) throws IOException {
    for (Extent e : overlapping(tx, inode, from, to)) {
      tx.delete(Table.EXTENTS, NamespaceCodec.extentKey(inode, e.fileOffset()));
      if (e.fileOffset() < from) {
        Extent head = e.clip(e.fileOffset(), from);
        tx.put(Table.EXTENTS, NamespaceCodec.extentKey(inode, head.fileOffset()), NamespaceCodec.encodeExtent(head));
      }
      if (e.end() > to) {
        Extent tail = e.clip(to, e.end());
        tx.put(Table.EXTENTS, NamespaceCodec.extentKey(inode, tail.fileOffset()), NamespaceCodec.encodeExtent(tail));
      }
    }
  }

  private Inode regularFile(IndexTransaction tx, long number) throws IOException {
    Inode file = load(tx, number);
    if (file.isDirectory()) {
      throw new FileSystemException("inode " + number, null, IS_A_DIRECTORY);
    }
    if (file.type() != Mode.S_IFREG) {
      throw new FileSystemException("inode " + number, null, INVALID_ARGUMENT);
    }
    return file;
  }

  private Inode create(IndexTransaction tx, long parent, Name name, int mode, int uid, int gid, long rdev)
      throws IOException {
    Inode dir = directory(tx, parent);
    byte[] key = NamespaceCodec.entryKey(parent, name);
    if (tx.get(Table.DIRENTS, key).isPresent()) {
      throw new FileAlreadyExistsException(describe(parent, name));
    }
    boolean setGid = (dir.mode() & Mode.S_ISGID) != 0;
    boolean isDir = Mode.isDirectory(mode);
    int finalMode = isDir && setGid ? mode | Mode.S_ISGID : mode;
    long number = allocate(tx);
    long now = now();
    Inode created = new Inode(number, finalMode, uid, setGid ? dir.gid() : gid, isDir ? 2 : 1, 0, now, now, now,
        rdev, isDir ? parent : 0);
    if (!isDir) {
      addLink(tx, number, parent);
    }
    store(tx, created);
    tx.put(Table.DIRENTS, key, NamespaceCodec.encodeDirent(number, Mode.type(finalMode)));
    store(tx, (isDir ? dir.withNlink(dir.nlink() + 1, now) : dir).touched(now));
    return created;
  }

  private long allocate(IndexTransaction tx) throws CorruptDataException {
    byte[] v = tx.get(Table.META, NEXT_INODE)
        .orElseThrow(() -> new CorruptDataException("index: no next-inode entry"));
    long number = ByteBuffer.wrap(v).getLong(0);
    tx.put(Table.META, NEXT_INODE, ByteBuffer.allocate(8).putLong(0, number + 1).array());
    return number;
  }

  /**
   * Takes a name from a non-directory. With its last name the inode goes, unless it is open: then it
   * stays with nlink 0, recorded in {@code orphans} in this same transaction, so that a crash cannot
   * leave it unrecorded (FORMAT.md §6.1).
   */
  private void dropLink(IndexTransaction tx, Inode inode, long now) throws IOException {
    if (inode.nlink() > 1) {
      store(tx, inode.withNlink(inode.nlink() - 1, now));
    } else if (openInodes.test(inode.number())) {
      store(tx, inode.withNlink(0, now));
      tx.put(Table.ORPHANS, NamespaceCodec.inodeKey(inode.number()), new byte[0]);
    } else {
      delete(tx, inode.number());
    }
  }

  /** Deletes {@code number} if it is an orphan. */
  private static void deleteOrphan(IndexTransaction tx, long number) {
    if (tx.delete(Table.ORPHANS, NamespaceCodec.inodeKey(number))) {
      delete(tx, number);
    }
  }

  private static void delete(IndexTransaction tx, long number) {
    tx.delete(Table.INODES, NamespaceCodec.inodeKey(number));
    tx.delete(Table.SYMLINKS, NamespaceCodec.inodeKey(number));
    tx.delete(Table.TREES, NamespaceCodec.inodeKey(number));
    for (Table t : new Table[] {Table.XATTRS, Table.EXTENTS, Table.LINKS}) {
      // In pages: each scan starts again at the prefix, after the previous page is deleted.
      for (List<IndexTransaction.Entry> page; !(page = tx.scan(t, NamespaceCodec.prefix(number), null, SCAN_PAGE)).isEmpty(); ) {
        page.forEach(e -> tx.delete(t, e.key()));
      }
    }
  }

  /** Whether directory {@code ancestor} is {@code directory} or above it. */
  private boolean isAncestorOrSelf(IndexTransaction tx, long ancestor, long directory) throws IOException {
    for (long d = directory; ; d = load(tx, d).parent()) {
      if (d == ancestor) {
        return true;
      }
      if (d == ROOT) {
        return false;
      }
    }
  }

  private void requireEmpty(IndexTransaction tx, Inode dir, long parent, Name name) throws DirectoryNotEmptyException {
    if (!tx.scan(Table.DIRENTS, NamespaceCodec.prefix(dir.number()), null, 1).isEmpty()) {
      throw new DirectoryNotEmptyException(describe(parent, name));
    }
  }

  private Inode load(IndexTransaction tx, long number) throws IOException {
    byte[] v = tx.get(Table.INODES, NamespaceCodec.inodeKey(number))
        .orElseThrow(() -> new NoSuchFileException("inode " + number));
    return NamespaceCodec.decodeInode(number, v);
  }

  /**
   * Writes an inode. Every change to the tree writes the inodes it touches (ctime at least), so
   * this is also where the cached trees of the directories above the change go (FORMAT.md §10.4).
   * A directory's own tree goes too: its entries are what usually changed.
   */
  private void store(IndexTransaction tx, Inode inode) throws IOException {
    tx.put(Table.INODES, NamespaceCodec.inodeKey(inode.number()), NamespaceCodec.encodeInode(inode));
    if (inode.isDirectory()) {
      changedBelow(tx, inode.number());
      return;
    }
    for (IndexTransaction.Entry e : tx.scan(Table.LINKS, NamespaceCodec.prefix(inode.number()), null, Integer.MAX_VALUE)) {
      changedBelow(tx, NamespaceCodec.linkDirectory(e.key()));
    }
  }

  /**
   * Drops the cached trees of {@code directory} and its ancestors. Without a snapshot being taken
   * it stops at the first directory without one (none above it has one either); while one is
   * taken it goes to the root and tells the snapshot every directory on the way, as they are now.
   */
  private void changedBelow(IndexTransaction tx, long directory) throws IOException {
    ChangeWatch w = watch.get();
    for (long d = directory; ; d = load(tx, d).parent()) {
      boolean cached = tx.delete(Table.TREES, NamespaceCodec.inodeKey(d));
      if (w != null) {
        w.changed(d);
      } else if (!cached) {
        return;
      }
      if (d == ROOT) {
        return;
      }
    }
  }

  private static void addLink(IndexTransaction tx, long inode, long directory) {
    byte[] key = NamespaceCodec.linkKey(inode, directory);
    int count = tx.get(Table.LINKS, key).map(NamespaceCodec::decodeCount).orElse(0);
    tx.put(Table.LINKS, key, NamespaceCodec.encodeCount(count + 1));
  }

  private static void removeLink(IndexTransaction tx, long inode, long directory) {
    byte[] key = NamespaceCodec.linkKey(inode, directory);
    int count = tx.get(Table.LINKS, key).map(NamespaceCodec::decodeCount).orElse(0);
    if (count <= 1) {
      tx.delete(Table.LINKS, key);
    } else {
      tx.put(Table.LINKS, key, NamespaceCodec.encodeCount(count - 1));
    }
  }

  private Inode directory(IndexTransaction tx, long number) throws IOException {
    Inode dir = load(tx, number);
    if (!dir.isDirectory()) {
      throw new FileSystemException("inode " + number, null, NOT_A_DIRECTORY);
    }
    return dir;
  }

  private Inode entry(IndexTransaction tx, long parent, Name name) throws IOException {
    byte[] v = tx.get(Table.DIRENTS, NamespaceCodec.entryKey(parent, name))
        .orElseThrow(() -> new NoSuchFileException(describe(parent, name)));
    return load(tx, NamespaceCodec.direntInode(v));
  }

  private static byte[] xattrKey(long inode, byte[] name) throws FileSystemException {
    if (name.length == 0 || name.length > Name.MAX_LENGTH) {
      throw new FileSystemException("inode " + inode, null, OUT_OF_RANGE);
    }
    byte[] key = new byte[8 + name.length];
    ByteBuffer.wrap(key).putLong(0, inode);
    System.arraycopy(name, 0, key, 8, name.length);
    return key;
  }

  private static String describe(long parent, Name name) {
    return "inode " + parent + "/" + name;
  }

  private static String printable(byte[] name) {
    return new String(name, StandardCharsets.UTF_8);
  }
}
