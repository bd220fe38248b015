package io.dedupfs.store.chunk;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Computes chunk ids: SHA-256 of the plaintext (id scheme 0). The JDK digest is used because it
 * runs on the CPU's SHA extensions; not thread-safe, so each worker owns one.
 */
public final class ChunkHasher {
  private final MessageDigest digest;

  public ChunkHasher() {
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  /** The id of the bytes between the buffer's position and limit; the buffer is left unchanged. */
  public ChunkId idOf(ByteBuffer plaintext) {
    digest.update(plaintext.duplicate());
    return ChunkId.of(digest.digest());
  }

  public ChunkId idOf(byte[] plaintext) {
    return ChunkId.of(digest.digest(plaintext));
  }
}
