package io.dedupfs.store.snapshot;

import io.dedupfs.store.chunk.ChunkId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes a sorted run of items (a directory's entries or a file's extents) as tree nodes of
 * {@link #MIN} to {@link #TARGET} bytes (an item larger than that alone), their boundaries chosen by
 * content, with index nodes above them when there is more than one (FORMAT.md §10.1). Items must
 * come in key order; memory holds one node per level.
 */
final class NodeBuilder {
  /** A node is closed once adding an item would take it past this. */
  static final int TARGET = 64 << 10;
  /** Below this a node is never closed for its content. */
  static final int MIN = 16 << 10;
  /** Past {@link #MIN}, an item ends its node with probability its length / this. */
  private static final long SPREAD = 32 << 10;

  /** Where finished nodes go; returns the node's id. */
  @FunctionalInterface
  interface NodeStore {
    ChunkId put(byte[] node) throws IOException;
  }

  private final int type;
  private final int indexType;
  private final NodeStore store;
  private final ByteArrayOutputStream items = new ByteArrayOutputStream();
  private int count;
  private byte[] firstKey;
  private NodeBuilder parent;
  /** The last item added ends its node: the next one starts a new node. */
  private boolean cutAfterLast;

  NodeBuilder(int type, int indexType, NodeStore store) {
    this.type = type;
    this.indexType = indexType;
    this.store = store;
  }

  /**
   * Adds an item; {@code key} is how an index item names the node that starts with it (the name
   * length and name of an entry, or an extent's file offset).
   */
  void add(byte[] key, byte[] item) throws IOException {
    if (count > 0 && (cutAfterLast || TreeNode.HEADER_LENGTH + items.size() + item.length > TARGET)) {
      close();
    }
    if (count == 0) {
      firstKey = key;
    }
    items.writeBytes(item);
    count++;
    // Content-defined boundaries: whether a node ends after an item depends on the item's key, so
    // an item added or removed moves the boundaries of its own node only, not of every later one
    // (which would make a change to a large directory or extent list rewrite all of it).
    cutAfterLast = items.size() >= MIN && cutsAfter(key, item.length);
  }

  private static boolean cutsAfter(byte[] key, int itemLength) {
    long h = 0xcbf29ce484222325L;   // FNV-1a, then a finalizer: keys are names or file offsets
    for (byte b : key) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (h >>> 32) < ((long) itemLength << 32) / SPREAD;
  }

  /** Stores what is left and returns the id of the top node (an empty node when nothing was added). */
  ChunkId finish() throws IOException {
    if (parent == null) {
      return store.put(node());
    }
    close();
    return parent.finish();
  }

  private void close() throws IOException {
    ChunkId id = store.put(node());
    if (parent == null) {
      parent = new NodeBuilder(indexType, indexType, store);
    }
    byte[] indexItem = ByteBuffer.allocate(firstKey.length + ChunkId.LENGTH).put(firstKey).put(id.toBytes()).array();
    parent.add(firstKey, indexItem);
    items.reset();
    count = 0;
    cutAfterLast = false;
  }

  private byte[] node() {
    return ByteBuffer.allocate(TreeNode.HEADER_LENGTH + items.size()).put((byte) type).putInt(count)
        .put(items.toByteArray()).array();
  }
}
