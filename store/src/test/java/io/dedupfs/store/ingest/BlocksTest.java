package io.dedupfs.store.ingest;

import static io.dedupfs.store.ingest.PipelineTestKit.await;
import static io.dedupfs.store.ingest.PipelineTestKit.readBack;
import static io.dedupfs.store.ingest.PipelineTestKit.verifyRepository;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.crypto.KdfParameters;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.ingest.PipelineTestKit.Pieces;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Small chunks gathered into blocks (FORMAT.md §5.1), written by a real pipeline and read back. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BlocksTest {
  /** Chunks of a few KiB, as small files give. */
  private static final ChunkerParameters SMALL = new ChunkerParameters(1024, 4096, 16384);
  private static final KdfParameters CHEAP = new KdfParameters(64, 1, 1);

  @TempDir Path tmp;

  private Repository newRepo(boolean encrypted) throws Exception {
    return Repository.init(tmp.resolve("repo"), RepositoryConfig.create(SMALL, Compression.DEFAULT, encrypted),
        new Repository.OpenOptions(ChunkIndex.DEFAULT_MAP_SIZE, "passphrase"::toCharArray, CHEAP));
  }

  private static IngestPipeline pipeline(Repository repo, Duration commitInterval) throws Exception {
    return new IngestPipeline(repo, new IngestSettings(16 << 20, 2, commitInterval, 4), Clock.systemUTC());
  }

  /** Source-like text: lines that recur across files, with numbers that differ, so files differ. */
  private static byte[] sourceFile(Random r, int length) {
    String[] lines = {"#include <linux/kernel.h>\n", "static int probe(struct device *dev)\n", "{\n", "}\n",
        "\treturn -EINVAL;\n", "/* SPDX-License-Identifier: GPL-2.0 */\n", "\tif (!dev)\n"};
    StringBuilder b = new StringBuilder();
    while (b.length() < length) {
      b.append(lines[r.nextInt(lines.length)]).append("\tx = ").append(r.nextInt(100_000)).append(";\n");
    }
    return b.substring(0, length).getBytes(StandardCharsets.US_ASCII);
  }

  private void smallFilesShareBlocks(boolean encrypted) throws Exception {
    Random r = new Random(encrypted ? 2 : 1);
    List<byte[]> files = new ArrayList<>();
    List<CompletableFuture<List<ChunkRef>>> written = new ArrayList<>();
    try (Repository repo = newRepo(encrypted)) {
      IngestPipeline p = pipeline(repo, Duration.ofSeconds(30));
      try {
        for (int i = 0; i < 300; i++) {
          files.add(sourceFile(r, 500 + r.nextInt(12_000)));
          written.add(PipelineTestKit.write(p, files.get(i), Pieces.WHOLE, i));
        }
        p.flush();
      } finally {
        p.close();
      }
      long alone = 0;
      long shares = 0;
      int inBlocks = 0;
      Set<Long> blocks = new HashSet<>();
      Set<ChunkRef> seen = new HashSet<>();
      try (ChunkCompressor compressor = new ChunkCompressor(Compression.DEFAULT)) {
        for (int i = 0; i < files.size(); i++) {
          List<ChunkRef> refs = await(written.get(i));
          int at = 0;
          for (ChunkRef ref : refs) {
            ByteBuffer plain = ByteBuffer.allocateDirect(ref.length()).put(files.get(i), at, ref.length()).flip();
            at += ref.length();
            if (!seen.add(ref)) {
              continue;
            }
            ByteBuffer out = ByteBuffer.allocateDirect(ref.length() + 64);
            int n = compressor.compressIfSmaller(plain, out);
            alone += n < 0 ? ref.length() : n;
            ChunkLocation loc = repo.index().find(ref.id()).orElseThrow();
            shares += loc.storedShare();
            if (loc.encoding() == ChunkEncoding.BLOCK) {
              inBlocks++;
              blocks.add(loc.pack().value() << 32 | loc.offset());
            }
          }
        }
      }
      assertTrue(inBlocks > seen.size() * 9 / 10, inBlocks + " of " + seen.size() + " chunks in blocks");
      assertTrue(blocks.size() < inBlocks / 10, blocks.size() + " blocks for " + inBlocks + " chunks");
      assertTrue(shares < alone * 0.9, "compressed together they take " + shares + " bytes, alone " + alone);
      try (ChunkReader reader = ChunkReader.of(repo)) {
        for (int i = 0; i < files.size(); i++) {
          assertArrayEquals(files.get(i), readBack(reader, await(written.get(i))), "file " + i);
        }
      }
      verifyRepository(repo);
    }
  }

  @Test
  void smallFilesShareBlocksThatTakeLessThanTheirChunksAloneAndReadBack() throws Exception {
    smallFilesShareBlocks(false);
  }

  @Test
  void inAnEncryptedRepositoryBlocksAreSealedAndReadBack() throws Exception {
    smallFilesShareBlocks(true);
  }

  @Test
  void aBlockOfOneChunkIsStoredAsThatChunkAlone() throws Exception {
    byte[] file = sourceFile(new Random(3), 1000); // below the minimum chunk: one chunk
    try (Repository repo = newRepo(false)) {
      IngestPipeline p = pipeline(repo, Duration.ofSeconds(30));
      List<ChunkRef> refs;
      try {
        var f = PipelineTestKit.write(p, file, Pieces.WHOLE, 0);
        p.flush();
        refs = await(f);
      } finally {
        p.close();
      }
      assertEquals(1, refs.size());
      assertEquals(ChunkEncoding.ZSTD, repo.index().find(refs.get(0).id()).orElseThrow().encoding());
    }
  }

  @Test
  void anOpenBlockBecomesDurableWithinTheCommitIntervalWithoutAFlush() throws Exception {
    byte[] file = sourceFile(new Random(4), 9000);
    try (Repository repo = newRepo(false)) {
      IngestPipeline p = pipeline(repo, Duration.ofMillis(200));
      try {
        var f = PipelineTestKit.write(p, file, Pieces.WHOLE, 0);
        List<ChunkRef> refs = f.get(20, TimeUnit.SECONDS);
        for (ChunkRef ref : refs) {
          assertTrue(repo.index().find(ref.id()).isPresent(), "committed by the seal timer alone");
        }
      } finally {
        p.close();
      }
    }
  }

  @Test
  void damageInABlockIsCorruptionForEveryMemberNamingIt() throws Exception {
    Random r = new Random(5);
    List<CompletableFuture<List<ChunkRef>>> written = new ArrayList<>();
    try (Repository repo = newRepo(false)) {
      IngestPipeline p = pipeline(repo, Duration.ofSeconds(30));
      try {
        for (int i = 0; i < 20; i++) {
          written.add(PipelineTestKit.write(p, sourceFile(r, 2000), Pieces.WHOLE, i));
        }
        p.flush();
      } finally {
        p.close();
      }
      List<ChunkRef> members = new ArrayList<>();
      for (var w : written) {
        members.addAll(await(w));
      }
      ChunkLocation block = repo.index().find(members.get(0).id()).orElseThrow();
      assertEquals(ChunkEncoding.BLOCK, block.encoding());
      Path pack = repo.path().resolve("packs").resolve(block.pack().directoryName()).resolve(block.pack().fileName());
      try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
        // Past the frame header, so the frame still parses and only its content is damaged.
        long at = block.offset() + block.storedLength() / 3;
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x40);
      }
      int damaged = 0;
      try (ChunkReader reader = ChunkReader.of(repo)) {
        for (ChunkRef m : members) {
          ChunkLocation loc = repo.index().find(m.id()).orElseThrow();
          if (loc.pack().equals(block.pack()) && loc.offset() == block.offset()) {
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> reader.readBytes(m.id()));
            assertTrue(e.getMessage().contains(m.id().hex()), e.getMessage());
            damaged++;
          }
        }
      }
      assertTrue(damaged >= 2, damaged + " members of the damaged block");
    }
  }
}
