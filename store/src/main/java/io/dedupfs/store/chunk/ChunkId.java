package io.dedupfs.store.chunk;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/** The 32-byte name of a chunk (FORMAT.md §1). Compares as unsigned bytes, the order LMDB keeps. */
public final class ChunkId implements Comparable<ChunkId> {
  public static final int LENGTH = 32;
  private final byte[] bytes;

  private ChunkId(byte[] bytes) {
    this.bytes = bytes;
  }

  public static ChunkId of(byte[] bytes) {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("chunk id must be 32 bytes, got " + bytes.length);
    }
    return new ChunkId(bytes.clone());
  }

  /** Reads 32 bytes at the buffer's position, advancing it. */
  public static ChunkId read(ByteBuffer buffer) {
    byte[] b = new byte[LENGTH];
    buffer.get(b);
    return new ChunkId(b);
  }

  public static ChunkId fromHex(String hex) {
    return of(HexFormat.of().parseHex(hex));
  }

  /** Writes the 32 bytes at the buffer's position, advancing it. */
  public void writeTo(ByteBuffer buffer) {
    buffer.put(bytes);
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  public String hex() {
    return HexFormat.of().formatHex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChunkId other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    // The bytes are a cryptographic hash: any four of them are as good as a hash code gets.
    return (bytes[0] << 24) | ((bytes[1] & 0xff) << 16) | ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
  }

  @Override
  public int compareTo(ChunkId o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return hex();
  }
}
