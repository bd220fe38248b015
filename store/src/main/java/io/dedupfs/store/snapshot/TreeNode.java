package io.dedupfs.store.snapshot;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.IndexSealing;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Name;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One decoded tree node (FORMAT.md §10.1): its type and the offsets of its items, which are
 * decoded on demand. Entries and index items are found by binary search on name or offset.
 * Immutable.
 */
final class TreeNode {
  static final int ENTRIES = 1;
  static final int ENTRY_INDEX = 2;
  static final int EXTENTS = 3;
  static final int EXTENT_INDEX = 4;
  static final int HEADER_LENGTH = 5;

  private final ChunkId id;
  private final int type;
  private final byte[] plain;
  private final int[] offsets;

  private TreeNode(ChunkId id, int type, byte[] plain, int[] offsets) {
    this.id = id;
    this.type = type;
    this.plain = plain;
    this.offsets = offsets;
  }

  /** Parses and checks a node's plaintext; {@code id} names it in errors. */
  static TreeNode parse(ChunkId id, byte[] plain) throws CorruptDataException {
    try {
      ByteBuffer b = ByteBuffer.wrap(plain);
      int type = b.get();
      int count = b.getInt();
      if (type < ENTRIES || type > EXTENT_INDEX || count < 0 || count > plain.length) {
        throw new CorruptDataException("tree node " + id.hex() + ": type " + type + ", " + count + " items");
      }
      int[] offsets = new int[count];
      for (int k = 0; k < count; k++) {
        offsets[k] = b.position();
        switch (type) {
          case ENTRIES -> TreeCodec.decodeEntry(b);
          case ENTRY_INDEX -> b.position(b.position() + 1 + (plain[b.position()] & 0xff) + ChunkId.LENGTH);
          case EXTENTS -> b.position(b.position() + TreeCodec.EXTENT_RECORD_LENGTH);
          default -> b.position(b.position() + 8 + ChunkId.LENGTH);
        }
      }
      if (b.hasRemaining()) {
        throw new CorruptDataException("tree node " + id.hex() + ": " + b.remaining() + " bytes after its items");
      }
      return new TreeNode(id, type, plain, offsets);
    } catch (BufferUnderflowException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new CorruptDataException("tree node " + id.hex() + " is malformed: " + e, e);
    }
  }

  ChunkId id() {
    return id;
  }

  int type() {
    return type;
  }

  int count() {
    return offsets.length;
  }

  /** Bytes this node holds in memory, for the cache's accounting. */
  int weight() {
    return plain.length + 4 * offsets.length + 64;
  }

  TreeEntry entry(int k) throws CorruptDataException {
    return TreeCodec.decodeEntry(ByteBuffer.wrap(plain).position(offsets[k]));
  }

  Extent extent(int k) {
    return TreeCodec.decodeExtent(ByteBuffer.wrap(plain).position(offsets[k]));
  }

  ChunkId child(int k) {
    int at = offsets[k] + (type == ENTRY_INDEX ? 1 + (plain[offsets[k]] & 0xff) : 8);
    return ChunkId.read(ByteBuffer.wrap(plain).position(at));
  }

  long firstOffset(int k) {
    return ByteBuffer.wrap(plain).getLong(offsets[k]);
  }

  /**
   * For ENTRIES: the index of the entry whose name has the order key {@code key} (FORMAT.md
   * §10.1), or {@code -(insertion point) - 1}. For ENTRY_INDEX: the same over the children's
   * first names.
   */
  int search(byte[] key, IndexSealing order) {
    int lo = 0;
    int hi = offsets.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int at = offsets[mid];
      int length = plain[at] & 0xff;
      int c = Arrays.compareUnsigned(order.entryOrderKey(Arrays.copyOfRange(plain, at + 1, at + 1 + length)), key);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -lo - 1;
  }

  /** For EXTENT_INDEX and EXTENTS: the last item starting at or before {@code offset}, or -1. */
  int floor(long offset) {
    int lo = 0;
    int hi = offsets.length - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (ByteBuffer.wrap(plain).getLong(offsets[mid]) <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
