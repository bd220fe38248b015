package io.dedupfs.store.repo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The 60-byte repository config of FORMAT.md §3 and the validation of its values. */
class ConfigCodecTest {

  /** Recomputes the CRC-32C of bytes 0..55 into bytes 56..59, as a writer would. */
  static void fixCrc(byte[] config) {
    CRC32C crc = new CRC32C();
    crc.update(config, 0, 56);
    ByteBuffer.wrap(config).putInt(56, (int) crc.getValue());
  }

  @Test
  void roundTripOfACreatedConfig() throws Exception {
    RepositoryConfig config = RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT);
    byte[] bytes = ConfigCodec.encode(config);
    assertEquals(60, bytes.length);
    assertEquals(ConfigCodec.LENGTH, bytes.length);
    RepositoryConfig decoded = ConfigCodec.decode(bytes);
    assertEquals(config, decoded);
    assertArrayEquals(config.repositoryId(), decoded.repositoryId());
    assertEquals(config.chunker(), decoded.chunker());
    assertEquals(config.gearSeed(), decoded.gearSeed());
    assertEquals(config.compression(), decoded.compression());
    assertEquals(config.packTargetSize(), decoded.packTargetSize());
    assertArrayEquals(bytes, ConfigCodec.encode(decoded), "re-encoding gives the same bytes");
  }

  @Test
  void createGivesRandomIdsAndSeeds() {
    RepositoryConfig a = RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.NONE);
    RepositoryConfig b = RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.NONE);
    assertEquals(16, a.repositoryId().length);
    assertTrue(!Arrays.equals(a.repositoryId(), b.repositoryId()) || a.gearSeed() != b.gearSeed());
    assertNotEquals(a, b);
    assertEquals(RepositoryConfig.DEFAULT_PACK_TARGET_SIZE, a.packTargetSize());
  }

  /** Every field lands at the offset and in the byte order FORMAT.md §3 gives. */
  @Test
  void layoutFollowsTheFormat() {
    byte[] id = new byte[16];
    for (int i = 0; i < 16; i++) {
      id[i] = (byte) (0xA0 + i);
    }
    RepositoryConfig config = new RepositoryConfig(
        id, new ChunkerParameters(0x1000, 0x4000, 0x10000), 0x0102030405060708L, new Compression(Compression.Algorithm.ZSTD, 19),
        5 << 20, false);
    byte[] b = ConfigCodec.encode(config);
    ByteBuffer bb = ByteBuffer.wrap(b);
    assertEquals("DDFSCONF", new String(b, 0, 8, StandardCharsets.US_ASCII));
    assertEquals(2, bb.getShort(8), "format version, big-endian");
    assertEquals(0, b[8]);
    assertEquals(2, b[9]);
    assertEquals(0, bb.getShort(10), "flags");
    assertArrayEquals(id, Arrays.copyOfRange(b, 12, 28));
    assertEquals(0x1000, bb.getInt(28));
    assertEquals(0x4000, bb.getInt(32));
    assertEquals(0x10000, bb.getInt(36));
    assertEquals(0x01, b[40], "gear seed is big-endian");
    assertEquals(0x0102030405060708L, bb.getLong(40));
    assertEquals(1, b[48], "compression zstd");
    assertEquals(19, b[49], "compression level");
    assertEquals(0, b[50], "chunk id scheme");
    assertEquals(0, b[51], "encryption");
    assertEquals(5 << 20, bb.getInt(52));
    CRC32C crc = new CRC32C();
    crc.update(b, 0, 56);
    assertEquals((int) crc.getValue(), bb.getInt(56), "CRC-32C of bytes 0..55");

    byte[] none = ConfigCodec.encode(new RepositoryConfig(id, ChunkerParameters.DEFAULT, -1L, Compression.NONE, 1 << 20, false));
    assertEquals(0, none[48]);
    assertEquals(0, none[49]);
  }

  @Property(tries = 50)
  void roundTripOfAnyValidConfig(
      @ForAll byte[] idSource,
      @ForAll long seed,
      @ForAll @IntRange(min = 11, max = 23) int avgBits,
      @ForAll @IntRange(min = 0, max = 22) int level,
      @ForAll @IntRange(min = 1 << 20, max = 1 << 30) int packTarget) throws Exception {
    byte[] id = Arrays.copyOf(idSource, 16);
    int avg = 1 << avgBits;
    int min = Math.max(1024, avg / 4);
    if (min >= avg) {
      min = avg - 1;
    }
    int max = Math.min(16 << 20, avg * 4);
    Compression compression = level == 0 ? Compression.NONE : new Compression(Compression.Algorithm.ZSTD, level);
    RepositoryConfig config = new RepositoryConfig(id, new ChunkerParameters(min, avg, max), seed, compression, packTarget, false);
    assertEquals(config, ConfigCodec.decode(ConfigCodec.encode(config)));
  }

  @Test
  void newerFormatVersionIsRefusedNamingBothVersions() {
    byte[] b = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    b[8] = 0;
    b[9] = 3;
    fixCrc(b);
    FormatVersionException e = assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(b));
    assertTrue(e.getMessage().contains("version 3"), "message must name version 3: " + e.getMessage());
    assertTrue(e.getMessage().contains("1 to 2"), "message must name the versions this build reads: " + e.getMessage());
  }

  @Test
  void formatVersion1IsStillRead() throws Exception {
    RepositoryConfig config = RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT);
    byte[] b = ConfigCodec.encode(config);
    b[9] = 1;
    fixCrc(b);
    assertEquals(1, ConfigCodec.versionOf(b));
    assertArrayEquals(config.repositoryId(), ConfigCodec.decode(b).repositoryId());
  }

  @Test
  void versionWithHighByteSetIsRefused() {
    // Big-endian: 0x0100 is version 256, not 1.
    byte[] b = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    b[8] = 1;
    b[9] = 0;
    fixCrc(b);
    FormatVersionException e = assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(b));
    assertTrue(e.getMessage().contains("256"), e.getMessage());
  }

  @Test
  void badMagicIsRefused() {
    byte[] b = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    b[0] = 'X';
    fixCrc(b);
    assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(b));
    byte[] notAConfig = "hello, this is not a dedupfs config at all, just some text!".getBytes(StandardCharsets.US_ASCII);
    assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(notAConfig));
    assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(new byte[0]));
    assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(Arrays.copyOf(b, 5)));
  }

  /** A flipped bit anywhere (except in the magic or the version, which are checked first) is caught by the CRC. */
  @Property(tries = 60)
  void aFlippedByteWithoutCrcFixIsCorruption(
      @ForAll @IntRange(min = 10, max = 59) int offset, @ForAll @IntRange(min = 0, max = 7) int bit) {
    byte[] b = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    b[offset] ^= (byte) (1 << bit);
    CorruptDataException e = assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(b),
        "byte " + offset + " bit " + bit + " flipped");
    assertTrue(e.getMessage().toLowerCase().contains("checksum"), e.getMessage());
  }

  @Test
  void wrongLengthIsCorruption() {
    byte[] b = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(Arrays.copyOf(b, 59)));
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(Arrays.copyOf(b, 61)));
  }

  @Test
  void unknownFeaturesAreRefusedEvenWithAValidCrc() {
    byte[] good = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    for (int offset : new int[] {10, 11, 50, 51}) {
      byte[] b = good.clone();
      b[offset] = (offset == 10) ? (byte) 0x80 : 1;
      fixCrc(b);
      assertThrows(FormatVersionException.class, () -> ConfigCodec.decode(b), "unknown feature at byte " + offset);
    }
  }

  @Test
  void invalidValuesWithAValidCrcAreCorruption() {
    byte[] good = ConfigCodec.encode(RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT));
    // avg not a power of two
    byte[] b1 = good.clone();
    ByteBuffer.wrap(b1).putInt(32, (1 << 20) + 1);
    fixCrc(b1);
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(b1));
    // unknown compression code
    byte[] b2 = good.clone();
    b2[48] = 7;
    fixCrc(b2);
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(b2));
    // zstd level 0
    byte[] b3 = good.clone();
    b3[49] = 0;
    fixCrc(b3);
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(b3));
    // pack target below 1 MiB
    byte[] b4 = good.clone();
    ByteBuffer.wrap(b4).putInt(52, (1 << 20) - 1);
    fixCrc(b4);
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(b4));
    // max above 16 MiB
    byte[] b5 = good.clone();
    ByteBuffer.wrap(b5).putInt(36, (16 << 20) + 1);
    fixCrc(b5);
    assertThrows(CorruptDataException.class, () -> ConfigCodec.decode(b5));
  }

  // ---------------------------------------------------------------------------------------------
  // ChunkerParameters and Compression validation

  @Test
  void chunkerParametersValidation() {
    new ChunkerParameters(1024, 2048, 4096);
    new ChunkerParameters(1024, 1 << 20, 16 << 20);
    new ChunkerParameters(1024, 2048, 2049);
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(1023, 2048, 4096), "min below 1 KiB");
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(2048, 2048, 4096), "min == avg");
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(1024, 4096, 4096), "avg == max");
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(4096, 2048, 8192), "min > avg");
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(1024, 3000, 8192), "avg not a power of two");
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(1024, 1 << 20, (16 << 20) + 1), "max above 16 MiB");
    assertThrows(IllegalArgumentException.class, () -> new ChunkerParameters(-5, 2048, 4096));
    assertEquals(new ChunkerParameters(256 << 10, 1 << 20, 4 << 20), ChunkerParameters.DEFAULT);
  }

  @Test
  void compressionParse() {
    assertEquals(new Compression(Compression.Algorithm.ZSTD, 3), Compression.parse("zstd:3"));
    assertEquals(new Compression(Compression.Algorithm.ZSTD, 22), Compression.parse("zstd:22"));
    assertEquals(new Compression(Compression.Algorithm.ZSTD, 1), Compression.parse(" ZSTD:1 "));
    assertEquals(Compression.DEFAULT, Compression.parse("zstd"));
    assertEquals(Compression.NONE, Compression.parse("none"));
    assertEquals(Compression.Algorithm.NONE, Compression.parse("NONE").algorithm());
    assertEquals("zstd:3", Compression.parse("zstd:3").toString());
    assertEquals("none", Compression.parse("none").toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"zstd:0", "zstd:23", "zstd:-1", "zstd:", "zstd:x", "lz4", "gzip", "", "none:1", "zstd3"})
  void compressionParseRejects(String text) {
    assertThrows(IllegalArgumentException.class, () -> Compression.parse(text), text);
  }

  @Test
  void compressionConstructorValidation() {
    assertThrows(IllegalArgumentException.class, () -> new Compression(Compression.Algorithm.NONE, 3));
    assertThrows(IllegalArgumentException.class, () -> new Compression(Compression.Algorithm.ZSTD, 0));
    assertThrows(IllegalArgumentException.class, () -> new Compression(Compression.Algorithm.ZSTD, 23));
  }

  @Test
  void repositoryConfigValidation() {
    assertThrows(IllegalArgumentException.class,
        () -> new RepositoryConfig(new byte[15], ChunkerParameters.DEFAULT, 0, Compression.NONE, 1 << 20, false));
    assertThrows(IllegalArgumentException.class,
        () -> new RepositoryConfig(new byte[16], ChunkerParameters.DEFAULT, 0, Compression.NONE, (1 << 20) - 1, false));
    assertThrows(IllegalArgumentException.class,
        () -> new RepositoryConfig(new byte[16], ChunkerParameters.DEFAULT, 0, Compression.NONE, (1 << 30) + 1, false));
    byte[] id = new byte[16];
    RepositoryConfig c = new RepositoryConfig(id, ChunkerParameters.DEFAULT, 0, Compression.NONE, 1 << 30, false);
    id[0] = 9;
    assertEquals(0, c.repositoryId()[0], "the config keeps its own copy of the id");
  }
}
