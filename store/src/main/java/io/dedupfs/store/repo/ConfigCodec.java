package io.dedupfs.store.repo;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/** Byte layout of {@code REPO/config}, FORMAT.md §3. Stateless. */
public final class ConfigCodec {
  static final byte[] MAGIC = "DDFSCONF".getBytes(StandardCharsets.US_ASCII);
  static final int OFFSET_VERSION = 8;
  static final int OFFSET_FLAGS = 10;
  static final int OFFSET_REPOSITORY_ID = 12;
  static final int OFFSET_CHUNK_MIN = 28;
  static final int OFFSET_CHUNK_AVG = 32;
  static final int OFFSET_CHUNK_MAX = 36;
  static final int OFFSET_GEAR_SEED = 40;
  static final int OFFSET_COMPRESSION = 48;
  static final int OFFSET_COMPRESSION_LEVEL = 49;
  static final int OFFSET_ID_SCHEME = 50;
  static final int OFFSET_ENCRYPTION = 51;
  static final int OFFSET_PACK_TARGET = 52;
  static final int OFFSET_CRC = 56;
  public static final int LENGTH = 60;
  static final int ID_SCHEME_SHA256 = 0;
  static final int ID_SCHEME_HMAC = 1;
  static final int ENCRYPTION_NONE = 0;
  static final int ENCRYPTION_AES_GCM = 1;

  private ConfigCodec() {}

  public static byte[] encode(RepositoryConfig config) {
    ByteBuffer b = ByteBuffer.allocate(LENGTH);
    b.put(MAGIC);
    b.putShort(OFFSET_VERSION, (short) RepositoryConfig.FORMAT_VERSION);
    b.putShort(OFFSET_FLAGS, (short) 0);
    b.put(OFFSET_REPOSITORY_ID, config.repositoryId());
    b.putInt(OFFSET_CHUNK_MIN, config.chunker().min());
    b.putInt(OFFSET_CHUNK_AVG, config.chunker().avg());
    b.putInt(OFFSET_CHUNK_MAX, config.chunker().max());
    b.putLong(OFFSET_GEAR_SEED, config.gearSeed());
    b.put(OFFSET_COMPRESSION, (byte) config.compression().algorithm().code);
    b.put(OFFSET_COMPRESSION_LEVEL, (byte) config.compression().level());
    b.put(OFFSET_ID_SCHEME, (byte) (config.encrypted() ? ID_SCHEME_HMAC : ID_SCHEME_SHA256));
    b.put(OFFSET_ENCRYPTION, (byte) (config.encrypted() ? ENCRYPTION_AES_GCM : ENCRYPTION_NONE));
    b.putInt(OFFSET_PACK_TARGET, config.packTargetSize());
    b.putInt(OFFSET_CRC, crc(b.array()));
    return b.array();
  }

  /** The format version a config's bytes name (checked by {@link #decode}). */
  static int versionOf(byte[] bytes) {
    return Short.toUnsignedInt(ByteBuffer.wrap(bytes).getShort(OFFSET_VERSION));
  }

  public static RepositoryConfig decode(byte[] bytes) throws FormatVersionException, CorruptDataException {
    if (bytes.length < OFFSET_VERSION + 2 || !java.util.Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new FormatVersionException("not a dedupfs repository config (bad magic)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int version = versionOf(bytes);
    if (version < RepositoryConfig.FIRST_FORMAT_VERSION || version > RepositoryConfig.FORMAT_VERSION) {
      throw new FormatVersionException(
          "repository format version " + version + " is not supported by this dedupfs (it reads versions "
              + RepositoryConfig.FIRST_FORMAT_VERSION + " to " + RepositoryConfig.FORMAT_VERSION + ")"
              + (version > RepositoryConfig.FORMAT_VERSION ? "; upgrade dedupfs" : ""));
    }
    if (bytes.length != LENGTH) {
      throw new CorruptDataException("repository config has " + bytes.length + " bytes, expected " + LENGTH);
    }
    if (b.getInt(OFFSET_CRC) != crc(bytes)) {
      throw new CorruptDataException("repository config checksum mismatch");
    }
    int flags = Short.toUnsignedInt(b.getShort(OFFSET_FLAGS));
    int idScheme = b.get(OFFSET_ID_SCHEME);
    int encryption = b.get(OFFSET_ENCRYPTION);
    // Keyed ids come with encryption and only with it: one without the other protects nothing.
    boolean plain = idScheme == ID_SCHEME_SHA256 && encryption == ENCRYPTION_NONE;
    boolean encrypted = idScheme == ID_SCHEME_HMAC && encryption == ENCRYPTION_AES_GCM;
    if (flags != 0 || !(plain || encrypted)) {
      throw new FormatVersionException(
          "repository uses features this dedupfs does not implement (flags=" + flags + ", id scheme=" + idScheme
              + ", encryption=" + encryption + ")");
    }
    byte[] id = new byte[16];
    b.get(OFFSET_REPOSITORY_ID, id);
    try {
      return new RepositoryConfig(
          id,
          new ChunkerParameters(b.getInt(OFFSET_CHUNK_MIN), b.getInt(OFFSET_CHUNK_AVG), b.getInt(OFFSET_CHUNK_MAX)),
          b.getLong(OFFSET_GEAR_SEED),
          new Compression(Compression.Algorithm.fromCode(b.get(OFFSET_COMPRESSION)), b.get(OFFSET_COMPRESSION_LEVEL)),
          b.getInt(OFFSET_PACK_TARGET),
          encrypted);
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException("repository config holds invalid values: " + e.getMessage(), e);
    }
  }

  private static int crc(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, OFFSET_CRC);
    return (int) crc.getValue();
  }
}
