package io.dedupfs.store.chunk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.repo.ChunkerParameters;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * Properties of the content-defined chunker (FORMAT.md §4): determinism whatever the feeding,
 * chunk length bounds, locality of edits, agreement with a literal transcription of the spec, and
 * the average chunk size of the default parameters.
 */
class ChunkerTest {
  static final ChunkerParameters SMALL = new ChunkerParameters(1024, 4096, 16384);

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /**
   * Feeds {@code data} to a fresh chunker in pieces of the given sizes (cycled), each piece copied
   * into its own direct buffer at a small non-zero offset so that {@code from != 0}. Also feeds an
   * empty range after every piece. Returns the end offset (exclusive) of every chunk, the last one
   * being {@code data.length} when the data is not empty.
   */
  static List<Integer> cutPoints(byte[] data, ChunkerParameters p, long[] gear, int[] pieceSizes) {
    Chunker chunker = new Chunker(p, gear);
    List<Integer> ends = new ArrayList<>();
    int pos = 0;
    int piece = 0;
    while (pos < data.length) {
      int len = Math.min(Math.max(1, pieceSizes[piece % pieceSizes.length]), data.length - pos);
      int pad = 1 + (piece * 7) % 13;
      piece++;
      ByteBuffer b = ByteBuffer.allocateDirect(pad + len + 3);
      b.position(pad);
      b.put(data, pos, len);
      b.clear();
      int from = pad;
      int to = pad + len;
      while (true) {
        int r = chunker.scan(b, from, to);
        if (r == Chunker.NO_CUT) {
          break;
        }
        assertTrue(r > 0 && r <= to - from, "scan returned " + r + " for a piece of " + (to - from) + " bytes");
        from += r;
        ends.add(pos + (from - pad));
      }
      assertEquals(Chunker.NO_CUT, chunker.scan(b, to, to), "an empty piece never ends a chunk");
      pos += len;
    }
    if (data.length > 0 && (ends.isEmpty() || ends.get(ends.size() - 1) != data.length)) {
      ends.add(data.length);
    }
    return ends;
  }

  static List<Integer> cutPointsWhole(byte[] data, ChunkerParameters p, long[] gear) {
    return cutPoints(data, p, gear, new int[] {Math.max(1, data.length)});
  }

  static List<byte[]> chunks(byte[] data, List<Integer> ends) {
    List<byte[]> out = new ArrayList<>();
    int start = 0;
    for (int end : ends) {
      out.add(Arrays.copyOfRange(data, start, end));
      start = end;
    }
    return out;
  }

  static List<String> digests(List<byte[]> chunks) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      List<String> out = new ArrayList<>();
      for (byte[] c : chunks) {
        out.add(HexFormat.of().formatHex(md.digest(c)));
      }
      return out;
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** Random bytes mixed with runs of a repeated byte (low-entropy stretches), from a seed. */
  static byte[] mixedData(Random r, int length) {
    byte[] d = new byte[length];
    int i = 0;
    while (i < length) {
      int run = Math.min(length - i, 1 + r.nextInt(40_000));
      if (r.nextInt(4) == 0) {
        Arrays.fill(d, i, i + run, (byte) r.nextInt(256));
      } else {
        byte[] rnd = new byte[run];
        r.nextBytes(rnd);
        System.arraycopy(rnd, 0, d, i, run);
      }
      i += run;
    }
    return d;
  }

  static int[] randomPieces(Random r) {
    int[] pieces = new int[1 + r.nextInt(50)];
    for (int i = 0; i < pieces.length; i++) {
      // Mostly small pieces (down to 1 byte) so that cuts fall at piece edges too, some large.
      pieces[i] = switch (r.nextInt(4)) {
        case 0 -> 1 + r.nextInt(16);
        case 1 -> 1 + r.nextInt(1500);
        case 2 -> 1 + r.nextInt(20_000);
        default -> 1 + r.nextInt(70_000);
      };
    }
    return pieces;
  }

