package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a run key by key through a slot of the sort memory. The current key is read where it lies
 * in the memory, without a copy, until the next {@link #advance}. The slot holds whole keys, so no
 * key straddles a refill.
 */
final class RunReader implements Closeable {
  private final Path file;
  private final FileChannel channel;
  private final ByteBuffer slot;
  private final int slotOffset;
  private final int keyLength;
  private int position;
  private int end;

  private RunReader(Path file, FileChannel channel, ByteBuffer slot, int slotOffset, int end, int keyLength) {
    this.file = file;
    this.channel = channel;
    this.slot = slot;
    this.slotOffset = slotOffset;
    this.keyLength = keyLength;
    this.position = slotOffset - keyLength;
    this.end = end;
  }

  static RunReader open(Path file, ByteBuffer memory, int slotOffset, int slotLength, int keyLength) throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    return new RunReader(file, channel, memory.slice(slotOffset, slotLength), slotOffset, slotOffset, keyLength);
  }

  /** The run already sorted in bytes {@code [0, length)} of the memory: nothing to read or refill. */
  static RunReader inMemory(int length, int keyLength) {
    return new RunReader(null, null, null, 0, length, keyLength);
  }

  /** Moves to the first key, then to each next one; false once the run is exhausted. */
  boolean advance() throws IOException {
    position += keyLength;
    return position < end || refill();
  }

  /** Where the current key starts in the sort memory. */
  int offset() {
    return position;
  }

  private boolean refill() throws IOException {
    if (channel == null) {
      return false;
    }
    slot.clear();
    while (slot.hasRemaining() && channel.read(slot) >= 0) {
      // A read may stop short of a full slot before the end of the file.
    }
    if (slot.position() % keyLength != 0) {
      throw new IOException("run file " + file + " ends inside a key: truncated");
    }
    position = slotOffset;
    end = slotOffset + slot.position();
    return position < end;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
    }
  }
}
