package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a run key by key through a slot of the sort memory. The current key is read where it lies
 * in the slot, without a copy, until the next {@link #advance}. The slot holds whole keys, so no key
 * straddles a refill.
 */
final class RunReader implements Closeable {
  private final Path file;
  private final FileChannel channel;
  private final byte[] memory;
  private final int slotOffset;
  private final int slotLength;
  private final int keyLength;
  private int position;
  private int end;

  private RunReader(Path file, FileChannel channel, byte[] memory, int slotOffset, int slotLength, int end, int keyLength) {
    this.file = file;
    this.channel = channel;
    this.memory = memory;
    this.slotOffset = slotOffset;
    this.slotLength = slotLength;
    this.keyLength = keyLength;
    this.position = slotOffset - keyLength;
    this.end = end;
  }

  static RunReader open(Path file, byte[] memory, int slotOffset, int slotLength, int keyLength) throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    return new RunReader(file, channel, memory, slotOffset, slotLength, slotOffset, keyLength);
  }

  /** The run already sorted in {@code memory[0, length)}: nothing to read, nothing to refill. */
  static RunReader inMemory(byte[] memory, int length, int keyLength) {
    return new RunReader(null, null, memory, 0, length, length, keyLength);
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
    int filled = 0;
    while (filled < slotLength) {
      int n = channel.read(ByteBuffer.wrap(memory, slotOffset + filled, Math.min(RunFiles.IO_PIECE, slotLength - filled)));
      if (n < 0) {
        break;
      }
      filled += n;
    }
    if (filled % keyLength != 0) {
      throw new IOException("run file " + file + " ends inside a key: truncated");
    }
    position = slotOffset;
    end = slotOffset + filled;
    return filled > 0;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
    }
  }
}
