package io.dedupfs.store.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The random keys of an encrypted repository (FORMAT.md §12.1), made once at init and never
 * changed: changing the passphrase rewraps them. The data key seals blobs; the id key keys the
 * chunk ids and the chunker's gear seed, so neither reveals anything about content.
 */
public final class MasterKeys {
  public static final int KEY_LENGTH = 32;
  /** What the gear seed is derived from: HMAC-SHA256(id key, this), first 8 bytes. */
  private static final byte[] GEAR_SEED_LABEL = "dedupfs gear seed".getBytes(StandardCharsets.US_ASCII);
  /** What the index value key is derived from: HMAC-SHA256(data key, this). */
  private static final byte[] INDEX_VALUE_LABEL = "dedupfs index values".getBytes(StandardCharsets.US_ASCII);
  /** What the index name key is derived from: HMAC-SHA256(id key, this). */
  private static final byte[] INDEX_NAME_LABEL = "dedupfs index names".getBytes(StandardCharsets.US_ASCII);

  private final byte[] dataKey;
  private final byte[] idKey;

  MasterKeys(byte[] dataKey, byte[] idKey) {
    if (dataKey.length != KEY_LENGTH || idKey.length != KEY_LENGTH) {
      throw new IllegalArgumentException("master keys are " + KEY_LENGTH + " bytes each");
    }
    this.dataKey = dataKey.clone();
    this.idKey = idKey.clone();
  }

  public static MasterKeys generate() {
    SecureRandom random = new SecureRandom();
    byte[] data = new byte[KEY_LENGTH];
    byte[] id = new byte[KEY_LENGTH];
    random.nextBytes(data);
    random.nextBytes(id);
    return new MasterKeys(data, id);
  }

  public AesGcmEncryption encryption() {
    return new AesGcmEncryption(dataKey);
  }

  public byte[] idKey() {
    return idKey.clone();
  }

  /** The chunker's gear seed: secret, so that chunk boundaries do not fingerprint known files. */
  public long gearSeed() {
    return ByteBuffer.wrap(derived(idKey, GEAR_SEED_LABEL)).getLong();
  }

  /** The key of the tokens that stand for names in the index (FORMAT.md §12.4). */
  public byte[] indexNameKey() {
    return derived(idKey, INDEX_NAME_LABEL);
  }

  /** How the index's values are sealed: a key of their own, a key per value under it (FORMAT.md §12.4). */
  public Encryption indexEncryption() {
    return new SaltedAesGcmEncryption(derived(dataKey, INDEX_VALUE_LABEL));
  }

  private static byte[] derived(byte[] key, byte[] label) {
    return HmacSha256.keyed(key).doFinal(label);
  }

  /** dataKey || idKey, as wrapped in the key file. */
  byte[] concatenated() {
    byte[] out = Arrays.copyOf(dataKey, 2 * KEY_LENGTH);
    System.arraycopy(idKey, 0, out, KEY_LENGTH, KEY_LENGTH);
    return out;
  }

  static MasterKeys fromConcatenated(byte[] both) {
    return new MasterKeys(Arrays.copyOfRange(both, 0, KEY_LENGTH), Arrays.copyOfRange(both, KEY_LENGTH, 2 * KEY_LENGTH));
  }
}
