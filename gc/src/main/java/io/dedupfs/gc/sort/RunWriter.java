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
  private final byte[] memory;
  private final int slotOffset;
  private final int slotLength;
  private int filled;

  RunWriter(Path file, byte[] memory, int slotOffset, int slotLength) throws IOException {
    this.channel = create(file);
    this.memory = memory;
    this.slotOffset = slotOffset;
    this.slotLength = slotLength;
  }

  /** Writes {@code memory[offset, offset + length)} as a whole run file. */
  static void write(Path file, byte[] memory, int offset, int length) throws IOException {
    try (FileChannel channel = create(file)) {
      write(channel, memory, offset, length);
    }
  }

  /** Appends a key; the slot holds whole keys, so a full slot has no room for one more. */
  void append(byte[] key) throws IOException {
    if (filled == slotLength) {
      flush();
    }
    System.arraycopy(key, 0, memory, slotOffset + filled, key.length);
    filled += key.length;
  }

  @Override
  public void close() throws IOException {
    try (channel) {
      flush();
    }
  }

  private void flush() throws IOException {
    write(channel, memory, slotOffset, filled);
    filled = 0;
  }

  private static FileChannel create(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static void write(FileChannel channel, byte[] memory, int offset, int length) throws IOException {
    for (int done = 0; done < length; ) {
      done += channel.write(ByteBuffer.wrap(memory, offset + done, Math.min(RunFiles.IO_PIECE, length - done)));
    }
  }
}
