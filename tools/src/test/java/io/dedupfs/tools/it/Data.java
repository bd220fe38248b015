package io.dedupfs.tools.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * File contents for the integration tests that any byte range of can be regenerated from a seed,
 * so a test can check a file, or any prefix of it, without keeping what it wrote. The bytes are
 * neither all random nor all repeated, so writes go through compression and deduplication as real
 * data would: 64 KiB blocks of low-entropy random bytes mixed with copies of a few fixed blocks
 * (zstd gets somewhere), and a quarter of the 4 MiB segments copies of a few segments that every
 * seed shares (longer than the largest chunk, so the chunks inside them are duplicates).
 */
final class Data {
  static final int BLOCK = 64 << 10;
  private static final int SHARED_BLOCKS = 16;
  private static final int SEGMENT_BLOCKS = 64;
  private static final int SHARED_SEGMENTS = 4;
  private static final byte[][] SHARED = new byte[SHARED_BLOCKS][];
  private static final int MIN_PIECE = 4 << 10;
  private static final int MAX_PIECE = 1 << 20;

  static {
    for (int i = 0; i < SHARED_BLOCKS; i++) {
      SHARED[i] = randomBlock(new SplittableRandom(0x5eed_0000L + i));
    }
  }

  private final long seed;
  /** The last block made: readers and writers mostly go forwards through small pieces of one block. */
  private long cachedIndex = -1;
  private byte[] cached;

  /** The content of seed {@code seed}; not thread-safe (one per thread). */
  Data(long seed) {
    this.seed = seed;
  }

  /**
   * The seed of a test's random choices: {@code -Dit.seed} if given, else a new one. Printed with
   * {@code what}, so that a failed run's data can be made again.
   */
  static long seed(String what) {
    long seed = Long.getLong("it.seed", System.nanoTime());
    System.out.println(what + ": -Dit.seed=" + seed);
    return seed;
  }

  /** Copies the bytes at {@code offset} into {@code dst[off, off + len)}. */
  void fill(long offset, byte[] dst, int off, int len) {
    while (len > 0) {
      long index = offset / BLOCK;
      int within = (int) (offset % BLOCK);
      int n = Math.min(len, BLOCK - within);
      System.arraycopy(block(index), within, dst, off, n);
      offset += n;
      off += n;
      len -= n;
    }
  }

  /** The bytes at {@code offset}, as a new array. */
  byte[] bytes(long offset, int len) {
    byte[] b = new byte[len];
    fill(offset, b, 0, len);
    return b;
  }

  /** What a writer sees after each piece it appended: the bytes and the file's new end. */
  interface Progress {
    void wrote(byte[] piece, int length, long end) throws IOException;
  }

  /**
   * Appends this content from the channel's position up to {@code end} in pieces of 4 KiB to 1 MiB,
   * each at a random (unaligned) length, as a copy program's writes might come.
   */
  void append(FileChannel ch, long end, RandomGenerator sizes, Progress progress) throws IOException {
    byte[] piece = new byte[MAX_PIECE];
    for (long at = ch.position(); at < end; ) {
      int n = (int) Math.min(end - at, sizes.nextInt(MIN_PIECE, MAX_PIECE + 1));
      fill(at, piece, 0, n);
      ByteBuffer b = ByteBuffer.wrap(piece, 0, n);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      at += n;
      progress.wrote(piece, n, at);
    }
  }

  private byte[] block(long index) {
    if (index != cachedIndex) {
      // Negative indices for segments, so a segment's draw is not a block's.
      SplittableRandom segment = new SplittableRandom(mix(seed, -1 - index / SEGMENT_BLOCKS));
      // Shared segments are the content of seeds of their own, which no caller's seed is likely to hit.
      SplittableRandom r = segment.nextInt(4) == 0
          ? new SplittableRandom(mix(-1 - segment.nextInt(SHARED_SEGMENTS), index % SEGMENT_BLOCKS))
          : new SplittableRandom(mix(seed, index));
      // Four blocks in ten repeat a fixed one; the rest are new.
      cached = r.nextInt(10) < 4 ? SHARED[r.nextInt(SHARED_BLOCKS)] : randomBlock(r);
      cachedIndex = index;
    }
    return cached;
  }

  private static long mix(long seed, long index) {
    return seed * 0x9E3779B97F4A7C15L + index;
  }

  /** Random bytes of 6 bits each: new to the deduplicator, about 3:4 to zstd. */
  private static byte[] randomBlock(SplittableRandom r) {
    ByteBuffer b = ByteBuffer.allocate(BLOCK);
    while (b.hasRemaining()) {
      b.putLong(r.nextLong() & 0x3F3F3F3F3F3F3F3FL);
    }
    return b.array();
  }

  /**
   * Reads a whole file through the mount and returns its length and SHA-256: any I/O error,
   * EIO included, fails the caller.
   */
  static Digest digest(Path file) throws IOException {
    MessageDigest md = sha256();
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    long length = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (int n; (n = ch.read(buf.clear())) >= 0; ) {
        md.update(buf.array(), 0, n);
        length += n;
      }
    }
    return new Digest(length, hex(md.digest()));
  }

  /** A file's length and SHA-256 in hex. */
  record Digest(long length, String sha256) {
    @Override
    public String toString() {
      return size(length) + " sha256 " + sha256.substring(0, 12);
    }
  }

  /**
   * Reads {@code [offset, offset + len)} of an open file and fails unless it is exactly those bytes
   * of {@code content}; a short read (end of file before {@code offset + len}) fails too. Returns
   * the bytes read.
   */
  static byte[] assertRange(FileChannel ch, Data content, long offset, int len, String what) throws IOException {
    ByteBuffer actual = ByteBuffer.allocate(len);
    while (actual.hasRemaining()) {
      int n = ch.read(actual, offset + actual.position());
      if (n < 0) {
        throw new AssertionError(what + ": end of file at " + (offset + actual.position()) + ", expected bytes up to "
            + (offset + len));
      }
    }
    byte[] expected = content.bytes(offset, len);
    int mismatch = Arrays.mismatch(expected, actual.array());
    assertEquals(-1, mismatch, () -> what + ": first wrong byte at offset " + (offset + mismatch) + " of range ["
        + offset + ", " + (offset + len) + ")");
    return actual.array();
  }

  /**
   * Reads all of a file and fails unless it is a prefix (possibly empty) of {@code content}; returns
   * its length and SHA-256. For files a crash may have cut short.
   */
  static Digest assertPrefixOf(Path file, Data content, String what) throws IOException {
    MessageDigest md = sha256();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      for (long at = 0; at < size; at += 1 << 20) {
        int n = (int) Math.min(1 << 20, size - at);
        md.update(assertRange(ch, content, at, n, what));
      }
      // Nothing past the size it reports, either.
      assertEquals(-1, ch.read(ByteBuffer.allocate(1), size), what + ": bytes past its size " + size);
      return new Digest(size, hex(md.digest()));
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  /** A size for people: exact when small, since a crash may leave a few bytes. */
  static String size(long bytes) {
    if (bytes < 10 << 10) {
      return bytes + " B";
    }
    return bytes < 1 << 20 ? String.format("%.1f KiB", bytes / 1024.0) : String.format("%.2f MiB", bytes / (double) (1 << 20));
  }
}
