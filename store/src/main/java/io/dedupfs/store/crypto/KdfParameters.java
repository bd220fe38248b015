package io.dedupfs.store.crypto;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id parameters of a key file (FORMAT.md §12.1), and the derivation itself (Bouncy
 * Castle's implementation: the JDK has none).
 *
 * @param memoryKib memory in KiB
 * @param iterations passes over the memory
 * @param parallelism lanes
 */
public record KdfParameters(int memoryKib, int iterations, int parallelism) {
  /**
   * 64 MiB and 4 passes take about 0.5 s on the 2-core machine this was tuned on, with Bouncy
   * Castle computing the lanes one after another.
   */
  public static final KdfParameters DEFAULT = new KdfParameters(64 << 10, 4, 1);
  /** Bounds a key file may name: enough to refuse a damaged one that asks for terabytes. */
  static final int MAX_MEMORY_KIB = 4 << 20;
  static final int MAX_ITERATIONS = 1000;
  static final int MAX_PARALLELISM = 64;

  public KdfParameters {
    if (memoryKib < 8 * parallelism || memoryKib > MAX_MEMORY_KIB || iterations < 1 || iterations > MAX_ITERATIONS
        || parallelism < 1 || parallelism > MAX_PARALLELISM) {
      throw new IllegalArgumentException("Argon2id parameters out of range: memory " + memoryKib + " KiB, iterations "
          + iterations + ", parallelism " + parallelism);
    }
  }

  /** Argon2id(passphrase as UTF-8, salt) → 32-byte key. */
  public byte[] derive(char[] passphrase, byte[] salt) {
    ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(passphrase));
    byte[] password = new byte[encoded.remaining()];
    encoded.get(password);
    try {
      Argon2BytesGenerator generator = new Argon2BytesGenerator();
      generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
          .withVersion(Argon2Parameters.ARGON2_VERSION_13)
          .withSalt(salt)
          .withMemoryAsKB(memoryKib)
          .withIterations(iterations)
          .withParallelism(parallelism)
          .build());
      byte[] key = new byte[MasterKeys.KEY_LENGTH];
      generator.generateBytes(password, key);
      return key;
    } finally {
      Arrays.fill(password, (byte) 0);
      if (encoded.hasArray()) {
        Arrays.fill(encoded.array(), (byte) 0);
      }
    }
  }
}
