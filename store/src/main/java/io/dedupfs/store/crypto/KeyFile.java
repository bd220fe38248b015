package io.dedupfs.store.crypto;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Byte layout of {@code REPO/keys/master} (FORMAT.md §12.1): the master keys sealed with a key
 * derived from the passphrase. Stateless.
 */
public final class KeyFile {
  static final byte[] MAGIC = "DDFSKEYS".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int KDF_ARGON2ID = 1;
  static final int OFFSET_VERSION = 8;
  static final int OFFSET_KDF = 10;
  static final int OFFSET_MEMORY = 12;
  static final int OFFSET_ITERATIONS = 16;
  static final int OFFSET_PARALLELISM = 20;
  static final int OFFSET_SALT = 24;
  static final int SALT_LENGTH = 16;
  static final int OFFSET_SEALED = OFFSET_SALT + SALT_LENGTH;
  static final int SEALED_LENGTH = 2 * MasterKeys.KEY_LENGTH + AesGcmEncryption.OVERHEAD;
  static final int OFFSET_CRC = OFFSET_SEALED + SEALED_LENGTH;
  public static final int LENGTH = OFFSET_CRC + 4;

  private KeyFile() {}

  /** A key file wrapping {@code keys} under {@code passphrase}, with a new random salt. */
  public static byte[] encode(MasterKeys keys, char[] passphrase, KdfParameters kdf, byte[] repositoryId) {
    byte[] salt = new byte[SALT_LENGTH];
    new SecureRandom().nextBytes(salt);
    ByteBuffer b = ByteBuffer.allocate(LENGTH);
    b.put(MAGIC);
    b.putShort(OFFSET_VERSION, (short) VERSION);
    b.put(OFFSET_KDF, (byte) KDF_ARGON2ID);
    b.putInt(OFFSET_MEMORY, kdf.memoryKib());
    b.putInt(OFFSET_ITERATIONS, kdf.iterations());
    b.putInt(OFFSET_PARALLELISM, kdf.parallelism());
    b.put(OFFSET_SALT, salt);
    AesGcmEncryption wrapping = new AesGcmEncryption(kdf.derive(passphrase, salt));
    byte[] concatenated = keys.concatenated();
    wrapping.seal(ByteBuffer.wrap(concatenated), b.position(OFFSET_SEALED), associatedData(b.array(), repositoryId));
    Arrays.fill(concatenated, (byte) 0);
    b.putInt(OFFSET_CRC, crc(b.array()));
    return b.array();
  }

  /**
   * Unwraps the master keys. Damage (checksum) and unknown versions are told apart from a wrong
   * passphrase, which is all an authentication failure can mean once the checksum matched.
   */
  public static MasterKeys decode(byte[] bytes, char[] passphrase, byte[] repositoryId, String what)
      throws CorruptDataException, FormatVersionException, WrongPassphraseException {
    if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new CorruptDataException(what + " is not a dedupfs key file (bad magic)");
    }
    if (bytes.length != LENGTH || ByteBuffer.wrap(bytes).getInt(OFFSET_CRC) != crc(bytes)) {
      throw new CorruptDataException(what + " is damaged (checksum mismatch)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int version = Short.toUnsignedInt(b.getShort(OFFSET_VERSION));
    if (version != VERSION || b.get(OFFSET_KDF) != KDF_ARGON2ID) {
      throw new FormatVersionException(what + " has key file version " + version + " and key derivation "
          + b.get(OFFSET_KDF) + "; this dedupfs reads version " + VERSION + " with Argon2id");
    }
    KdfParameters kdf;
    try {
      kdf = new KdfParameters(b.getInt(OFFSET_MEMORY), b.getInt(OFFSET_ITERATIONS), b.getInt(OFFSET_PARALLELISM));
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException(what + ": " + e.getMessage(), e);
    }
    byte[] salt = Arrays.copyOfRange(bytes, OFFSET_SALT, OFFSET_SALT + SALT_LENGTH);
    AesGcmEncryption wrapping = new AesGcmEncryption(kdf.derive(passphrase, salt));
    ByteBuffer out = ByteBuffer.allocate(2 * MasterKeys.KEY_LENGTH);
    try {
      wrapping.open(ByteBuffer.wrap(bytes, OFFSET_SEALED, SEALED_LENGTH), out, associatedData(bytes, repositoryId), what);
    } catch (CorruptDataException e) {
      throw new WrongPassphraseException("wrong passphrase (it does not open " + what + ")");
    }
    MasterKeys keys = MasterKeys.fromConcatenated(out.array());
    Arrays.fill(out.array(), (byte) 0);
    return keys;
  }

  /** The header fields, then the repository id: a key file opens only in its own repository. */
  private static byte[] associatedData(byte[] file, byte[] repositoryId) {
    byte[] aad = Arrays.copyOf(file, OFFSET_SEALED + repositoryId.length);
    System.arraycopy(repositoryId, 0, aad, OFFSET_SEALED, repositoryId.length);
    return aad;
  }

  private static int crc(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, OFFSET_CRC);
    return (int) crc.getValue();
  }
}
