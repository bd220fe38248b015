package io.dedupfs.store.pack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LocalPackStorage}: file placement (FORMAT.md §2), listing, deletion and ranged reads. */
class LocalPackStorageTest {
  @TempDir Path tmp;

  static byte[] randomBytes(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Writes {@code content} as pack {@code number} (not a valid pack: storage does not care) and seals it. */
  static void put(PackStorage storage, PackNumber number, byte[] content) throws IOException {
    try (PackStorage.PackOutput out = storage.create(number)) {
      out.write(ByteBuffer.wrap(content));
      assertEquals(content.length, out.position());
      out.seal();
    }
  }

  @Property(tries = 30)
  void packNumberNames(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long value) {
    PackNumber n = new PackNumber(value);
    String hex = String.format("%016x", value);
    assertEquals(hex, n.fileName());
    assertEquals(hex.substring(14), n.directoryName(), "directory is the lowest byte");
    assertEquals(n, PackNumber.parse(n.fileName()));
    assertEquals(hex, n.toString());
  }

  @Test
  void packNumberValidation() {
    assertThrows(IllegalArgumentException.class, () -> new PackNumber(-1));
    assertThrows(IllegalArgumentException.class, () -> PackNumber.parse("123"));
    assertTrue(new PackNumber(2).compareTo(new PackNumber(0x100)) < 0);
  }

  @Test
  void packLandsAtPacksHhNumber() throws Exception {
    Path root = tmp.resolve("packs");
    LocalPackStorage storage = new LocalPackStorage(root);
    byte[] content = randomBytes(1, 1000);
    put(storage, new PackNumber(0xabcdef01L), content);
    Path expected = root.resolve("01").resolve("00000000abcdef01");
    assertTrue(Files.isRegularFile(expected));
    assertArrayEquals(content, Files.readAllBytes(expected));
    assertEquals(1000, storage.size(new PackNumber(0xabcdef01L)));
    put(storage, new PackNumber(0x101), new byte[1]);
    assertTrue(Files.isRegularFile(root.resolve("01").resolve("0000000000000101")), "same lowest byte, same directory");
  }

  @Test
  void createRefusesAnExistingPack() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber n = new PackNumber(5);
    put(storage, n, randomBytes(2, 10));
    assertThrows(IOException.class, () -> storage.create(n));
    assertArrayEquals(randomBytes(2, 10), Files.readAllBytes(tmp.resolve("packs/05/0000000000000005")), "left untouched");
  }

