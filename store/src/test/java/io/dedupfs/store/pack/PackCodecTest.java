package io.dedupfs.store.pack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.compress.ChunkDecompressor;
import io.dedupfs.store.repo.Compression;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Packs written by {@link PackWriter} into a {@link LocalPackStorage} and read back by
 * {@link PackReader}, checked byte for byte against FORMAT.md §5, and the corruptions the reader
 * must refuse.
 */
class PackCodecTest {
  /** The pack number a lone PackIndex is decoded for (its header is the associated data when sealed). */
  private static final PackNumber NUMBER = new PackNumber(7);
  private static final PackCodec.Header HEADER = new PackCodec.Header(NUMBER, PackCodec.FORMAT_VERSION);

  @TempDir Path tmp;

  /** A chunk as the test wrote it: its plaintext and what the writer returned. */
  record Written(byte[] plain, byte[] stored, PackIndexEntry entry) {}

  static byte[] compressible(Random r, int length) {
    byte[] b = new byte[length];
    byte[] word = new byte[1 + r.nextInt(12)];
    r.nextBytes(word);
    for (int i = 0; i < length; i++) {
      b[i] = (i % 97 == 0) ? (byte) r.nextInt() : word[i % word.length];
    }
    return b;
  }

  static ByteBuffer direct(byte[] bytes) {
    return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
  }

