package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Writes a new run file through a slot of the sort memory, emptying the slot to the file when it is full. */
final class RunWriter implements Closeable {
  private final FileChannel channel;
  private final ByteBuffer slot;

  RunWriter(Path file, ByteBuffer memory, int slotOffset, int slotLength) throws IOException {
    this.channel = create(file);
    this.slot = memory.slice(slotOffset, slotLength);
  }

  /** Writes {@code memory[offset, offset + length)} as a whole run file. */
  static void write(Path file, ByteBuffer memory, int offset, int length) throws IOException {
    try (FileChannel channel = create(file)) {
      writeFully(channel, memory.slice(offset, length));
    }
  }

  /** Appends a whole key; the slot holds whole keys, so a full slot has no room for one more. */
  void append(ByteBuffer key) throws IOException {
    if (!slot.hasRemaining()) {
      flush();
    }
    slot.put(key.clear());
  }

  @Override
  public void close() throws IOException {
    try (channel) {
      flush();
    }
  }

  private void flush() throws IOException {
    writeFully(channel, slot.flip());
    slot.clear();
  }

  private static FileChannel create(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static void writeFully(FileChannel channel, ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
  }
}