  /** A literal, byte-at-a-time transcription of FORMAT.md §4, as the oracle. */
  static List<Integer> referenceCutPoints(byte[] data, ChunkerParameters p, long[] gear) {
    int bits = Integer.numberOfTrailingZeros(p.avg());
    long maskS = 0;
    for (int i = 0; i < bits + 2; i++) {
      maskS |= 1L << (63 - i);
    }
    long maskL = 0;
    for (int i = 0; i < bits - 2; i++) {
      maskL |= 1L << (63 - i);
    }
    List<Integer> ends = new ArrayList<>();
    long h = 0;
    int k = 0; // index of the current byte within its chunk
    for (int i = 0; i < data.length; i++) {
      boolean cut = false;
      if (k >= p.min()) {
        h = (h << 1) + gear[data[i] & 0xff];
        long mask = k < p.avg() ? maskS : maskL;
        cut = (h & mask) == 0;
      }
      if (k + 1 == p.max()) {
        cut = true;
      }
      k++;
      if (cut) {
        ends.add(i + 1);
        h = 0;
        k = 0;
      }
    }
    if (k > 0) {
      ends.add(data.length);
    }
    return ends;
  }

  // ---------------------------------------------------------------------------------------------
  // (a) determinism

  @Property(tries = 50)
  void sameBytesGiveSameCutsHoweverTheStreamIsSplit(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] data = mixedData(r, 1 + r.nextInt(200_000));
    long[] gear = GearTable.fromSeed(r.nextLong());

    List<Integer> whole = cutPointsWhole(data, SMALL, gear);
    List<Integer> again = cutPointsWhole(data, SMALL, gear);
    List<Integer> split = cutPoints(data, SMALL, gear, randomPieces(r));
    List<Integer> splitOtherwise = cutPoints(data, SMALL, gear, randomPieces(r));
    List<Integer> byteAtATime = data.length <= 20_000 ? cutPoints(data, SMALL, gear, new int[] {1}) : whole;

