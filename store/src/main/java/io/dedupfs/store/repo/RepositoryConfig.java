package io.dedupfs.store.repo;

import java.security.SecureRandom;

/**
 * The contents of {@code REPO/config} (FORMAT.md §3). Immutable once the repository is created.
 *
 * @param repositoryId 16 random bytes naming this repository
 * @param chunker chunk size parameters
 * @param gearSeed seed of the chunker's gear table
 * @param compression how chunks are compressed
 * @param packTargetSize a pack is sealed once it holds about this many bytes
 * @param encrypted whether blobs are sealed with AES-256-GCM and chunk ids keyed (FORMAT.md §12);
 *     the gear seed is then derived from the id key and this one is 0
 */
public record RepositoryConfig(byte[] repositoryId, ChunkerParameters chunker, long gearSeed, Compression compression,
    int packTargetSize, boolean encrypted) {
  /** The format version written (FORMAT.md §9). */
  public static final int FORMAT_VERSION = 2;
  /** The oldest format version read; it is rewritten as the current one before the first write. */
  public static final int FIRST_FORMAT_VERSION = 1;
  public static final int DEFAULT_PACK_TARGET_SIZE = 32 << 20;
  public static final int MIN_PACK_TARGET_SIZE = 1 << 20;
  public static final int MAX_PACK_TARGET_SIZE = 1 << 30;

  public RepositoryConfig {
    if (repositoryId.length != 16) {
      throw new IllegalArgumentException("repository id must be 16 bytes");
    }
    if (packTargetSize < MIN_PACK_TARGET_SIZE || packTargetSize > MAX_PACK_TARGET_SIZE) {
      throw new IllegalArgumentException("pack target size must be 1 MiB .. 1 GiB, got " + packTargetSize);
    }
    repositoryId = repositoryId.clone();
  }

  /** A new plain configuration with a random repository id and gear seed. */
  public static RepositoryConfig create(ChunkerParameters chunker, Compression compression) {
    return create(chunker, compression, false);
  }

  /** A new configuration with a random repository id, and a random gear seed unless encrypted. */
  public static RepositoryConfig create(ChunkerParameters chunker, Compression compression, boolean encrypted) {
    SecureRandom random = new SecureRandom();
    byte[] id = new byte[16];
    random.nextBytes(id);
    return new RepositoryConfig(id, chunker, encrypted ? 0 : random.nextLong(), compression, DEFAULT_PACK_TARGET_SIZE,
        encrypted);
  }

  @Override
  public byte[] repositoryId() {
    return repositoryId.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RepositoryConfig c
        && java.util.Arrays.equals(repositoryId, c.repositoryId)
        && chunker.equals(c.chunker)
        && gearSeed == c.gearSeed
        && compression.equals(c.compression)
        && packTargetSize == c.packTargetSize
        && encrypted == c.encrypted;
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(repositoryId);
  }

  @Override
  public String toString() {
    return "RepositoryConfig[chunker=" + chunker + ", compression=" + compression + ", packTarget=" + packTargetSize
        + ", encrypted=" + encrypted + "]";
  }
}
