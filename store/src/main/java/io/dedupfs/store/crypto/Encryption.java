package io.dedupfs.store.crypto;

import io.dedupfs.store.CorruptDataException;
import java.nio.ByteBuffer;

/**
 * Authenticated encryption of stored blobs (chunks, pack indexes, snapshot records): a sealed
 * blob is {@code nonce || ciphertext || tag} and opens only with the same key and the same
 * associated data, which binds it to where it belongs. Thread-safe.
 */
public interface Encryption {
  /** No encryption: sealing and opening return their input. */
  Encryption NONE = new Unencrypted();

  /** Whether blobs are encrypted at all. */
  boolean enabled();

  /** Bytes a sealed blob has beyond its plaintext. */
  int overhead();

  /** Bytes a sealed blob has before its ciphertext: a plaintext placed this far into the output seals in place. */
  int headroom();

  /**
   * Seals {@code plain[position, limit)}. Encrypting, it writes the sealed blob into {@code out}
   * from its position (room for {@code plain.remaining() + overhead()} bytes) and returns that
   * range of {@code out}; {@code plain} may lie in {@code out} {@link #headroom()} bytes further
   * (sealing in place). Not encrypting, it returns {@code plain}.
   */
  ByteBuffer seal(ByteBuffer plain, ByteBuffer out, byte[] associatedData);

  /**
   * Opens the sealed blob {@code sealed[position, limit)} into {@code out} from its position and
   * returns that range of {@code out}; not encrypting, returns {@code sealed}.
   *
   * @throws CorruptDataException if the blob was altered or belongs elsewhere
   */
  ByteBuffer open(ByteBuffer sealed, ByteBuffer out, byte[] associatedData, String what) throws CorruptDataException;

  byte[] seal(byte[] plain, byte[] associatedData);

  byte[] open(byte[] sealed, byte[] associatedData, String what) throws CorruptDataException;
}
