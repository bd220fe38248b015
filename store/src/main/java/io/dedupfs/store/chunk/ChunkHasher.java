package io.dedupfs.store.chunk;

import io.dedupfs.store.crypto.HmacSha256;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;

/**
 * Computes chunk ids by the repository's id scheme (FORMAT.md §3): SHA-256 of the plaintext, or
 * HMAC-SHA256 keyed with the id key in an encrypted repository. The JDK's implementations are
 * used because they run on the CPU's SHA extensions. Not thread-safe, so each worker owns one.
 */
public interface ChunkHasher {
  /** The id of the bytes between the buffer's position and limit; the buffer is left unchanged. */
  ChunkId idOf(ByteBuffer plaintext);

  ChunkId idOf(byte[] plaintext);

  /** Id scheme 0. */
  static ChunkHasher sha256() {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
    return new ChunkHasher() {
      @Override
      public ChunkId idOf(ByteBuffer plaintext) {
        digest.update(plaintext.duplicate());
        return ChunkId.of(digest.digest());
      }

      @Override
      public ChunkId idOf(byte[] plaintext) {
        return ChunkId.of(digest.digest(plaintext));
      }
    };
  }

  /** Id scheme 1: ids reveal nothing about content to whoever lacks the key. */
  static ChunkHasher hmacSha256(byte[] idKey) {
    Mac mac = HmacSha256.keyed(idKey);
    return new ChunkHasher() {
      @Override
      public ChunkId idOf(ByteBuffer plaintext) {
        mac.update(plaintext.duplicate());
        return ChunkId.of(mac.doFinal());
      }

      @Override
      public ChunkId idOf(byte[] plaintext) {
        return ChunkId.of(mac.doFinal(plaintext));
      }
    };
  }
}