  static byte[] bytesOf(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  /**
   * Writes a pack of {@code count} chunks of random sizes, both encodings and both kinds: ZSTD
   * chunks really compressed with {@link ChunkCompressor}, RAW chunks random bytes.
   */
  static List<Written> writePack(PackStorage storage, PackNumber number, int count, Random r) throws IOException {
    List<Written> written = new ArrayList<>();
    ChunkHasher hasher = ChunkHasher.sha256();
    try (ChunkCompressor compressor = new ChunkCompressor(new Compression(Compression.Algorithm.ZSTD, 3))) {
      PackWriter writer = new PackWriter(number, storage, Encryption.NONE);
      assertEquals(PackCodec.HEADER_LENGTH, writer.size());
      long storedSum = 0;
      for (int i = 0; i < count; i++) {
        ChunkKind kind = (i % 3 == 1) ? ChunkKind.TREE : ChunkKind.DATA;
        boolean zstd = i % 2 == 0;
        int length = 1 + r.nextInt(i % 4 == 3 ? 200_000 : 20_000);
        byte[] plain;
        byte[] stored;
        ChunkEncoding encoding;
        if (zstd) {
          plain = compressible(r, length + 64);
          ByteBuffer dst = ByteBuffer.allocateDirect(plain.length);
          int n = compressor.compressIfSmaller(direct(plain), dst);
          assertTrue(n > 0 && n < plain.length, "compressible data must compress");
          stored = bytesOf(dst.limit(n).position(0));
          encoding = ChunkEncoding.ZSTD;
        } else {
          plain = new byte[length];
          r.nextBytes(plain);
          stored = plain;
          encoding = ChunkEncoding.RAW;
        }
        ChunkId id = hasher.idOf(plain);
        long before = writer.size();
        PackIndexEntry e = writer.append(id, kind, encoding, plain.length, ByteBuffer.wrap(stored));
        assertEquals(before, e.offset());
        assertEquals(stored.length, e.storedLength());
        assertEquals(plain.length, e.plainLength());
        assertEquals(kind, e.kind());
        assertEquals(encoding, e.encoding());
        assertEquals(id, e.id());
        storedSum += stored.length;
        written.add(new Written(plain, stored, e));
      }
      assertEquals(count, writer.chunkCount());
      assertEquals(storedSum, writer.storedBytes());
      assertEquals(PackCodec.HEADER_LENGTH + storedSum, writer.size());
      List<PackIndexEntry> sealed = writer.seal();
      assertEquals(written.stream().map(Written::entry).toList(), sealed);
    }
    return written;
  }

  Path packFile(PackNumber n) {
    String hex = String.format(Locale.ROOT, "%016x", n.value());
    return tmp.resolve("packs").resolve(hex.substring(14)).resolve(hex);
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void writeSealAndReadBackTheIndex() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(0x1234_5678_9abcL);
    List<Written> written = writePack(storage, number, 12, new Random(1));

    // FORMAT.md §2: packs/HH/NNNNNNNNNNNNNNNN, HH the lowest byte.
    Path file = tmp.resolve("packs/bc/0000123456789abc");
    assertTrue(Files.isRegularFile(file), "pack must be at " + file);
    try (var files = Files.walk(tmp.resolve("packs"))) {
      assertEquals(1, files.filter(Files::isRegularFile).count(), "exactly one file is written");
    }

    List<PackIndexEntry> read = PackReader.readIndex(storage, number, Encryption.NONE);
    assertEquals(written.stream().map(Written::entry).toList(), read);
    assertTrue(read.stream().anyMatch(e -> e.kind() == ChunkKind.TREE));
    assertTrue(read.stream().anyMatch(e -> e.kind() == ChunkKind.DATA));
    assertTrue(read.stream().anyMatch(e -> e.encoding() == ChunkEncoding.RAW));
    assertTrue(read.stream().anyMatch(e -> e.encoding() == ChunkEncoding.ZSTD));

    // Every chunk reads back from its offset and decodes to a plaintext that hashes to its id.
    ChunkHasher hasher = ChunkHasher.sha256();
    try (ChunkDecompressor decompressor = new ChunkDecompressor()) {
      for (Written w : written) {
        PackIndexEntry e = w.entry();
        ByteBuffer stored = ByteBuffer.allocateDirect(e.storedLength());
        storage.read(number, e.offset(), stored);
        assertArrayEquals(w.stored(), bytesOf(stored.flip()));
        ByteBuffer plain;
        if (e.encoding() == ChunkEncoding.ZSTD) {
          plain = ByteBuffer.allocateDirect(e.plainLength());
          decompressor.decompress(stored, plain, e.plainLength(), "chunk " + e.id());
          plain.limit(e.plainLength()).position(0);
        } else {
          plain = stored;
        }
        assertArrayEquals(w.plain(), bytesOf(plain));
        assertEquals(e.id(), hasher.idOf(plain));
      }
    }
  }

  /** Parses the file independently of PackCodec, following FORMAT.md §5 literally. */
  @Test
  void bytesOnDiskFollowTheFormat() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(0x0102_0304_0506_0708L);
    List<Written> written = writePack(storage, number, 5, new Random(2));
    byte[] file = Files.readAllBytes(packFile(number));
    ByteBuffer b = ByteBuffer.wrap(file);

    assertEquals("DDFSPACK", new String(file, 0, 8, StandardCharsets.US_ASCII));
    assertEquals(2, b.getShort(8), "version");
    assertEquals(0, b.getShort(10), "flags");
    assertEquals(0, b.getInt(12), "reserved");
    assertEquals(0x0102_0304_0506_0708L, b.getLong(16), "pack number, big-endian");
    assertEquals(1, file[16]);

    int t = file.length - 48;
    assertEquals("DDFSPEND", new String(file, t + 40, 8, StandardCharsets.US_ASCII));
    assertEquals(0, b.getInt(t + 4), "trailer reserved");
    int indexLength = b.getInt(t);
    assertEquals(4 + 60 * written.size(), indexLength);
    int indexStart = t - indexLength;
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(file, indexStart, t));
    assertArrayEquals(digest, Arrays.copyOfRange(file, t + 8, t + 40), "trailer digest is SHA-256 of the PackIndex");
    assertEquals(written.size(), b.getInt(indexStart));

