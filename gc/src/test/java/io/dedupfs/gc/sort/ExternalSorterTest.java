package io.dedupfs.gc.sort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The external sort against a TreeSet in unsigned byte order, with budgets so small that the keys
 * spill into hundreds of runs and go through several merge passes, and its temporary files.
 */
class ExternalSorterTest {
  private static final HexFormat HEX = HexFormat.of();

  @TempDir
  Path temp;

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** A sorter whose buffer holds {@code keysPerRun} keys and whose merges read about {@code fanIn} runs at once. */
  static ExternalSorter tiny(int keyLength, int keysPerRun, int fanIn, Path dir) {
    return new ExternalSorter(keyLength, (long) keysPerRun * keyLength, dir, keysPerRun / fanIn * keyLength);
  }

  /** Sorts with the sorter, then closes it; the keys as hex, in the order returned. */
  static List<String> sort(ExternalSorter sorter, List<byte[]> keys) throws IOException {
    try (sorter) {
      for (byte[] key : keys) {
        sorter.add(key);
      }
      try (SortedKeys sorted = sorter.finish()) {
        return drain(sorted);
      }
    }
  }

  static List<String> drain(SortedKeys sorted) throws IOException {
    List<String> out = new ArrayList<>();
    while (sorted.next()) {
      ByteBuffer key = sorted.key();
      byte[] bytes = new byte[key.remaining()];
      key.get(bytes);
      out.add(HEX.formatHex(bytes));
    }
    return out;
  }

  static List<String> expected(List<byte[]> keys) {
    TreeSet<byte[]> set = new TreeSet<>(Arrays::compareUnsigned);
    set.addAll(keys);
    return set.stream().map(HEX::formatHex).toList();
  }

