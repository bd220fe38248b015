package io.dedupfs.store.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.Repository;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Data generators, stream writing and whole-repository verification shared by the ingest tests. */
public final class PipelineTestKit {
  private PipelineTestKit() {}

  /** {@code length} pseudo-random (incompressible) bytes determined by {@code seed}. */
  public static byte[] randomData(long seed, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /** Text-like bytes that zstd shrinks several times over, determined by {@code seed}. */
  public static byte[] compressibleData(long seed, int length) {
    String[] words = {"alpha", "beta", "gamma", "delta", "dedup", "chunk", "pack", "index", "store", "fuse",
        "the", "of", "and", "repository", "snapshot", "\n"};
    SplittableRandom r = new SplittableRandom(seed);
    byte[] out = new byte[length];
    int at = 0;
    while (at < length) {
      byte[] w = (words[r.nextInt(words.length)] + ' ').getBytes(StandardCharsets.US_ASCII);
      int n = Math.min(w.length, length - at);
      System.arraycopy(w, 0, out, at, n);
      at += n;
    }
    return out;
  }

  /** How a test hands bytes to {@link ChunkStreamWriter#write}. */
  public enum Pieces {
    /** one write of the whole array (heap buffer) */
    WHOLE,
    /**
     * random piece sizes from 1 byte to 256 KiB (most large ones above the size from which the
     * pipeline chunks on its own threads), direct and heap buffers, non-zero positions
     */
    RANDOM,
    /** one byte per write */
    SINGLE_BYTES,
    /** 64 KiB views of the array (ByteBuffer.wrap(data, offset, length)): cheap, for volume */
    SLICES_64K
  }

  /** Writes {@code data} into a new stream and finishes it; the future completes once durable. */
  public static CompletableFuture<List<ChunkRef>> write(IngestPipeline pipeline, byte[] data, Pieces pieces, long seed)
      throws InterruptedException {
    ChunkStreamWriter w = pipeline.openStream();
    switch (pieces) {
      case WHOLE -> {
        ByteBuffer src = ByteBuffer.wrap(data);
        w.write(src);
        assertEquals(data.length, src.position(), "write must consume the buffer up to its limit");
      }
      case SINGLE_BYTES -> {
        ByteBuffer one = ByteBuffer.allocate(1);
        for (byte b : data) {
          one.clear().put(0, b);
          w.write(one);
          assertEquals(1, one.position());
        }
      }
      case SLICES_64K -> {
        for (int at = 0; at < data.length; at += 64 << 10) {
          ByteBuffer buf = ByteBuffer.wrap(data, at, Math.min(64 << 10, data.length - at));
          w.write(buf);
          assertEquals(buf.limit(), buf.position(), "write must consume position..limit");
        }
      }
      case RANDOM -> {
        SplittableRandom r = new SplittableRandom(seed);
        int at = 0;
        while (at < data.length) {
          int n = Math.min(data.length - at, r.nextInt(4) == 0 ? 1 + r.nextInt(8) : 1 + r.nextInt(256 << 10));
          // the piece sits between position and limit of a larger buffer, with junk around it
          int pad = r.nextInt(16);
          ByteBuffer buf = r.nextBoolean() ? ByteBuffer.allocateDirect(n + 2 * pad) : ByteBuffer.allocate(n + 2 * pad);
          for (int i = 0; i < buf.capacity(); i++) {
            buf.put(i, (byte) 0x5a);
          }
          buf.put(pad, data, at, n);
          buf.position(pad).limit(pad + n);
          w.write(buf);
          assertEquals(pad + n, buf.position(), "write must consume position..limit");
          at += n;
        }
      }
    }
    assertEquals(data.length, w.length(), "stream length");
    return w.finish();
  }

  public static List<ChunkRef> await(CompletableFuture<List<ChunkRef>> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  /** Reads a stream back chunk by chunk through the index. */
  public static byte[] readBack(ChunkReader reader, List<ChunkRef> refs) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ChunkRef ref : refs) {
      byte[] plain = reader.readBytes(ref.id());
      assertEquals(ref.length(), plain.length, () -> "plaintext length of chunk " + ref.id());
      out.write(plain);
    }
    return out.toByteArray();
  }