    assertEquals(whole, again, "same bytes, same feeding: same cuts");
    assertEquals(whole, split, "cuts must not depend on how the stream is split into pieces");
    assertEquals(whole, splitOtherwise, "cuts must not depend on how the stream is split into pieces");
    assertEquals(whole, byteAtATime, "feeding one byte at a time must give the same cuts");
  }

  @Property(tries = 30)
  void cutsMatchALiteralTranscriptionOfTheFormat(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] data = mixedData(r, 1 + r.nextInt(150_000));
    long[] gear = GearTable.fromSeed(r.nextLong());
    // Also vary the parameters within the allowed range (min >= 1K, avg a power of two).
    int avgBits = 11 + r.nextInt(4); // 2K .. 16K
    int avg = 1 << avgBits;
    int min = 1024 + r.nextInt(avg - 1024);
    int max = avg + 1 + r.nextInt(4 * avg);
    ChunkerParameters p = new ChunkerParameters(min, avg, max);

    assertEquals(referenceCutPoints(data, p, gear), cutPoints(data, p, gear, randomPieces(r)),
        "chunker disagrees with FORMAT.md §4 for " + p);
  }

  // ---------------------------------------------------------------------------------------------
  // (b) chunk length bounds

  @Property(tries = 50)
  void everyChunkButTheLastHasBetweenMinPlusOneAndMaxBytes(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] data = mixedData(r, r.nextInt(300_000));
    long[] gear = GearTable.fromSeed(r.nextLong());
    List<Integer> ends = cutPoints(data, SMALL, gear, randomPieces(r));

    int start = 0;
    for (int i = 0; i < ends.size(); i++) {
      int len = ends.get(i) - start;
      if (i < ends.size() - 1) {
        assertTrue(len >= SMALL.min() + 1 && len <= SMALL.max(),
            "chunk " + i + " of " + ends.size() + " has " + len + " bytes, outside [min+1, max]");
      } else {
        assertTrue(len >= 1 && len <= SMALL.max(), "last chunk has " + len + " bytes");
      }
      start = ends.get(i);
    }
    assertEquals(data.length, start, "chunks must cover the whole stream");
  }

  @Test
  void identicalChunksOfConstantDataAreCutAlikeAndNeverBeyondMax() {
    // A run of one byte value: every chunk starts in the same state and sees the same bytes, so
    // all chunks have one length; for most gear tables no hash matches and that length is max.
    byte[] data = new byte[10 * SMALL.max() + 123];
    for (long seed = 0; seed < 100; seed++) {
      List<Integer> ends = cutPointsWhole(data, SMALL, GearTable.fromSeed(seed));
      int first = ends.get(0);
      assertTrue(first > SMALL.min() && first <= SMALL.max());
      for (int i = 0; i < ends.size() - 1; i++) {
        assertEquals((i + 1) * first, ends.get(i), "chunk " + i + " of constant data");
      }
      if (first == SMALL.max()) {
        assertEquals(11, ends.size());
        return;
      }
    }
    throw new AssertionError("no gear table of 100 cut constant data at max");
  }

  @Test
  void emptyAndTinyStreams() {
    long[] gear = GearTable.fromSeed(7);
    assertEquals(List.of(), cutPointsWhole(new byte[0], SMALL, gear));
    assertEquals(List.of(1), cutPointsWhole(new byte[1], SMALL, gear));
    assertEquals(List.of(SMALL.min()), cutPointsWhole(new byte[SMALL.min()], SMALL, gear));
    Chunker c = new Chunker(SMALL, gear);
    ByteBuffer b = ByteBuffer.allocateDirect(SMALL.min());
    assertEquals(Chunker.NO_CUT, c.scan(b, 0, SMALL.min()), "no cut is possible within the first min bytes");
    assertEquals(SMALL.min(), c.currentLength());
    c.reset();
    assertEquals(0, c.currentLength());
  }

  // ---------------------------------------------------------------------------------------------
  // (c) locality

  @Property(tries = 50)
  void anEditChangesOnlyTheChunksAroundIt(
      @ForAll long seed, @ForAll boolean insert, @ForAll @IntRange(min = 1, max = 100) int runLength) {
    Random r = new Random(seed);
    byte[] before = new byte[512 << 10];
    r.nextBytes(before);
    long[] gear = GearTable.fromSeed(r.nextLong());
    // Keep at least ~128 KiB after the edit so a chunker that never resynchronizes is caught.
    int at = r.nextInt(before.length * 3 / 4);
    byte[] after;
    if (insert) {
      byte[] run = new byte[runLength];
      r.nextBytes(run);
      after = new byte[before.length + runLength];
      System.arraycopy(before, 0, after, 0, at);
      System.arraycopy(run, 0, after, at, runLength);
      System.arraycopy(before, at, after, at + runLength, before.length - at);
    } else {
      after = new byte[before.length - runLength];
      System.arraycopy(before, 0, after, 0, at);
      System.arraycopy(before, at + runLength, after, at, before.length - at - runLength);
    }

    List<Integer> endsBefore = cutPointsWhole(before, SMALL, gear);
    List<String> x = digests(chunks(before, endsBefore));
    List<String> y = digests(chunks(after, cutPointsWhole(after, SMALL, gear)));

    int prefix = 0;
    while (prefix < x.size() && prefix < y.size() && x.get(prefix).equals(y.get(prefix))) {
      prefix++;
    }
    int suffix = 0;
    while (suffix < x.size() - prefix && suffix < y.size() - prefix
        && x.get(x.size() - 1 - suffix).equals(y.get(y.size() - 1 - suffix))) {
      suffix++;
    }

    // Before the edit: every chunk that ends at or before the edit is decided by unchanged bytes,
    // so all of them are shared; only the chunk holding the edit may differ.
    int wholeChunksBefore = 0;
    while (wholeChunksBefore < endsBefore.size() && endsBefore.get(wholeChunksBefore) <= at) {
      wholeChunksBefore++;
    }
    assertTrue(prefix >= wholeChunksBefore, "only " + prefix + " leading chunks shared, but " + wholeChunksBefore
        + " chunks end before the edit at " + at);

    // After the edit the chunker resynchronizes on content. How fast is probabilistic (the cut
    // also depends on where the chunk started), so: a hard bound per edit, and most edits must
    // differ in at most 3 chunks after the one holding the edit.
    int differingAfter = Math.max(x.size() - prefix - suffix, y.size() - prefix - suffix) - 1;
    Statistics.label("chunks differing after the edited one").collect(Math.max(0, differingAfter) <= 3 ? "<= 3" : "> 3");
    Statistics.label("chunks differing after the edited one")
        .coverage(c -> c.check("<= 3").percentage(pct -> pct >= 80));
    assertTrue(differingAfter <= 20, differingAfter + " chunks after the edited one differ (of " + x.size()
        + "): the chunker does not resynchronize after an edit at " + at);
    // The shared chunks must really be content, not accidental: whatever is not shared is a small
    // part of the stream.
    assertTrue(x.size() - prefix - suffix <= x.size() / 4, "most chunks must survive a small edit");
  }

  // ---------------------------------------------------------------------------------------------
  // (d) average chunk size of the default parameters

  @Test
  void defaultParametersAverageAboutOneMebibyte() {
    Random r = new Random(0x5eedL);
    byte[] data = new byte[8 << 20];
    r.nextBytes(data);
    long[] gear = GearTable.fromSeed(r.nextLong());
    ChunkerParameters p = ChunkerParameters.DEFAULT;
    List<Integer> ends = cutPoints(data, p, gear, new int[] {1 << 20, 333_333, 4 << 20});
    // Average over complete chunks: the last one ends with the stream.
    int complete = ends.size() - 1;
    assertTrue(complete >= 2, "8 MiB of random data must hold several chunks, got " + ends.size());
    double average = (double) ends.get(complete - 1) / complete;
    assertTrue(average >= 0.5 * p.avg() && average <= 2.0 * p.avg(),
        "average chunk size " + average + " is not within 0.5x..2x of " + p.avg());
  }

  // ---------------------------------------------------------------------------------------------
  // Gear table (FORMAT.md §4): SplitMix64 seeded with the gear seed, G[i] the (i+1)-th output.

  @Property(tries = 20)
  void gearTableIsSplitMix64(@ForAll long seed) {
    // java.util.SplittableRandom is SplitMix64: seed += golden gamma, then the same finalizer.
    SplittableRandom oracle = new SplittableRandom(seed);
    long[] expected = new long[256];
    for (int i = 0; i < 256; i++) {
      expected[i] = oracle.nextLong();
    }
    assertArrayEquals(expected, GearTable.fromSeed(seed));
  }

  @Test
  void gearTableKnownValueAndSeedDependence() {
    // The first SplitMix64 output for seed 0 is the published test value 0xE220A8397B1DCDAF.
    assertEquals(0xE220A8397B1DCDAFL, GearTable.fromSeed(0)[0]);
    assertArrayEquals(GearTable.fromSeed(42), GearTable.fromSeed(42));
    assertFalse(Arrays.equals(GearTable.fromSeed(42), GearTable.fromSeed(43)));
    // A different gear table gives different cuts on the same data.
    Random r = new Random(3);
    byte[] data = new byte[200_000];
    r.nextBytes(data);
    assertNotEquals(cutPointsWhole(data, SMALL, GearTable.fromSeed(1)), cutPointsWhole(data, SMALL, GearTable.fromSeed(2)));
  }

  @Test
  void aGearTableMustHave256Entries() {
    assertThrows(IllegalArgumentException.class, () -> new Chunker(SMALL, new long[255]));
    assertThrows(IllegalArgumentException.class, () -> new Chunker(SMALL, new long[257]));
    assertEquals(256, GearTable.fromSeed(1).length);
  }
}
