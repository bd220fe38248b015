package io.dedupfs.store.chunk;

import java.util.function.Supplier;

/** How a repository names chunks (FORMAT.md §3, chunk id scheme); makes a hasher per thread. */
public final class ChunkIdScheme {
  public static final ChunkIdScheme SHA256 = new ChunkIdScheme(ChunkHasher::sha256);

  private final Supplier<ChunkHasher> hashers;

  private ChunkIdScheme(Supplier<ChunkHasher> hashers) {
    this.hashers = hashers;
  }

  public static ChunkIdScheme keyed(byte[] idKey) {
    byte[] key = idKey.clone();
    return new ChunkIdScheme(() -> ChunkHasher.hmacSha256(key));
  }

  public ChunkHasher newHasher() {
    return hashers.get();
  }
}