  /** Asserts that {@code refs} is a correct chunking of {@code data}: lengths tile it, ids are SHA-256 of the pieces. */
  public static void assertRefsDescribe(byte[] data, List<ChunkRef> refs, int maxChunk) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    long at = 0;
    for (ChunkRef ref : refs) {
      long offset = at;
      assertTrue(ref.length() > 0, () -> "empty chunk at stream offset " + offset);
      assertTrue(ref.length() <= maxChunk, () -> "chunk of " + ref.length() + " bytes exceeds max " + maxChunk);
      assertTrue(at + ref.length() <= data.length, "chunks run past the end of the stream");
      sha.update(data, (int) at, ref.length());
      assertEquals(ChunkId.of(sha.digest()), ref.id(), () -> "chunk at stream offset " + offset + " is not named by its SHA-256");
      at += ref.length();
    }
    assertEquals(data.length, at, "chunk lengths must sum to the stream length");
  }

  /** Sum of lengths of distinct chunks: what a perfectly deduplicating store holds. */
  public static long uniqueBytes(List<ChunkRef> refs) {
    Set<ChunkId> seen = new HashSet<>();
    long sum = 0;
    for (ChunkRef r : refs) {
      if (seen.add(r.id())) {
        sum += r.length();
      }
    }
    return sum;
  }

  /** What {@link #verifyRepository} found. */
  public record RepoSummary(List<PackNumber> indexedPacks, List<PackNumber> unindexedPacks, Set<ChunkId> chunks) {}

  /**
   * Checks FORMAT.md §8 over the whole repository: every indexed pack is sealed and valid, its
   * record matches the file, every chunk it lists is indexed (at this entry, or at another
   * indexed pack) and reads back verified; the index's counts match; next-pack is above every
   * pack named.
   */
  public static RepoSummary verifyRepository(Repository repo) throws IOException {
    List<PackNumber> indexed = new ArrayList<>();
    List<PackNumber> unindexed = new ArrayList<>();
    Set<ChunkId> chunks = new HashSet<>();
    long maxIndexed = 0;
    try (ChunkReader reader = ChunkReader.of(repo)) {
      for (PackNumber pack : repo.packs().list()) {
        Optional<PackRecord> record = repo.index().findPack(pack);
        if (record.isEmpty()) {
          unindexed.add(pack);
          continue;
        }
        indexed.add(pack);
        maxIndexed = Math.max(maxIndexed, pack.value());
        List<PackIndexEntry> entries = PackReader.readIndex(repo.packs(), pack, repo.encryption());
        assertEquals(repo.packs().size(pack), record.get().fileLength(), "pack " + pack + ": recorded file length");
        assertEquals(entries.size(), record.get().chunkCount(), "pack " + pack + ": recorded chunk count");
        assertEquals(entries.stream().mapToLong(PackIndexEntry::storedShare).sum(), record.get().storedBytes(),
            "pack " + pack + ": recorded stored bytes");
        for (PackIndexEntry e : entries) {
          Optional<ChunkLocation> loc = repo.index().find(e.id());
          assertTrue(loc.isPresent(), () -> "chunk " + e.id() + " of indexed pack " + pack + " is missing from the index");
          if (loc.get().pack().equals(pack)) {
            assertEquals(ChunkLocation.of(pack, e), loc.get(), () -> "index entry of chunk " + e.id() + " disagrees with pack " + pack);
          } else {
            assertTrue(repo.index().findPack(loc.get().pack()).isPresent(),
                () -> "chunk " + e.id() + " indexed in pack " + loc.get().pack() + " which the index does not name");
          }
          byte[] plain = reader.readBytes(e.id());
          assertEquals(e.plainLength(), plain.length);
          chunks.add(e.id());
        }
      }
    }
    var counts = repo.index().counts();
    assertEquals(indexed.size(), counts.packs(), "packs table entries vs indexed pack files present");
    assertEquals(chunks.size(), counts.chunks(), "chunks table entries vs distinct chunks in indexed packs");
    assertTrue(repo.index().nextPackNumber() > maxIndexed, "next-pack must be above every indexed pack");
    return new RepoSummary(indexed, unindexed, chunks);
  }
}
