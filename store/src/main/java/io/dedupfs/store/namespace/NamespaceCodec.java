package io.dedupfs.store.namespace;

import io.dedupfs.store.CorruptDataException;
import java.nio.ByteBuffer;

/** Key and value layouts of the namespace tables (FORMAT.md §6.1). Stateless. */
final class NamespaceCodec {
  static final int INODE_OFFSET_MODE = 0;
  static final int INODE_OFFSET_UID = 4;
  static final int INODE_OFFSET_GID = 8;
  static final int INODE_OFFSET_NLINK = 12;
  static final int INODE_OFFSET_SIZE = 16;
  static final int INODE_OFFSET_ATIME = 24;
  static final int INODE_OFFSET_MTIME = 32;
  static final int INODE_OFFSET_CTIME = 40;
  static final int INODE_OFFSET_RDEV = 48;
  static final int INODE_OFFSET_PARENT = 56;
  static final int INODE_LENGTH = 64;
  static final int DIRENT_LENGTH = 9;
  static final int EXTENT_OFFSET_CHUNK_OFFSET = 32;
  static final int EXTENT_OFFSET_LENGTH = 36;
  static final int EXTENT_LENGTH = 40;
  static final int CACHED_TREE_LENGTH = 56;

  private NamespaceCodec() {}

  static byte[] inodeKey(long number) {
    return ByteBuffer.allocate(8).putLong(0, number).array();
  }

  static byte[] encodeInode(Inode i) {
    return ByteBuffer.allocate(INODE_LENGTH)
        .putInt(INODE_OFFSET_MODE, i.mode())
        .putInt(INODE_OFFSET_UID, i.uid())
        .putInt(INODE_OFFSET_GID, i.gid())
        .putInt(INODE_OFFSET_NLINK, i.nlink())
        .putLong(INODE_OFFSET_SIZE, i.size())
        .putLong(INODE_OFFSET_ATIME, i.atimeNanos())
        .putLong(INODE_OFFSET_MTIME, i.mtimeNanos())
        .putLong(INODE_OFFSET_CTIME, i.ctimeNanos())
        .putLong(INODE_OFFSET_RDEV, i.rdev())
        .putLong(INODE_OFFSET_PARENT, i.parent())
        .array();
  }

  static Inode decodeInode(long number, byte[] v) throws CorruptDataException {
    if (v.length != INODE_LENGTH) {
      throw new CorruptDataException("index: inode " + number + " has " + v.length + " bytes, expected " + INODE_LENGTH);
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    try {
      return new Inode(number, b.getInt(INODE_OFFSET_MODE), b.getInt(INODE_OFFSET_UID), b.getInt(INODE_OFFSET_GID),
          b.getInt(INODE_OFFSET_NLINK), b.getLong(INODE_OFFSET_SIZE), b.getLong(INODE_OFFSET_ATIME),
          b.getLong(INODE_OFFSET_MTIME), b.getLong(INODE_OFFSET_CTIME), b.getLong(INODE_OFFSET_RDEV),
          b.getLong(INODE_OFFSET_PARENT));
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException("index: inode " + number + ": " + e.getMessage(), e);
    }
  }

  /** The key prefix of a directory's entries, or of an inode's xattrs: the inode number. */
  static byte[] prefix(long inode) {
    return inodeKey(inode);
  }

  static byte[] entryKey(long inode, Name name) {
    byte[] k = new byte[8 + name.length()];
    ByteBuffer.wrap(k).putLong(0, inode);
    name.copyTo(k, 8);
    return k;
  }

  static Name nameOf(byte[] entryKey) {
    return Name.of(java.util.Arrays.copyOfRange(entryKey, 8, entryKey.length));
  }

  static byte[] extentKey(long inode, long fileOffset) {
    return ByteBuffer.allocate(16).putLong(0, inode).putLong(8, fileOffset).array();
  }

  static byte[] encodeExtent(Extent e) {
    ByteBuffer b = ByteBuffer.allocate(EXTENT_LENGTH);
    e.chunk().writeTo(b);
    return b.putInt(EXTENT_OFFSET_CHUNK_OFFSET, e.chunkOffset()).putInt(EXTENT_OFFSET_LENGTH, e.length()).array();
  }

  static Extent decodeExtent(byte[] key, byte[] value) throws CorruptDataException {
    if (key.length != 16 || value.length != EXTENT_LENGTH) {
      throw new CorruptDataException("index: extent entry has a " + key.length + "-byte key and a " + value.length
          + "-byte value, expected 16 and " + EXTENT_LENGTH);
    }
    ByteBuffer v = ByteBuffer.wrap(value);
    try {
      return new Extent(ByteBuffer.wrap(key).getLong(8), io.dedupfs.store.chunk.ChunkId.read(v),
          v.getInt(EXTENT_OFFSET_CHUNK_OFFSET), v.getInt(EXTENT_OFFSET_LENGTH));
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException("index: " + e.getMessage(), e);
    }
  }

  static byte[] linkKey(long inode, long directory) {
    return ByteBuffer.allocate(16).putLong(0, inode).putLong(8, directory).array();
  }

  static long linkDirectory(byte[] linkKey) {
    return ByteBuffer.wrap(linkKey).getLong(8);
  }

  static byte[] encodeCount(int count) {
    return ByteBuffer.allocate(4).putInt(0, count).array();
  }

  static int decodeCount(byte[] v) {
    return ByteBuffer.wrap(v).getInt(0);
  }

  static byte[] encodeCachedTree(CachedTree t) {
    ByteBuffer b = ByteBuffer.allocate(CACHED_TREE_LENGTH);
    t.tree().writeTo(b);
    return b.putLong(t.bytes()).putLong(t.files()).putLong(t.directories()).array();
  }

  static CachedTree decodeCachedTree(long directory, byte[] v) throws CorruptDataException {
    if (v.length != CACHED_TREE_LENGTH) {
      throw new CorruptDataException("index: cached tree of directory " + directory + " has " + v.length
          + " bytes, expected " + CACHED_TREE_LENGTH);
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    return new CachedTree(io.dedupfs.store.chunk.ChunkId.read(b), b.getLong(), b.getLong(), b.getLong());
  }

  static byte[] encodeDirent(long child, int type) {
    return ByteBuffer.allocate(DIRENT_LENGTH).putLong(0, child).put(8, (byte) (type >>> 12)).array();
  }

  static long direntInode(byte[] v) throws CorruptDataException {
    if (v.length != DIRENT_LENGTH) {
      throw new CorruptDataException("index: directory entry has " + v.length + " bytes, expected " + DIRENT_LENGTH);
    }
    return ByteBuffer.wrap(v).getLong(0);
  }

  static int direntType(byte[] v) {
    return (v[8] & 0xff) << 12;
  }
}
