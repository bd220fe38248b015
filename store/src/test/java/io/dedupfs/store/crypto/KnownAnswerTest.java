package io.dedupfs.store.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkHasher;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The primitives against published vectors, through the very methods the repository calls. */
class KnownAnswerTest {
  private static final HexFormat HEX = HexFormat.of();

  /** McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 20 bytes of AAD). */
  private static final byte[] GCM_KEY = HEX.parseHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  private static final byte[] GCM_NONCE = HEX.parseHex("cafebabefacedbaddecaf888");
  private static final byte[] GCM_AAD = HEX.parseHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  private static final byte[] GCM_PLAIN = HEX.parseHex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  private static final byte[] GCM_CIPHER_AND_TAG = HEX.parseHex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b");

  @Test
  void aesGcmOpensTheSpecificationsTestCase16() throws Exception {
    byte[] sealed = concat(GCM_NONCE, GCM_CIPHER_AND_TAG);
    assertArrayEquals(GCM_PLAIN, new AesGcmEncryption(GCM_KEY).open(sealed, GCM_AAD, "tc16"));
  }

  @Test
  void aesGcmRefusesAnyAlteredByteOrOtherAssociatedData() {
    AesGcmEncryption aes = new AesGcmEncryption(GCM_KEY);
    byte[] sealed = concat(GCM_NONCE, GCM_CIPHER_AND_TAG);
    for (int i = 0; i < sealed.length; i++) {
      byte[] altered = sealed.clone();
      altered[i] ^= 0x01;
      assertThrows(CorruptDataException.class, () -> aes.open(altered, GCM_AAD, "tc16"), "byte " + i);
    }
    byte[] otherAad = GCM_AAD.clone();
    otherAad[0] ^= 1;
    assertThrows(CorruptDataException.class, () -> aes.open(sealed, otherAad, "tc16"));
    byte[] otherKey = GCM_KEY.clone();
    otherKey[31] ^= 1;
    assertThrows(CorruptDataException.class, () -> new AesGcmEncryption(otherKey).open(sealed, GCM_AAD, "tc16"));
  }

  @Test
  void aesGcmSealsInPlaceInDirectBuffersAsThePipelineDoes() throws Exception {
    AesGcmEncryption aes = new AesGcmEncryption(GCM_KEY);
    for (int length : new int[] {0, 1, 15, 16, 17, 4096, 1 << 20}) {
      byte[] plain = new byte[length];
      new java.util.Random(length).nextBytes(plain);
      ByteBuffer scratch = ByteBuffer.allocateDirect(length + aes.overhead());
      scratch.put(aes.headroom(), plain);
      ByteBuffer body = scratch.slice(aes.headroom(), length);
      ByteBuffer sealed = aes.seal(body, scratch.duplicate().clear(), GCM_AAD);
      assertEquals(length + AesGcmEncryption.OVERHEAD, sealed.remaining());
      byte[] copy = new byte[sealed.remaining()];
      sealed.duplicate().get(copy);
      assertArrayEquals(plain, aes.open(copy, GCM_AAD, "in place " + length), "length " + length);
    }
  }

  @Test
  void sealingTwiceGivesDifferentBlobs() {
    AesGcmEncryption aes = new AesGcmEncryption(GCM_KEY);
    byte[] plain = "same plaintext".getBytes(StandardCharsets.US_ASCII);
    assertEquals(false, java.util.Arrays.equals(aes.seal(plain, GCM_AAD), aes.seal(plain, GCM_AAD)),
        "a fresh nonce per blob: equal plaintexts must not give equal blobs");
  }

  /** phc-winner-argon2 src/test.c: Argon2id v1.3, t=2, m=64 MiB, p=1, "password", "somesalt". */
  @Test
  void argon2idMatchesTheReferenceImplementation() {
    byte[] key = new KdfParameters(1 << 16, 2, 1).derive("password".toCharArray(), "somesalt".getBytes(StandardCharsets.US_ASCII));
    assertEquals("09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7", HEX.formatHex(key));
  }

  /** RFC 4231 test case 2: chunk ids of an encrypted repository are HMAC-SHA256. */
  @Test
  void keyedChunkIdsAreHmacSha256() {
    ChunkHasher hasher = ChunkHasher.hmacSha256("Jefe".getBytes(StandardCharsets.US_ASCII));
    byte[] data = "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII);
    String expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    assertEquals(expected, hasher.idOf(data).hex());
    assertEquals(expected, hasher.idOf(ByteBuffer.wrap(data)).hex(), "the buffer path computes the same id");
    assertEquals(expected, hasher.idOf(data).hex(), "a hasher is reusable");
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