  /** {@code count} keys drawn from {@code distinct} random ones, so most come many times. */
  static List<byte[]> randomKeys(Random random, int keyLength, int count, int distinct) {
    List<byte[]> pool = new ArrayList<>();
    for (int i = 0; i < distinct; i++) {
      byte[] key = new byte[keyLength];
      random.nextBytes(key);
      pool.add(key);
    }
    List<byte[]> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      keys.add(pool.get(random.nextInt(distinct)));
    }
    return keys;
  }

  static byte[] key(int keyLength, int... bytesFromEnd) {
    byte[] key = new byte[keyLength];
    for (int i = 0; i < bytesFromEnd.length; i++) {
      key[keyLength - bytesFromEnd.length + i] = (byte) bytesFromEnd[i];
    }
    return key;
  }

  static List<Path> filesUnder(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> !p.equals(dir)).toList();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Order and duplicates

  @Test
  void manyRunsAndSeveralMergePassesGiveTheSortedDistinctKeys() throws IOException {
    List<byte[]> keys = randomKeys(new Random(1), 32, 20_000, 3_000);
    ExternalSorter sorter = tiny(32, 64, 4, temp);

    assertEquals(expected(keys), sort(sorter, keys));
    assertTrue(sorter.spilledRuns() > 300, "runs: " + sorter.spilledRuns());
    assertTrue(sorter.mergePasses() >= 4, "passes: " + sorter.mergePasses());
    assertEquals(List.of(), filesUnder(temp));
  }

  @Test
  void keysThatFitInMemoryAreSortedWithoutAFile() throws IOException {
    List<byte[]> keys = randomKeys(new Random(2), 32, 20_000, 15_000);
    try (ExternalSorter sorter = new ExternalSorter(32, ExternalSorter.MIN_BUDGET, temp)) {
      for (byte[] key : keys) {
        sorter.add(key);
      }
      try (SortedKeys sorted = sorter.finish()) {
        assertEquals(List.of(), filesUnder(temp));
        assertEquals(expected(keys), drain(sorted));
      }
      assertEquals(0, sorter.spilledRuns());
      assertEquals(0, sorter.mergePasses());
    }
  }

  @Test
  void emptyInput() throws IOException {
    assertEquals(List.of(), sort(new ExternalSorter(32, ExternalSorter.MIN_BUDGET, temp), List.of()));
    assertEquals(List.of(), sort(tiny(32, 16, 4, temp), List.of()));
  }

  @Test
  void oneKey() throws IOException {
    byte[] key = key(32, 0xff, 0x01);
    List<String> one = List.of(HEX.formatHex(key));
    assertEquals(one, sort(new ExternalSorter(32, ExternalSorter.MIN_BUDGET, temp), List.of(key)));
    assertEquals(one, sort(tiny(32, 16, 4, temp), List.of(key)));
  }

  @Test
  void allDuplicatesGiveOneKey() throws IOException {
    byte[] key = new byte[64];
    Arrays.fill(key, (byte) 0xab);
    List<byte[]> keys = Collections.nCopies(5_000, key);
    List<String> one = List.of(HEX.formatHex(key));

    assertEquals(one, sort(new ExternalSorter(64, ExternalSorter.MIN_BUDGET, temp), keys));
    ExternalSorter tiny = tiny(64, 32, 4, temp);
    assertEquals(one, sort(tiny, keys));
    assertTrue(tiny.mergePasses() >= 3, "passes: " + tiny.mergePasses());
  }

  @Test
  void keysDifferingOnlyInTheLastByteComeInUnsignedOrder() throws IOException {
    List<byte[]> keys = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int b = 0; b < 256; b++) {
      expected.add(HEX.formatHex(key(32, b)));
      keys.add(key(32, b));
      keys.add(key(32, b));
    }
    Collections.shuffle(keys, new Random(3));

    assertEquals(expected, sort(new ExternalSorter(32, ExternalSorter.MIN_BUDGET, temp), keys));
    assertEquals(expected, sort(tiny(32, 40, 4, temp), keys));
  }

  @Test
  void bytesFrom0x80UpSortAfter0x7f() throws IOException {
    byte[] first7f = key(32);
    first7f[0] = 0x7f;
    byte[] first80 = key(32);
    first80[0] = (byte) 0x80;
    byte[] high = new byte[32];
    Arrays.fill(high, (byte) 0xff);
    List<byte[]> ordered = List.of(
        key(32), key(32, 0x01), key(32, 0x7f), key(32, 0x80), key(32, 0xff),
        key(32, 0x01, 0x00), key(32, 0x7f, 0xff), key(32, 0x80, 0x00), key(32, 0xff, 0x7f),
        first7f, first80, high);
    List<String> expected = ordered.stream().map(HEX::formatHex).toList();
    List<byte[]> keys = new ArrayList<>(ordered);
    keys.addAll(ordered);
    Collections.shuffle(keys, new Random(4));

    assertEquals(expected, sort(new ExternalSorter(32, ExternalSorter.MIN_BUDGET, temp), keys));
    assertEquals(expected, sort(tiny(32, 6, 3, temp), keys));
  }

  // ---------------------------------------------------------------------------------------------
  // Temporary files

  @Test
  void runFilesLiveInOneDirectoryUntilClose() throws IOException {
    List<byte[]> keys = randomKeys(new Random(5), 32, 2_000, 2_000);
    try (ExternalSorter sorter = tiny(32, 64, 4, temp)) {
      for (byte[] key : keys) {
        sorter.add(key);
      }
      List<Path> created = filesUnder(temp);
      assertTrue(Files.isDirectory(created.get(0)), created.toString());
      assertEquals(sorter.spilledRuns() + 1, created.size());
      SortedKeys sorted = sorter.finish();
      assertTrue(sorted.next());
      sorted.close();
      assertEquals(List.of(), filesUnder(temp));
    }
  }

  @Test
  void closingTheSorterDeletesTheRunsOfUnreadKeys() throws IOException {
    try (ExternalSorter sorter = tiny(32, 64, 4, temp)) {
      for (byte[] key : randomKeys(new Random(6), 32, 2_000, 2_000)) {
        sorter.add(key);
      }
      assertTrue(sorter.finish().next());
    }
    assertEquals(List.of(), filesUnder(temp));
  }

  @Test
  void aFailingCallerLeavesNoFiles() throws IOException {
    assertThrows(IllegalStateException.class, () -> {
      try (ExternalSorter sorter = tiny(32, 64, 4, temp)) {
        for (byte[] key : randomKeys(new Random(7), 32, 2_000, 2_000)) {
          sorter.add(key);
        }
        throw new IllegalStateException("the mark phase failed");
      }
    });
    assertEquals(List.of(), filesUnder(temp));
  }

  @Test
  void aTruncatedRunFailsTheMergeAndLeavesNoFiles() throws IOException {
    try (ExternalSorter sorter = tiny(32, 64, 4, temp)) {
      for (byte[] key : randomKeys(new Random(8), 32, 2_000, 2_000)) {
        sorter.add(key);
      }
      Path firstRun = filesUnder(temp).stream().filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
      try (FileChannel run = FileChannel.open(firstRun, StandardOpenOption.WRITE)) {
        run.truncate(run.size() - 1);
      }

      IOException e = assertThrows(IOException.class, sorter::finish);
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> sorter.add(new byte[32]));
    }
    assertEquals(List.of(), filesUnder(temp));
  }

  // ---------------------------------------------------------------------------------------------
  // Input and configuration

  @Test
  void aByteBufferKeyIsReadAtItsPosition() throws IOException {
    ByteBuffer packed = ByteBuffer.allocate(3 * 4).putInt(0x80000000).putInt(0x7fffffff).putInt(0x80000000).flip();
    try (ExternalSorter sorter = new ExternalSorter(4, ExternalSorter.MIN_BUDGET, temp)) {
      while (packed.hasRemaining()) {
        sorter.add(packed);
      }
      assertThrows(BufferUnderflowException.class, () -> sorter.add(ByteBuffer.allocate(3)));
      try (SortedKeys sorted = sorter.finish()) {
        assertEquals(List.of("7fffffff", "80000000"), drain(sorted));
      }
    }
  }

  @Test
  void theKeyIsOnlyReadableOnAKey() throws IOException {
    try (ExternalSorter sorter = new ExternalSorter(4, ExternalSorter.MIN_BUDGET, temp)) {
      sorter.add(new byte[4]);
      SortedKeys sorted = sorter.finish();
      assertThrows(IllegalStateException.class, sorted::key);
      assertTrue(sorted.next());
      assertTrue(sorted.key().isReadOnly());
      assertFalse(sorted.next());
      assertThrows(IllegalStateException.class, sorted::key);
    }
  }

  @Test
  void closingTheSorterEndsItsKeys() throws IOException {
    ExternalSorter sorter = new ExternalSorter(4, ExternalSorter.MIN_BUDGET, temp);
    sorter.add(new byte[4]);
    SortedKeys sorted = sorter.finish();
    sorter.close();
    assertThrows(IllegalStateException.class, sorted::next);
    sorter.close();
  }

  @Test
  void misuseIsRefused() throws IOException {
    assertThrows(IllegalArgumentException.class, () -> new ExternalSorter(0, ExternalSorter.MIN_BUDGET, temp));
    assertThrows(IllegalArgumentException.class, () -> new ExternalSorter(65, ExternalSorter.MIN_BUDGET, temp));
    assertThrows(IllegalArgumentException.class, () -> new ExternalSorter(32, ExternalSorter.MIN_BUDGET - 1, temp));
    assertThrows(IllegalArgumentException.class, () -> new ExternalSorter(32, ExternalSorter.MAX_BUDGET + 1, temp));
    try (ExternalSorter sorter = new ExternalSorter(32, ExternalSorter.MIN_BUDGET, temp)) {
      assertThrows(IllegalArgumentException.class, () -> sorter.add(new byte[31]));
      sorter.finish().close();
      assertThrows(IllegalStateException.class, () -> sorter.add(new byte[32]));
      assertThrows(IllegalStateException.class, sorter::finish);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Property

  /**
   * Any key length, input size, buffer and fan-in: the keys come back as a TreeSet orders them.
   * Key bytes are drawn mostly from the values where signed and unsigned order differ, and many
   * keys are near copies of others, so long common prefixes and repeats are frequent.
   */
  @Property(tries = 100)
  void agreesWithATreeSet(
      @ForAll @IntRange(min = 1, max = 64) int keyLength,
      @ForAll @IntRange(min = 0, max = 1_500) int count,
      @ForAll @IntRange(min = 6, max = 100) int keysPerRun,
      @ForAll @IntRange(min = 3, max = 9) int fanIn,
      @ForAll long seed) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    byte[] alphabet = {0x00, 0x01, 0x7f, (byte) 0x80, (byte) 0xfe, (byte) 0xff};
    List<byte[]> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] key;
      if (i > 0 && random.nextInt(3) > 0) {
        key = keys.get(random.nextInt(i)).clone();
        key[random.nextInt(keyLength)] = alphabet[random.nextInt(alphabet.length)];
      } else {
        key = new byte[keyLength];
        for (int j = 0; j < keyLength; j++) {
          key[j] = random.nextInt(4) > 0 ? alphabet[random.nextInt(alphabet.length)] : (byte) random.nextInt();
        }
      }
      keys.add(key);
    }
    Path dir = Files.createTempDirectory("dedupfs-sort-test-");
    try {
      List<String> actual;
      try (ExternalSorter sorter = tiny(keyLength, keysPerRun, Math.min(fanIn, keysPerRun), dir)) {
        for (byte[] key : keys) {
          if (random.nextBoolean()) {
            sorter.add(key);
          } else {
            sorter.add(ByteBuffer.wrap(key));
          }
        }
        try (SortedKeys sorted = sorter.finish()) {
          actual = drain(sorted);
        }
      }
      assertEquals(expected(keys), actual, "seed " + seed);
      assertEquals(List.of(), filesUnder(dir));
    } finally {
      try (Stream<Path> left = Files.walk(dir)) {
        for (Path p : left.sorted(Collections.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}
