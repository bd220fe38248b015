package io.dedupfs.store.crypto;

import io.dedupfs.store.CorruptDataException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM under a key of its own for every blob: {@code salt (16) || nonce (12) || ciphertext
 * || tag (16)}, the key being HMAC-SHA256(key, salt) (FORMAT.md §12.2). For the index, whose
 * values are sealed again at every change of the live tree: a random 96-bit nonce under one key
 * is good for 2^32 blobs, which a busy mount would reach within months, while 224 random bits
 * never repeat. Costs an HMAC and a key schedule per blob, about a microsecond.
 */
public final class SaltedAesGcmEncryption implements Encryption {
  static final int SALT_LENGTH = 16;
  public static final int OVERHEAD = SALT_LENGTH + AesGcmEncryption.OVERHEAD;

  private final SecureRandom random = new SecureRandom();
  private final ThreadLocal<Mac> macs;
  private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(AesGcmEncryption::newCipher);

  public SaltedAesGcmEncryption(byte[] key) {
    byte[] copy = key.clone();
    this.macs = ThreadLocal.withInitial(() -> HmacSha256.keyed(copy));
  }

  @Override
  public boolean enabled() {
    return true;
  }

  @Override
  public int overhead() {
    return OVERHEAD;
  }

  @Override
  public int headroom() {
    return SALT_LENGTH + AesGcmEncryption.NONCE_LENGTH;
  }

  @Override
  public byte[] seal(byte[] plain, byte[] associatedData) {
    byte[] out = new byte[plain.length + OVERHEAD];
    random.nextBytes(out);   // salt and nonce; the rest is overwritten
    try {
      Cipher c = init(Cipher.ENCRYPT_MODE, out, associatedData);
      c.doFinal(plain, 0, plain.length, out, headroom());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM sealing failed", e);
    }
    return out;
  }

  @Override
  public byte[] open(byte[] sealed, byte[] associatedData, String what) throws CorruptDataException {
    if (sealed.length < OVERHEAD) {
      throw new CorruptDataException(what + ": sealed blob of " + sealed.length + " bytes is too short");
    }
    try {
      return init(Cipher.DECRYPT_MODE, sealed, associatedData).doFinal(sealed, headroom(), sealed.length - headroom());
    } catch (AEADBadTagException e) {
      throw new CorruptDataException(what + ": authentication failed (damaged, or not from this repository)", e);
    } catch (GeneralSecurityException e) {
      throw new CorruptDataException(what + ": cannot be decrypted: " + e.getMessage(), e);
    }
  }

  @Override
  public ByteBuffer seal(ByteBuffer plain, ByteBuffer out, byte[] associatedData) {
    byte[] bytes = new byte[plain.remaining()];
    plain.get(bytes);
    int start = out.position();
    out.put(seal(bytes, associatedData));
    return out.duplicate().limit(out.position()).position(start);
  }

  @Override
  public ByteBuffer open(ByteBuffer sealed, ByteBuffer out, byte[] associatedData, String what)
      throws CorruptDataException {
    byte[] bytes = new byte[sealed.remaining()];
    sealed.get(bytes);
    int start = out.position();
    out.put(open(bytes, associatedData, what));
    return out.duplicate().limit(out.position()).position(start);
  }

  /** A cipher keyed by the blob's salt (its first 16 bytes), with its nonce (the next 12). */
  private Cipher init(int mode, byte[] blob, byte[] associatedData) throws GeneralSecurityException {
    Mac mac = macs.get();
    mac.update(blob, 0, SALT_LENGTH);
    byte[] key = mac.doFinal();
    Cipher c = ciphers.get();
    c.init(mode, new SecretKeySpec(key, "AES"),
        new GCMParameterSpec(AesGcmEncryption.TAG_LENGTH * 8, Arrays.copyOfRange(blob, SALT_LENGTH, headroom())));
    Arrays.fill(key, (byte) 0);
    c.updateAAD(associatedData);
    return c;
  }
}
