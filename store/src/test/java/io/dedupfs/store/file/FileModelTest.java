package io.dedupfs.store.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-based test of file data through the real pipeline, packs and index: random appends,
 * overwrites at random offsets, sparse writes, fsyncs and truncations of a few files, compared
 * with byte arrays after each fsync and after reopening the repository.
 */
class FileModelTest {
  private static final int FILES = 3;
  private static final int STEPS = 600;
  private static final int MAX_SIZE = 256 << 10;

  @TempDir Path tmp;

  @Test
  void randomWritesReadBackLikeAByteArray() throws Exception {
    long seed = Long.getLong("file.seed", System.nanoTime());
    Random random = new Random(seed);
    Path repoPath = tmp.resolve("repo");
    long[] inodes = new long[FILES];
    byte[][] model = new byte[FILES][0];
    RepositoryConfig config = RepositoryConfig.create(new ChunkerParameters(1024, 4096, 16384), Compression.DEFAULT);
    try (Repository repo = Repository.init(repoPath, config, Repository.OpenOptions.DEFAULT);
        IngestPipeline pipeline = new IngestPipeline(repo,
            new IngestSettings(16 << 20, 2, Duration.ofMillis(200), 4), Clock.systemUTC());
        ChunkReader chunks = ChunkReader.of(repo)) {
      Namespace ns = Namespace.open(repo.index(), Clock.systemUTC());
      FileReader reader = new FileReader(ns, chunks, 1 << 20);
      FileWriter[] writers = new FileWriter[FILES];
      for (int f = 0; f < FILES; f++) {
        inodes[f] = ns.mknod(Namespace.ROOT, Name.of("f" + f), Mode.S_IFREG | 0644, 0, 0, 0).number();
        writers[f] = new FileWriter(inodes[f], 0, ns, pipeline);
      }
      long[] appendAt = new long[FILES];
      for (int step = 0; step < STEPS; step++) {
        String context = "seed " + seed + " (rerun with -Dfile.seed=" + seed + "), step " + step;
        int f = random.nextInt(FILES);
        int kind = random.nextInt(100);
        if (kind < 55) {
          // Appends in pieces, as a copy tool writes: the run streams through one chunk stream.
          long offset = appendAt[f];
          int length = 1 + random.nextInt(32 << 10);
          if (offset + length <= MAX_SIZE) {
            model[f] = write(writers[f], model[f], offset, length, random);
            appendAt[f] = offset + length;
          }
        } else if (kind < 85) {
          long offset = random.nextInt(MAX_SIZE - 1);
          int length = 1 + random.nextInt((int) Math.min(8 << 10, MAX_SIZE - offset));
          model[f] = write(writers[f], model[f], offset, length, random);
          appendAt[f] = offset + length;
        } else if (kind < 95) {
          writers[f].flush();
          assertEquals(model[f].length, ns.getattr(inodes[f]).size(), context + ": size after fsync");
          assertArrayEquals(model[f], readAll(reader, inodes[f], model[f].length, random), context + ": content after fsync");
        } else {
          int size = random.nextInt(MAX_SIZE);
          writers[f].truncate(size);
          model[f] = Arrays.copyOf(model[f], size);
          appendAt[f] = size;
        }
        assertEquals(model[f].length, writers[f].pendingEnd(), context + ": size counting pending writes");
      }
      for (int f = 0; f < FILES; f++) {
        writers[f].flush();
      }
    }
    try (Repository repo = Repository.open(repoPath, Repository.OpenOptions.DEFAULT);
        ChunkReader chunks = ChunkReader.of(repo)) {
      Namespace ns = Namespace.open(repo.index(), Clock.systemUTC());
      FileReader reader = new FileReader(ns, chunks, 1 << 20);
      for (int f = 0; f < FILES; f++) {
        assertArrayEquals(model[f], readAll(reader, inodes[f], model[f].length, random),
            "seed " + seed + ": file " + f + " after reopening");
      }
    }
  }

  private static byte[] write(FileWriter writer, byte[] model, long offset, int length, Random random) throws Exception {
    byte[] data = new byte[length];
    if (random.nextBoolean()) {
      random.nextBytes(data);
    } else {
      Arrays.fill(data, (byte) ('a' + random.nextInt(26)));
    }
    // Written in pieces of random size, direct buffers like a FUSE write's.
    for (int at = 0; at < length; ) {
      int piece = Math.min(length - at, 1 + random.nextInt(8 << 10));
      ByteBuffer b = ByteBuffer.allocateDirect(piece).put(data, at, piece).flip();
      writer.write(offset + at, b);
      at += piece;
    }
    byte[] grown = Arrays.copyOf(model, (int) Math.max(model.length, offset + length));
    System.arraycopy(data, 0, grown, (int) offset, length);
    return grown;
  }

  /** Reads the whole file in pieces of random size, as the kernel's reads come. */
  private static byte[] readAll(FileReader reader, long inode, int size, Random random) throws Exception {
    ByteBuffer all = ByteBuffer.allocate(size + 100);
    while (true) {
      int piece = 1 + random.nextInt(64 << 10);
      ByteBuffer b = ByteBuffer.allocate(piece);
      int n = reader.read(inode, all.position(), b);
      if (n == 0) {
        break;
      }
      all.put(b.flip());
    }
    return Arrays.copyOf(all.array(), all.position());
  }
}
