package io.dedupfs.store.pack;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.crypto.Encryption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one pack: header, stored chunks, then PackIndex and trailer at {@link #seal()}. Not
 * thread-safe. After any failed write it stays failed, so a torn pack is never sealed.
 */
public final class PackWriter {
  private final PackNumber number;
  private final PackStorage storage;
  private final PackStorage.PackOutput output;
  private final Encryption encryption;
  private final List<PackIndexEntry> entries = new ArrayList<>();
  private long storedBytes;
  private IOException failure;

  /** Starts a pack whose chunks arrive already sealed with {@code encryption}, which also seals its index. */
  public PackWriter(PackNumber number, PackStorage storage, Encryption encryption) throws IOException {
    this.number = number;
    this.storage = storage;
    this.output = storage.create(number);
    this.encryption = encryption;
    try {
      guarded(() -> output.write(PackCodec.encodeHeader(number, encryption)));
    } catch (IOException e) {
      discardAfter(e);
      throw e;
    }
  }

  public PackNumber number() {
    return number;
  }

  /** Bytes written so far. */
  public long size() {
    return output.position();
  }

  public int chunkCount() {
    return entries.size();
  }

  public long storedBytes() {
    return storedBytes;
  }

  /** Appends {@code stored[position, limit)} as the encoded form of chunk {@code id}. */
  public PackIndexEntry append(ChunkId id, ChunkKind kind, ChunkEncoding encoding, int plainLength, ByteBuffer stored)
      throws IOException {
    long offset = output.position();
    int length = stored.remaining();
    guarded(() -> output.write(stored));
    PackIndexEntry entry = new PackIndexEntry(id, offset, length, plainLength, kind, encoding);
    entries.add(entry);
    storedBytes += length;
    return entry;
  }

  /** A chunk of a block to append: its id, kind and plain length, in the block's order. */
  public record BlockMember(ChunkId id, ChunkKind kind, int plainLength) {}

  /**
   * Appends {@code stored[position, limit)} as a block (FORMAT.md §5.1) holding {@code members}'
   * plaintexts back to back; each gets an entry whose share of the stored bytes is in proportion
   * to its plain length, the remainder going to the last.
   */
  public List<PackIndexEntry> appendBlock(List<BlockMember> members, ByteBuffer stored) throws IOException {
    if (members.size() < 2) {
      throw new IllegalArgumentException("a block holds at least 2 chunks, not " + members.size());
    }
    long offset = output.position();
    int length = stored.remaining();
    guarded(() -> output.write(stored));
    long plainTotal = 0;
    for (BlockMember m : members) {
      plainTotal += m.plainLength();
    }
    List<PackIndexEntry> written = new ArrayList<>(members.size());
    int offsetInBlock = 0;
    long sharesGiven = 0;
    for (int i = 0; i < members.size(); i++) {
      BlockMember m = members.get(i);
      int share = i == members.size() - 1 ? (int) (length - sharesGiven)
          : (int) (plainTotal == 0 ? 0 : (long) length * m.plainLength() / plainTotal);
      written.add(new PackIndexEntry(m.id(), offset, length, m.plainLength(), m.kind(), ChunkEncoding.BLOCK,
          offsetInBlock, share));
      offsetInBlock += m.plainLength();
      sharesGiven += share;
    }
    entries.addAll(written);
    storedBytes += length;
    return written;
  }

  /** Writes the PackIndex and trailer and makes the pack durable. */
  public List<PackIndexEntry> seal() throws IOException {
    guarded(() -> {
      output.write(PackCodec.encodeIndexAndTrailer(entries, number, encryption));
      output.seal();
    });
    return List.copyOf(entries);
  }

  /** Gives up on the pack without sealing it; its file stays, as after a crash. */
  public void abandon() throws IOException {
    output.close();
  }

  /**
   * Gives up on a pack whose write failed before it was sealed, and deletes its file: nothing
   * names it, and on a full disk its bytes are the room that later writes need. Failures of the
   * cleanup are added to {@code cause}.
   */
  public void discardAfter(Exception cause) {
    try {
      output.close();
      storage.delete(number);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private void guarded(IoAction action) throws IOException {
    if (failure != null) {
      throw new IOException("pack " + number + " failed earlier", failure);
    }
    try {
      action.run();
    } catch (IOException e) {
      failure = e;
      throw e;
    }
  }
}