  @Test
  void listIsSortedAcrossDirectories() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    assertEquals(List.of(), storage.list(), "no packs directory yet");
    List<Long> values = new ArrayList<>(List.of(0x1ffL, 2L, 0x100L, 3L, 0xffL, 0x10000000000L, 0L, 0x2ffL, 0x7fffffffffffffffL));
    Collections.shuffle(values, new Random(3));
    for (long v : values) {
      put(storage, new PackNumber(v), new byte[] {(byte) v});
    }
    List<PackNumber> expected = values.stream().sorted().map(PackNumber::new).toList();
    assertEquals(expected, storage.list());
  }

  @Test
  void listIgnoresFilesThatAreNotPacks() throws Exception {
    Path root = tmp.resolve("packs");
    LocalPackStorage storage = new LocalPackStorage(root);
    put(storage, new PackNumber(0x42), new byte[3]);
    Files.writeString(root.resolve("stray"), "x");
    Files.writeString(root.resolve("42").resolve("0000000000000042.tmp"), "x");
    Files.writeString(root.resolve("42").resolve("000000000000042"), "x"); // 15 digits
    Files.writeString(root.resolve("42").resolve("zzzzzzzzzzzzzzzz"), "x");
    Files.createDirectories(root.resolve("abc"));
    Files.writeString(root.resolve("abc").resolve("0000000000000abc"), "x");
    assertEquals(List.of(new PackNumber(0x42)), storage.list());
  }

  /**
   * A stray file whose 16 hex digits exceed the signed 64-bit range (e.g. left by a tool or a
   * corrupted directory) must not make listing every pack fail with an unchecked exception.
   */
  @Test
  void listSurvivesAStrayFileNamedAboveTheSignedRange() throws Exception {
    Path root = tmp.resolve("packs");
    LocalPackStorage storage = new LocalPackStorage(root);
    put(storage, new PackNumber(0xff), new byte[3]);
    Files.writeString(root.resolve("ff").resolve("ffffffffffffffff"), "stray");
    // A name this storage never writes (its value is negative as a long) is not a pack: skipped, not fatal.
    assertEquals(List.of(new PackNumber(0xff)), storage.list());
  }

  @Test
  void deleteRemovesThePackAndIsIdempotent() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    put(storage, new PackNumber(1), new byte[10]);
    put(storage, new PackNumber(2), new byte[10]);
    storage.delete(new PackNumber(1));
    assertFalse(Files.exists(tmp.resolve("packs/01/0000000000000001")));
    assertEquals(List.of(new PackNumber(2)), storage.list());
    storage.delete(new PackNumber(1)); // already gone: no error
    storage.delete(new PackNumber(99)); // never existed, its directory neither
    assertThrows(IOException.class, () -> storage.size(new PackNumber(1)));
    assertThrows(IOException.class, () -> storage.read(new PackNumber(1), 0, ByteBuffer.allocate(1)));
    storage.delete(new PackNumber(2));
    assertEquals(List.of(), storage.list());
  }

  @Test
  void readAtAnOffsetReturnsThoseBytes() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber n = new PackNumber(77);
    byte[] content = randomBytes(4, 300_000);
    put(storage, n, content);
    Random r = new Random(5);
    for (int i = 0; i < 50; i++) {
      int offset = r.nextInt(content.length);
      int length = r.nextInt(content.length - offset + 1);
      ByteBuffer dst = (i % 2 == 0) ? ByteBuffer.allocate(length) : ByteBuffer.allocateDirect(length);
      storage.read(n, offset, dst);
      assertFalse(dst.hasRemaining(), "read fills the buffer");
      byte[] got = new byte[length];
      dst.flip().get(got);
      assertArrayEquals(Arrays.copyOfRange(content, offset, offset + length), got, "offset " + offset + " length " + length);
    }
    // Into the middle of a buffer: only [position, limit) is filled.
    ByteBuffer partial = ByteBuffer.allocate(20).position(5).limit(15);
    storage.read(n, 1000, partial);
    assertEquals(15, partial.position());
    assertArrayEquals(Arrays.copyOfRange(content, 1000, 1010), Arrays.copyOfRange(partial.array(), 5, 15));
    assertEquals(0, partial.array()[4]);
    assertEquals(0, partial.array()[15]);
  }

  @Test
  void readingPastTheEndFails() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber n = new PackNumber(78);
    put(storage, n, new byte[100]);
    assertThrows(EOFException.class, () -> storage.read(n, 90, ByteBuffer.allocate(11)));
    assertThrows(EOFException.class, () -> storage.read(n, 100, ByteBuffer.allocate(1)));
    storage.read(n, 100, ByteBuffer.allocate(0));
  }

  @Test
  void packBeingWrittenIsReadableUpToWhatWasWritten() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber n = new PackNumber(3);
    byte[] first = randomBytes(6, 5000);
    byte[] second = randomBytes(7, 3000);
    try (PackStorage.PackOutput out = storage.create(n)) {
      out.write(ByteBuffer.wrap(first));
      ByteBuffer got = ByteBuffer.allocate(first.length);
      storage.read(n, 0, got);
      assertArrayEquals(first, got.array());
      out.write(ByteBuffer.wrap(second));
      assertEquals(8000, out.position());
      assertEquals(List.of(n), storage.list(), "an unsealed pack is listed too");
    } // closed without seal: the partial pack stays
    assertEquals(8000, storage.size(n));
    ByteBuffer tail = ByteBuffer.allocate(second.length);
    storage.read(n, first.length, tail);
    assertArrayEquals(second, tail.array());
  }
}
