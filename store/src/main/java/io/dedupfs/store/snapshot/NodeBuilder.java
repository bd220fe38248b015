package io.dedupfs.store.snapshot;

import io.dedupfs.store.chunk.ChunkId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes a sorted run of items (a directory's entries or a file's extents) as tree nodes of about
 * {@link #TARGET} bytes each, with index nodes above them when there is more than one
 * (FORMAT.md §10.1). Items must come in key order; memory holds one node per level.
 */
final class NodeBuilder {
  /** A node is closed once adding an item would take it past this. */
  static final int TARGET = 64 << 10;

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
    if (count > 0 && TreeNode.HEADER_LENGTH + items.size() + item.length > TARGET) {
      close();
    }
    if (count == 0) {
      firstKey = key;
    }
    items.writeBytes(item);
    count++;
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
  }

  private byte[] node() {
    return ByteBuffer.allocate(TreeNode.HEADER_LENGTH + items.size()).put((byte) type).putInt(count)
        .put(items.toByteArray()).array();
  }
}
