package io.dedupfs.store.namespace;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkIdSink;
import io.dedupfs.store.index.IndexTransaction;
import io.dedupfs.store.index.Table;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One read transaction's view of the whole live tree, as a snapshot reads it: inodes, entries in
 * pages, xattrs, symlink targets, extents in pages and cached trees. Valid only inside {@link
 * Namespace#readTree}.
 */
public final class TreeSource {
  /** The work done over a {@link TreeSource}. */
  @FunctionalInterface
  public interface Body<T> {
    T apply(TreeSource source) throws IOException;
  }

  /** An extended attribute: name and value bytes. */
  public record Xattr(byte[] name, byte[] value) {}

  private static final int PAGE = 4096;
  private final IndexTransaction tx;

  TreeSource(IndexTransaction tx) {
    this.tx = tx;
  }

  public Inode inode(long number) throws IOException {
    byte[] v = tx.get(Table.INODES, NamespaceCodec.inodeKey(number))
        .orElseThrow(() -> new NoSuchFileException("inode " + number));
    return NamespaceCodec.decodeInode(number, v);
  }

  /**
   * The sum of the sizes of the regular files, a file with several names counted once per name
   * (an orphan, with none, not at all): what a snapshot taken now would record as its bytes
   * (FORMAT.md §10.2). One pass over the inodes, in pages.
   */
  public long regularFileBytes() throws CorruptDataException {
    long sum = 0;
    byte[] all = new byte[0];
    for (List<IndexTransaction.Entry> page = tx.scan(Table.INODES, all, null, PAGE); !page.isEmpty();
        page = tx.scan(Table.INODES, all, page.get(page.size() - 1).key(), PAGE)) {
      for (IndexTransaction.Entry e : page) {
        Inode inode = NamespaceCodec.decodeInode(java.nio.ByteBuffer.wrap(e.key()).getLong(), e.value());
        if (Mode.type(inode.mode()) == Mode.S_IFREG) {
          sum += inode.size() * inode.nlink();
        }
      }
    }
    return sum;
  }

  /**
   * The orphans (FORMAT.md §6.1): inodes whose names are gone while they are open. All at once:
   * there are at most as many as open files.
   */
  public List<Long> orphans() {
    List<Long> out = new ArrayList<>();
    for (IndexTransaction.Entry e : tx.scan(Table.ORPHANS, new byte[0], null, Integer.MAX_VALUE)) {
      out.add(java.nio.ByteBuffer.wrap(e.key()).getLong());
    }
    return out;
  }

  /** Up to {@code limit} entries of a directory after {@code after} (null: from the start), in name order. */
  public List<DirEntry> entries(long directory, Name after, int limit) throws CorruptDataException {
    List<DirEntry> out = new ArrayList<>();
    byte[] from = after == null ? null : NamespaceCodec.entryKey(directory, after);
    for (IndexTransaction.Entry e : tx.scan(Table.DIRENTS, NamespaceCodec.prefix(directory), from, limit)) {
      out.add(new DirEntry(NamespaceCodec.nameOf(e.key()), NamespaceCodec.direntInode(e.value()),
          NamespaceCodec.direntType(e.value())));
    }
    return out;
  }

  /** Every xattr of an inode, in byte order of name. */
  public List<Xattr> xattrs(long inode) {
    List<Xattr> out = new ArrayList<>();
    for (IndexTransaction.Entry e : tx.scan(Table.XATTRS, NamespaceCodec.prefix(inode), null, Integer.MAX_VALUE)) {
      out.add(new Xattr(Arrays.copyOfRange(e.key(), 8, e.key().length), e.value()));
    }
    return out;
  }

  public byte[] symlinkTarget(long inode) throws CorruptDataException {
    return tx.get(Table.SYMLINKS, NamespaceCodec.inodeKey(inode))
        .orElseThrow(() -> new CorruptDataException("index: symlink " + inode + " has no target"));
  }

  /** Up to {@code limit} extents of a file starting at or after {@code from}, in order. */
  public List<Extent> extents(long inode, long from, int limit) throws CorruptDataException {
    List<Extent> out = new ArrayList<>();
    for (IndexTransaction.Entry e : tx.scanFrom(Table.EXTENTS, NamespaceCodec.prefix(inode),
        NamespaceCodec.extentKey(inode, from), limit)) {
      out.add(NamespaceCodec.decodeExtent(e.key(), e.value()));
    }
    return out;
  }

  /** Hands every chunk the live files' extents name to {@code sink}, an extent at a time (repeats included). */
  public void extentChunks(ChunkIdSink sink) throws IOException {
    byte[] all = new byte[0];
    for (List<IndexTransaction.Entry> page = tx.scan(Table.EXTENTS, all, null, PAGE); !page.isEmpty();
        page = tx.scan(Table.EXTENTS, all, page.get(page.size() - 1).key(), PAGE)) {
      for (IndexTransaction.Entry e : page) {
        sink.accept(NamespaceCodec.decodeExtent(e.key(), e.value()).chunk());
      }
    }
  }

  /** The tree ids the tree cache holds (FORMAT.md §10.4): the next snapshot may reuse them. */
  public void cachedTreeIds(ChunkIdSink sink) throws IOException {
    cachedTrees((directory, tree) -> sink.accept(tree.tree()));
  }

  /** Where {@link #cachedTrees} hands each entry of the tree cache. */
  @FunctionalInterface
  public interface CachedTreeSink {
    void accept(long directory, CachedTree tree) throws IOException;
  }

  /** Hands {@code sink} every directory the tree cache holds, with its cached tree. */
  public void cachedTrees(CachedTreeSink sink) throws IOException {
    byte[] all = new byte[0];
    for (List<IndexTransaction.Entry> page = tx.scan(Table.TREES, all, null, PAGE); !page.isEmpty();
        page = tx.scan(Table.TREES, all, page.get(page.size() - 1).key(), PAGE)) {
      for (IndexTransaction.Entry e : page) {
        long directory = java.nio.ByteBuffer.wrap(e.key()).getLong();
        sink.accept(directory, NamespaceCodec.decodeCachedTree(directory, e.value()));
      }
    }
  }

  /** The directory's tree as the last snapshot left it, if nothing below it changed since. */
  public Optional<CachedTree> cachedTree(long directory) throws CorruptDataException {
    Optional<byte[]> v = tx.get(Table.TREES, NamespaceCodec.inodeKey(directory));
    return v.isEmpty() ? Optional.empty() : Optional.of(NamespaceCodec.decodeCachedTree(directory, v.get()));
  }
}
