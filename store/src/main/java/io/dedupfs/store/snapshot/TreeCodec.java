package io.dedupfs.store.snapshot;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.TreeSource.Xattr;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The byte layouts of Entries and ExtentRecords (FORMAT.md §10.1). Stateless. */
final class TreeCodec {
  static final int EXTENT_RECORD_LENGTH = 48;
  /** Inode number, mode, uid, gid, nlink, size, atime, mtime, ctime, rdev. */
  private static final int ATTRIBUTES_LENGTH = 64;
  private static final int INLINE = 0;
  private static final int OUT_OF_LINE = 1;

  private TreeCodec() {}

  /** The bytes of an entry; a null name (the root's, in a snapshot record) is written with length 0. */
  static byte[] encodeEntry(TreeEntry e) {
    byte[] name = e.name() == null ? new byte[0] : e.name().bytes();
    Inode i = e.inode();
    ByteArrayOutputStream out = new ByteArrayOutputStream(1 + name.length + ATTRIBUTES_LENGTH + 64);
    out.write(name.length);
    out.writeBytes(name);
    out.writeBytes(ByteBuffer.allocate(ATTRIBUTES_LENGTH).putLong(i.number()).putInt(i.mode()).putInt(i.uid())
        .putInt(i.gid()).putInt(i.nlink()).putLong(i.size()).putLong(i.atimeNanos()).putLong(i.mtimeNanos())
        .putLong(i.ctimeNanos()).putLong(i.rdev()).array());
    if (e.xattrs().size() > 0xffff) {
      // The count is a u16: more would wrap and leave an Entry no reader can parse.
      throw new IllegalArgumentException("inode " + i.number() + " has " + e.xattrs().size()
          + " xattrs; a snapshot entry holds at most 65535");
    }
    out.writeBytes(ByteBuffer.allocate(2).putShort(0, (short) e.xattrs().size()).array());
    for (Xattr x : e.xattrs()) {
      out.write(x.name().length);
      out.writeBytes(x.name());
      out.writeBytes(ByteBuffer.allocate(4).putInt(0, x.value().length).array());
      out.writeBytes(x.value());
    }
    switch (i.type()) {
      case Mode.S_IFDIR -> out.writeBytes(e.tree().toBytes());
      case Mode.S_IFLNK -> {
        out.writeBytes(ByteBuffer.allocate(2).putShort(0, (short) e.target().length).array());
        out.writeBytes(e.target());
      }
      case Mode.S_IFREG -> {
        if (e.extentNode() != null) {
          out.write(OUT_OF_LINE);
          out.writeBytes(e.extentNode().toBytes());
        } else {
          out.write(INLINE);
          out.writeBytes(ByteBuffer.allocate(4).putInt(0, e.inlineExtents().size()).array());
          e.inlineExtents().forEach(x -> out.writeBytes(encodeExtent(x)));
        }
      }
      default -> { }
    }
    return out.toByteArray();
  }

  /** Reads the entry at {@code b}'s position, leaving the position after it. */
  static TreeEntry decodeEntry(ByteBuffer b) throws CorruptDataException {
    try {
      int nameLength = b.get() & 0xff;
      Name name = null;
      if (nameLength > 0) {
        byte[] n = new byte[nameLength];
        b.get(n);
        name = Name.of(n);
      }
      Inode inode = new Inode(b.getLong(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getLong(), b.getLong(),
          b.getLong(), b.getLong(), b.getLong(), 0);
      int xattrCount = b.getShort() & 0xffff;
      List<Xattr> xattrs = new ArrayList<>(xattrCount);
      for (int k = 0; k < xattrCount; k++) {
        byte[] xname = new byte[b.get() & 0xff];
        b.get(xname);
        int valueLength = b.getInt();
        if (valueLength < 0 || valueLength > b.remaining()) {
          throw new CorruptDataException("tree entry " + name + ": xattr value of " + valueLength + " bytes");
        }
        byte[] value = new byte[valueLength];
        b.get(value);
        xattrs.add(new Xattr(xname, value));
      }
      return switch (inode.type()) {
        case Mode.S_IFDIR -> new TreeEntry(name, inode, xattrs, ChunkId.read(b), null, null, null);
        case Mode.S_IFLNK -> {
          byte[] target = new byte[b.getShort() & 0xffff];
          b.get(target);
          yield new TreeEntry(name, inode, xattrs, null, target, null, null);
        }
        case Mode.S_IFREG -> decodeFileBody(b, name, inode, xattrs);
        default -> new TreeEntry(name, inode, xattrs, null, null, null, null);
      };
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new CorruptDataException("tree entry is malformed: " + e, e);
    }
  }

  private static TreeEntry decodeFileBody(ByteBuffer b, Name name, Inode inode, List<Xattr> xattrs)
      throws CorruptDataException {
    int form = b.get();
    if (form == OUT_OF_LINE) {
      return new TreeEntry(name, inode, xattrs, null, null, null, ChunkId.read(b));
    }
    if (form != INLINE) {
      throw new CorruptDataException("tree entry " + name + ": unknown extent form " + form);
    }
    int count = b.getInt();
    if (count < 0 || (long) count * EXTENT_RECORD_LENGTH > b.remaining()) {
      throw new CorruptDataException("tree entry " + name + ": " + count + " inline extents do not fit");
    }
    List<Extent> extents = new ArrayList<>(count);
    for (int k = 0; k < count; k++) {
      extents.add(decodeExtent(b));
    }
    return new TreeEntry(name, inode, xattrs, null, null, extents, null);
  }

  static byte[] encodeExtent(Extent e) {
    ByteBuffer b = ByteBuffer.allocate(EXTENT_RECORD_LENGTH).putLong(e.fileOffset());
    e.chunk().writeTo(b);
    return b.putInt(e.chunkOffset()).putInt(e.length()).array();
  }

  static Extent decodeExtent(ByteBuffer b) {
    return new Extent(b.getLong(), ChunkId.read(b), b.getInt(), b.getInt());
  }
}