    long expectedOffset = 24;
    for (int i = 0; i < written.size(); i++) {
      int at = indexStart + 4 + 60 * i;
      Written w = written.get(i);
      assertArrayEquals(w.entry().id().toBytes(), Arrays.copyOfRange(file, at, at + 32));
      assertEquals(expectedOffset, b.getLong(at + 32), "entry " + i + " offset");
      assertEquals(w.stored().length, b.getInt(at + 40));
      assertEquals(w.plain().length, b.getInt(at + 44));
      assertEquals(w.entry().kind().code, file[at + 48]);
      assertEquals(w.entry().encoding().code, file[at + 49]);
      assertEquals(0, b.getShort(at + 50), "entry reserved");
      assertEquals(0, b.getInt(at + 52), "offset in block of a chunk alone");
      assertEquals(w.stored().length, b.getInt(at + 56), "stored share of a chunk alone");
      assertArrayEquals(w.stored(), Arrays.copyOfRange(file, (int) expectedOffset, (int) expectedOffset + w.stored().length));
      expectedOffset += w.stored().length;
    }
    assertEquals(indexStart, expectedOffset, "stored chunks are contiguous up to the PackIndex");
  }

  @Test
  void emptyPackIsValid() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(1);
    assertEquals(List.of(), new PackWriter(number, storage, Encryption.NONE).seal());
    assertEquals(24 + 4 + 48, storage.size(number));
    assertEquals(List.of(), PackReader.readIndex(storage, number, Encryption.NONE));
  }

  @Test
  void truncatedByOneByteIsCorrupt() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(7);
    writePack(storage, number, 4, new Random(3));
    Path file = packFile(number);
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(f.length() - 1);
    }
    assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE));
  }

  @Test
  void anyFlippedByteInsideThePackIndexIsCorrupt() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(0x100);
    List<Written> written = writePack(storage, number, 3, new Random(4));
    Path file = packFile(number);
    byte[] good = Files.readAllBytes(file);
    int indexLength = PackCodec.indexLength(written.size());
    int indexStart = good.length - 48 - indexLength;
    // Every byte of the PackIndex and of the trailer's length and digest fields.
    for (int at = indexStart; at < good.length - 8; at++) {
      if (at >= good.length - 48 + 4 && at < good.length - 48 + 8) {
        continue; // trailer reserved field: not covered by the digest
      }
      byte[] bad = good.clone();
      bad[at] ^= (byte) (1 << (at % 8));
      Files.write(file, bad);
      int where = at;
      CorruptDataException e = assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE),
          "flipped byte at " + where + " (index starts at " + indexStart + ", pack length " + good.length + ")");
      assertTrue(e.getMessage().contains(number.toString()), "the error names the pack: " + e.getMessage());
    }
    Files.write(file, good);
    assertEquals(written.size(), PackReader.readIndex(storage, number, Encryption.NONE).size());
  }

  @Test
  void damagedTrailerMagicIsCorrupt() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(8);
    writePack(storage, number, 2, new Random(5));
    Path file = packFile(number);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1;
    Files.write(file, bytes);
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE));
    assertTrue(e.getMessage().contains("trailer"), e.getMessage());
  }

  @Test
  void unsealedPackIsCorrupt() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    Random r = new Random(6);
    // A pack with chunks whose writer gave up before sealing (the crash case).
    PackNumber number = new PackNumber(9);
    PackWriter writer = new PackWriter(number, storage, Encryption.NONE);
    for (int i = 0; i < 3; i++) {
      byte[] plain = new byte[1000 + r.nextInt(5000)];
      r.nextBytes(plain);
      writer.append(ChunkHasher.sha256().idOf(plain), ChunkKind.DATA, ChunkEncoding.RAW, plain.length, ByteBuffer.wrap(plain));
    }
    writer.abandon();
    assertTrue(storage.size(number) > 24);
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE));
    String m = e.getMessage().toLowerCase(Locale.ROOT);
    assertTrue(m.contains("unsealed") || m.contains("trailer"), "message must say the pack is unsealed: " + e.getMessage());

    // A pack holding nothing but its header.
    PackNumber empty = new PackNumber(10);
    new PackWriter(empty, storage, Encryption.NONE).abandon();
    assertEquals(24, storage.size(empty));
    CorruptDataException e2 = assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, empty, Encryption.NONE));
    String m2 = e2.getMessage().toLowerCase(Locale.ROOT);
    assertTrue(m2.contains("seal") || m2.contains("trailer"), "message must say the pack is unsealed: " + e2.getMessage());
  }

  @Test
  void bytesAppendedAfterTheTrailerAreCorrupt() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(11);
    writePack(storage, number, 2, new Random(7));
    Path file = packFile(number);
    byte[] bytes = Files.readAllBytes(file);
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
    Files.write(file, longer);
    assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE));
  }

  @Test
  void headerDamage() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(12);
    writePack(storage, number, 2, new Random(8));
    Path file = packFile(number);
    byte[] good = Files.readAllBytes(file);

    byte[] magic = good.clone();
    magic[3] ^= 0x20;
    Files.write(file, magic);
    assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE), "bad header magic");

    byte[] version = good.clone();
    version[9] = 3;
    Files.write(file, version);
    FormatVersionException v = assertThrows(FormatVersionException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE));
    assertTrue(v.getMessage().contains("version 3") && v.getMessage().contains("1 to 2"), "names the versions: " + v.getMessage());

    byte[] flags = good.clone();
    flags[11] = 2; // bit 1: unknown
    Files.write(file, flags);
    assertThrows(FormatVersionException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE), "unknown flag bit");

    byte[] encrypted = good.clone();
    encrypted[11] = 1; // bit 0: encrypted, in a plain repository
    Files.write(file, encrypted);
    FormatVersionException e = assertThrows(FormatVersionException.class,
        () -> PackReader.readIndex(storage, number, Encryption.NONE), "encrypted pack in a plain repository");
    assertTrue(e.getMessage().contains("encrypted"), e.getMessage());

    byte[] otherNumber = good.clone();
    otherNumber[23] ^= 1;
    Files.write(file, otherNumber);
    assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE), "header names another pack");
  }

  @Test
  void tooShortFilesAreCorrupt() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(13);
    Files.createDirectories(packFile(number).getParent());
    for (int len : new int[] {0, 1, 23, 24, 75}) {
      Files.write(packFile(number), new byte[len]);
      assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, number, Encryption.NONE), len + " bytes");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // PackCodec directly

  @Test
  void headerRoundTrip() throws Exception {
    for (long n : new long[] {0, 1, 255, 256, Long.MAX_VALUE}) {
      ByteBuffer h = PackCodec.encodeHeader(new PackNumber(n), Encryption.NONE);
      assertEquals(PackCodec.HEADER_LENGTH, h.remaining());
      assertEquals(new PackCodec.Header(new PackNumber(n), 2), PackCodec.decodeHeader(h, Encryption.NONE, "test"));
    }
  }

  @Test
  void decodeIndexChecksPlacement() throws Exception {
    ChunkId a = ChunkId.of(new byte[32]);
    byte[] bid = new byte[32];
    bid[0] = 1;
    ChunkId b = ChunkId.of(bid);
    PackIndexEntry e1 = new PackIndexEntry(a, 24, 100, 100, ChunkKind.DATA, ChunkEncoding.RAW);
    PackIndexEntry e2 = new PackIndexEntry(b, 124, 50, 80, ChunkKind.TREE, ChunkEncoding.ZSTD);
    ByteBuffer encoded = PackCodec.encodeIndexAndTrailer(List.of(e1, e2), NUMBER, Encryption.NONE);
    int indexLength = PackCodec.indexLength(2);
    assertEquals(indexLength + PackCodec.TRAILER_LENGTH, encoded.remaining());
    ByteBuffer index = encoded.duplicate().limit(indexLength);
    ByteBuffer trailer = encoded.duplicate().position(indexLength).slice();
    assertEquals(indexLength, PackCodec.decodeTrailerIndexLength(trailer, HEADER, Encryption.NONE, "t"));
    long packLength = 24 + 150 + indexLength + 48;
    assertEquals(List.of(e1, e2), PackCodec.decodeIndex(index.duplicate(), trailer, packLength, HEADER, Encryption.NONE, "t"));
    // Chunks must end exactly where the PackIndex begins.
    assertThrows(CorruptDataException.class, () -> PackCodec.decodeIndex(index.duplicate(), trailer, packLength + 1, HEADER, Encryption.NONE, "t"));
    assertThrows(CorruptDataException.class, () -> PackCodec.decodeIndex(index.duplicate(), trailer, packLength - 1, HEADER, Encryption.NONE, "t"));
    // Entries that are not contiguous are refused even with a matching digest.
    PackIndexEntry gap = new PackIndexEntry(b, 125, 50, 80, ChunkKind.TREE, ChunkEncoding.ZSTD);
    ByteBuffer gapped = PackCodec.encodeIndexAndTrailer(List.of(e1, gap), NUMBER, Encryption.NONE);
    assertThrows(CorruptDataException.class, () -> PackCodec.decodeIndex(gapped.duplicate().limit(indexLength),
        gapped.duplicate().position(indexLength).slice(), packLength + 1, HEADER, Encryption.NONE, "t"));
    // An unknown kind or encoding code with a matching digest is corruption, not a crash.
    PackIndexEntry first = new PackIndexEntry(a, 24, 100, 100, ChunkKind.DATA, ChunkEncoding.RAW);
    ByteBuffer one = PackCodec.encodeIndexAndTrailer(List.of(first), NUMBER, Encryption.NONE);
    byte[] raw = bytesOf(one);
    raw[4 + 49] = 5; // encoding code 5
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(raw, 0, 4 + 60));
    System.arraycopy(digest, 0, raw, 4 + 60 + 8, 32);
    assertThrows(CorruptDataException.class, () -> PackCodec.decodeIndex(ByteBuffer.wrap(raw, 0, 64).slice(),
        ByteBuffer.wrap(raw, 64, 48).slice(), 24 + 100 + 64 + 48, HEADER, Encryption.NONE, "t"));
  }

  @Test
  void trailerWithImpossibleIndexLengthIsCorrupt() throws Exception {
    ByteBuffer trailer = PackCodec.encodeIndexAndTrailer(List.of(), NUMBER, Encryption.NONE);
    ByteBuffer t = trailer.duplicate().position(4).slice();
    assertEquals(4, PackCodec.decodeTrailerIndexLength(t.duplicate(), HEADER, Encryption.NONE, "t"));
    for (int bad : new int[] {0, 3, 5, 4 + 52, 4 + 59, -1}) {
      ByteBuffer copy = ByteBuffer.allocate(48).put(t.duplicate()).flip();
      copy.putInt(0, bad);
      assertThrows(CorruptDataException.class, () -> PackCodec.decodeTrailerIndexLength(copy, HEADER, Encryption.NONE, "t"), "length " + bad);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Blocks (FORMAT.md §5.1) and version-1 packs

  private static ChunkId idOf(int n) {
    byte[] b = new byte[32];
    b[0] = (byte) n;
    return ChunkId.of(b);
  }

  private static List<PackIndexEntry> decodeAlone(List<PackIndexEntry> entries, long chunkBytes) throws Exception {
    ByteBuffer encoded = PackCodec.encodeIndexAndTrailer(entries, NUMBER, Encryption.NONE);
    int indexLength = PackCodec.indexLength(entries.size());
    return PackCodec.decodeIndex(encoded.duplicate().limit(indexLength), encoded.duplicate().position(indexLength).slice(),
        24 + chunkBytes + indexLength + 48, HEADER, Encryption.NONE, "t");
  }

  @Test
  void aBlockRoundTripsThroughAPackWithSharesInProportionToPlainLengths() throws Exception {
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    PackNumber number = new PackNumber(0x51);
    Random r = new Random(11);
    byte[] a = compressible(r, 3000);
    byte[] b = compressible(r, 1000);
    byte[] c = compressible(r, 6000);
    ChunkHasher hasher = ChunkHasher.sha256();
    ByteBuffer plain = ByteBuffer.allocateDirect(10_000).put(a).put(b).put(c).flip();
    ByteBuffer frame = ByteBuffer.allocateDirect(20_000);
    int n;
    try (ChunkCompressor compressor = new ChunkCompressor(Compression.DEFAULT)) {
      n = compressor.compress(plain, frame);
    }
    byte[] stored = new byte[n];
    frame.get(0, stored);
    byte[] alone = compressible(r, 500);
    PackWriter writer = new PackWriter(number, storage, Encryption.NONE);
    writer.append(hasher.idOf(alone), ChunkKind.DATA, ChunkEncoding.RAW, alone.length, ByteBuffer.wrap(alone));
    List<PackIndexEntry> members = writer.appendBlock(List.of(
        new PackWriter.BlockMember(hasher.idOf(a), ChunkKind.DATA, a.length),
        new PackWriter.BlockMember(hasher.idOf(b), ChunkKind.TREE, b.length),
        new PackWriter.BlockMember(hasher.idOf(c), ChunkKind.DATA, c.length)), ByteBuffer.wrap(stored));
    writer.seal();

    List<PackIndexEntry> read = PackReader.readIndex(storage, number, Encryption.NONE);
    assertEquals(4, read.size());
    assertEquals(members, read.subList(1, 4));
    assertEquals(List.of(0, 3000, 4000), read.subList(1, 4).stream().map(PackIndexEntry::offsetInBlock).toList());
    assertEquals(24 + 500, read.get(1).offset(), "members name the block's offset");
    assertEquals(n, read.get(3).storedLength(), "and its stored length");
    assertEquals(n, read.subList(1, 4).stream().mapToInt(PackIndexEntry::storedShare).sum(), "shares add up to the block");
    assertEquals(n * 3000 / 10_000, read.get(1).storedShare());
    assertEquals(n * 1000 / 10_000, read.get(2).storedShare());
    assertEquals(ChunkKind.TREE, read.get(2).kind());
    assertEquals(n + 500, writer.storedBytes(), "a block's bytes count once");

    // The frame decodes to the members back to back.
    byte[] file = Files.readAllBytes(packFile(number));
    ByteBuffer storedFrame = direct(Arrays.copyOfRange(file, 24 + 500, 24 + 500 + n));
    assertEquals(10_000, ChunkDecompressor.declaredLength(storedFrame, PackCodec.BLOCK_MAX_PLAIN, "t"));
  }

  @Test
  void blockMembersThatDoNotTileTheirBlockAreCorrupt() throws Exception {
    PackIndexEntry m1 = new PackIndexEntry(idOf(1), 24, 100, 300, ChunkKind.DATA, ChunkEncoding.BLOCK, 0, 40);
    PackIndexEntry m2 = new PackIndexEntry(idOf(2), 24, 100, 200, ChunkKind.DATA, ChunkEncoding.BLOCK, 300, 60);
    PackIndexEntry after = new PackIndexEntry(idOf(3), 124, 10, 10, ChunkKind.DATA, ChunkEncoding.RAW);
    assertEquals(List.of(m1, m2, after), decodeAlone(List.of(m1, m2, after), 110));

    // A member not starting where the one before it ends in the block.
    PackIndexEntry skewed = new PackIndexEntry(idOf(2), 24, 100, 200, ChunkKind.DATA, ChunkEncoding.BLOCK, 301, 60);
    assertThrows(CorruptDataException.class, () -> decodeAlone(List.of(m1, skewed), 100));
    // Shares that do not add up to the block.
    PackIndexEntry greedy = new PackIndexEntry(idOf(2), 24, 100, 200, ChunkKind.DATA, ChunkEncoding.BLOCK, 300, 61);
    assertThrows(CorruptDataException.class, () -> decodeAlone(List.of(m1, greedy), 100));
    // A block of one member.
    PackIndexEntry lone = new PackIndexEntry(idOf(1), 24, 100, 300, ChunkKind.DATA, ChunkEncoding.BLOCK, 0, 100);
    assertThrows(CorruptDataException.class, () -> decodeAlone(List.of(lone), 100));
    // A first member not at 0 in its block.
    PackIndexEntry late = new PackIndexEntry(idOf(1), 24, 100, 300, ChunkKind.DATA, ChunkEncoding.BLOCK, 5, 40);
    assertThrows(CorruptDataException.class, () -> decodeAlone(List.of(late, m2), 100));
    // A member claiming another length for the block.
    PackIndexEntry longer = new PackIndexEntry(idOf(2), 24, 101, 200, ChunkKind.DATA, ChunkEncoding.BLOCK, 300, 61);
    assertThrows(CorruptDataException.class, () -> decodeAlone(List.of(m1, longer), 101));
  }

  @Test
  void aVersion1PackIsReadWithItsShorterEntries() throws Exception {
    // Written byte by byte as FORMAT.md version 1 had it: 52-byte entries, the header's version 1.
    byte[] chunk = "version one".getBytes(StandardCharsets.US_ASCII);
    ChunkId id = ChunkHasher.sha256().idOf(chunk);
    ByteBuffer index = ByteBuffer.allocate(4 + 52);
    index.putInt(1);
    id.writeTo(index);
    index.putLong(24).putInt(chunk.length).putInt(chunk.length).put((byte) 0).put((byte) 0).putShort((short) 0);
    byte[] indexBytes = index.array();
    ByteBuffer header = PackCodec.encodeHeader(new PackNumber(3), Encryption.NONE);
    header.putShort(8, (short) 1);
    ByteBuffer file = ByteBuffer.allocate(24 + chunk.length + indexBytes.length + 48);
    file.put(header).put(chunk).put(indexBytes).putInt(indexBytes.length).putInt(0)
        .put(MessageDigest.getInstance("SHA-256").digest(indexBytes)).put("DDFSPEND".getBytes(StandardCharsets.US_ASCII));
    LocalPackStorage storage = new LocalPackStorage(tmp.resolve("packs"));
    Path path = packFile(new PackNumber(3));
    Files.createDirectories(path.getParent());
    Files.write(path, file.array());
    assertEquals(List.of(new PackIndexEntry(id, 24, chunk.length, chunk.length, ChunkKind.DATA, ChunkEncoding.RAW)),
        PackReader.readIndex(storage, new PackNumber(3), Encryption.NONE));

    // Encoding 2 did not exist in version 1.
    file.put(24 + chunk.length + 4 + 49, (byte) 2);
    byte[] damaged = file.array();
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(damaged, 24 + chunk.length,
        24 + chunk.length + indexBytes.length));
    System.arraycopy(digest, 0, damaged, damaged.length - 40, 32);
    Files.write(path, damaged);
    assertThrows(CorruptDataException.class, () -> PackReader.readIndex(storage, new PackNumber(3), Encryption.NONE));
  }
}
