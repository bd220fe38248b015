package io.dedupfs.store.read;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.ingest.ChunkRef;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.ingest.PipelineTestKit;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ChunkReader against a real repository: buffer handling and FORMAT.md §8 invariant 7. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChunkReaderTest {
  static final ChunkerParameters SMALL = new ChunkerParameters(1024, 4096, 16384);

  @TempDir Path tmp;

  /** One random (RAW: a block would not compress) and one compressible (in blocks) stream in a fresh repository. */
  private record Fixture(Repository repo, byte[] random, List<ChunkRef> randomRefs, byte[] text, List<ChunkRef> textRefs) {}

  private Fixture fixture() throws Exception {
    Repository repo = Repository.init(tmp.resolve("repo"), RepositoryConfig.create(SMALL, Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    byte[] random = PipelineTestKit.randomData(1, 64 << 10);
    byte[] text = PipelineTestKit.compressibleData(2, 64 << 10);
    IngestPipeline p = new IngestPipeline(repo, new IngestSettings(8 << 20, 2, Duration.ofSeconds(5), 4), Clock.systemUTC());
    try {
      // One after the other: random chunks gathered with text would share its block.
      var f1 = PipelineTestKit.write(p, random, PipelineTestKit.Pieces.WHOLE, 0);
      p.flush();
      var f2 = PipelineTestKit.write(p, text, PipelineTestKit.Pieces.WHOLE, 0);
      p.flush();
      return new Fixture(repo, random, PipelineTestKit.await(f1), text, PipelineTestKit.await(f2));
    } finally {
      p.close();
    }
  }

  private static byte[] slice(byte[] data, List<ChunkRef> refs, int index) {
    int from = 0;
    for (int i = 0; i < index; i++) {
      from += refs.get(i).length();
    }
    return Arrays.copyOfRange(data, from, from + refs.get(index).length());
  }

  @Test
  void readsIntoADirectBufferAtItsPosition() throws Exception {
    Fixture f = fixture();
    try (Repository repo = f.repo(); ChunkReader reader = ChunkReader.of(repo)) {
      for (var pair : List.of(List.of(f.random(), f.randomRefs()), List.of(f.text(), f.textRefs()))) {
        byte[] data = (byte[]) pair.get(0);
        @SuppressWarnings("unchecked")
        List<ChunkRef> refs = (List<ChunkRef>) pair.get(1);
        ChunkRef ref = refs.get(1);
        ByteBuffer dst = ByteBuffer.allocateDirect(ref.length() + 20);
        dst.position(7);
        assertEquals(ref.length(), reader.read(ref.id(), dst));
        assertEquals(7 + ref.length(), dst.position(), "read advances the position by the plaintext length");
        byte[] got = new byte[ref.length()];
        dst.get(7, got);
        assertArrayEquals(slice(data, refs, 1), got);
        assertEquals(0, dst.get(0), "bytes before the position are untouched");
      }
    }
  }

  @Test
  void rawChunksAreRawAndTextChunksCompressed() throws Exception {
    Fixture f = fixture();
    try (Repository repo = f.repo()) {
      for (ChunkRef r : f.randomRefs()) {
        assertEquals(ChunkEncoding.RAW, repo.index().find(r.id()).orElseThrow().encoding());
      }
      for (ChunkRef r : f.textRefs()) {
        // The stream's tail chunk can be a few bytes (boundaries depend on the repository's gear
        // seed), and a few bytes do not compress: every chunk of at least the minimum size does.
        // Chunks under 64 KiB are compressed together in blocks (FORMAT.md §5.1).
        if (r.length() >= SMALL.min()) {
          ChunkLocation loc = repo.index().find(r.id()).orElseThrow();
          assertEquals(ChunkEncoding.BLOCK, loc.encoding());
          assertTrue(loc.storedShare() < loc.plainLength());
        }
      }
    }
  }

  @Test
  void readsIntoAHeapBufferWhateverTheChunksEncoding() throws Exception {
    Fixture f = fixture();
    try (Repository repo = f.repo(); ChunkReader reader = ChunkReader.of(repo)) {
      ChunkRef raw = f.randomRefs().get(0);
      ByteBuffer heap = ByteBuffer.allocate(raw.length());
      reader.read(raw.id(), heap);
      assertArrayEquals(slice(f.random(), f.randomRefs(), 0), heap.array(), "RAW chunk into a heap buffer");

      ChunkRef zstd = f.textRefs().get(0);
      ByteBuffer heap2 = ByteBuffer.allocate(zstd.length());
      try {
        reader.read(zstd.id(), heap2);
      } catch (RuntimeException e) {
        throw new AssertionError("BUG: ChunkReader.read(id, dst) works for a RAW chunk into a heap ByteBuffer but fails for a "
            + "zstd chunk (ChunkDecompressor uses decompressDirectByteBuffer, which needs a direct dst): " + e, e);
      }
      assertArrayEquals(slice(f.text(), f.textRefs(), 0), heap2.array(), "zstd chunk into a heap buffer");
    }
  }

  @Test
  void aBufferTooSmallIsRefusedAndAnUnknownChunkIsNotFound() throws Exception {
    Fixture f = fixture();
    try (Repository repo = f.repo(); ChunkReader reader = ChunkReader.of(repo)) {
      ChunkRef ref = f.randomRefs().get(0);
      ByteBuffer small = ByteBuffer.allocateDirect(ref.length() - 1);
      assertThrows(IllegalArgumentException.class, () -> reader.read(ref.id(), small));
      assertEquals(0, small.position());
      ChunkId unknown = ChunkId.of(new byte[32]);
      ChunkNotFoundException e = assertThrows(ChunkNotFoundException.class, () -> reader.readBytes(unknown));
      assertTrue(e.getMessage().contains(unknown.hex()), e.getMessage());
    }
  }

  private static void flipByte(Repository repo, ChunkLocation loc, int within) throws IOException {
    Path file = repo.path().resolve("packs").resolve(loc.pack().directoryName()).resolve(loc.pack().fileName());
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long at = loc.offset() + within;
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x01);
    }
  }

  @Test
  void aDamagedChunkIsReportedAsCorruptionNamingChunkAndPack() throws Exception {
    // FORMAT.md §8 invariant 7
    Fixture f = fixture();
    try (Repository repo = f.repo(); ChunkReader reader = ChunkReader.of(repo)) {
      for (ChunkRef ref : List.of(f.randomRefs().get(2), f.textRefs().get(2))) {
        ChunkLocation loc = repo.index().find(ref.id()).orElseThrow();
        flipByte(repo, loc, loc.storedLength() / 2);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> reader.readBytes(ref.id()),
            "a flipped byte in a " + loc.encoding() + " chunk must be detected");
        assertTrue(e.getMessage().contains(ref.id().hex()), "names the chunk: " + e.getMessage());
        assertTrue(e.getMessage().contains(loc.pack().toString()), "names the pack: " + e.getMessage());
      }
      // the neighbours are fine
      assertArrayEquals(slice(f.random(), f.randomRefs(), 1), reader.readBytes(f.randomRefs().get(1).id()));
    }
  }

  @Test
  void aChunkCutOffByATruncatedPackIsCorruptionNamingChunkAndPack() throws Exception {
    Fixture f = fixture();
    try (Repository repo = f.repo(); ChunkReader reader = ChunkReader.of(repo)) {
      // Workers append in parallel, so stream order is not pack order: cut the last in the pack.
      Comparator<ChunkRef> byOffset = Comparator.comparingLong(r -> location(repo, r).offset());
      ChunkRef cut = f.randomRefs().stream().max(byOffset).orElseThrow();
      ChunkRef first = f.randomRefs().stream().min(byOffset).orElseThrow();
      ChunkLocation loc = location(repo, cut);
      Path file = repo.path().resolve("packs").resolve(loc.pack().directoryName()).resolve(loc.pack().fileName());
      try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
        raf.setLength(loc.offset() + loc.storedLength() / 2);
      }
      CorruptDataException e = assertThrows(CorruptDataException.class, () -> reader.readBytes(cut.id()));
      assertTrue(e.getMessage().contains(cut.id().hex()), "names the chunk: " + e.getMessage());
      assertTrue(e.getMessage().contains(loc.pack().toString()), "names the pack: " + e.getMessage());
      // the first chunk of the pack still reads
      assertArrayEquals(slice(f.random(), f.randomRefs(), f.randomRefs().indexOf(first)), reader.readBytes(first.id()));
    }
  }

  private static ChunkLocation location(Repository repo, ChunkRef ref) {
    try {
      return repo.index().find(ref.id()).orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
