package io.dedupfs.store.namespace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.Table;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extents against a byte-array model: random overwrites (some with holes, all as slices of larger
 * chunks), truncations and growth; after every step the file rebuilt from its extents (gaps as
 * zeros) must equal the model. Chunk contents live in a map here: this tests the mapping, not
 * the chunk store.
 */
class ExtentsModelTest {
  private static final int STEPS = 2000;
  private static final int MAX_SIZE = 96 << 10;

  @TempDir Path tmp;
  private final Map<ChunkId, byte[]> chunks = new HashMap<>();
  private final ChunkHasher hasher = ChunkHasher.sha256();

  @Test
  void randomOverwritesAndTruncationsMatchAByteArray() throws Exception {
    long seed = Long.getLong("extents.seed", System.nanoTime());
    Random random = new Random(seed);
    try (Repository repo = Repository.init(tmp.resolve("repo"),
        RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT), Repository.OpenOptions.DEFAULT)) {
      Namespace ns = Namespace.open(repo.index(), Clock.systemUTC());
      long file = ns.mknod(Namespace.ROOT, Name.of("f"), Mode.S_IFREG | 0644, 0, 0, 0).number();
      byte[] model = new byte[0];
      for (int step = 0; step < STEPS; step++) {
        String context = "seed " + seed + " (rerun with -Dextents.seed=" + seed + "), step " + step;
        if (random.nextInt(10) < 8) {
          int offset = random.nextInt(MAX_SIZE);
          int length = 1 + random.nextInt(Math.min(16 << 10, MAX_SIZE - offset + 1));
          model = write(ns, file, model, offset, length, random);
        } else {
          int size = random.nextInt(MAX_SIZE);
          ns.truncate(file, size);
          model = Arrays.copyOf(model, size);
        }
        assertFile(ns, file, model, context);
      }
      repo.close();
      try (Repository reopened = Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT)) {
        Namespace again = Namespace.open(reopened.index(), Clock.systemUTC());
        assertFile(again, file, model, "seed " + seed + ", after reopening");
        again.unlink(Namespace.ROOT, Name.of("f"));
        byte[] prefix = java.nio.ByteBuffer.allocate(8).putLong(0, file).array();
        assertTrue(reopened.index().read(tx -> tx.scan(Table.EXTENTS, prefix, null, 10)).isEmpty(),
            "an unlinked file's extents are deleted with it");
      }
    }
  }

  /** Writes random bytes at [offset, offset+length) as up to three chunk slices, maybe leaving a hole. */
  private byte[] write(Namespace ns, long file, byte[] model, int offset, int length, Random random) throws Exception {
    byte[] data = new byte[length];
    random.nextBytes(data);
    List<Extent> extents = new ArrayList<>();
    int pieces = 1 + random.nextInt(3);
    int at = 0;
    for (int p = 0; p < pieces && at < length; p++) {
      int size = p == pieces - 1 ? length - at : 1 + random.nextInt(length - at);
      boolean hole = pieces > 1 && random.nextInt(4) == 0;
      if (hole) {
        Arrays.fill(data, at, at + size, (byte) 0);
      } else {
        int before = random.nextInt(8);
        byte[] chunk = new byte[before + size + random.nextInt(8)];
        random.nextBytes(chunk);
        System.arraycopy(data, at, chunk, before, size);
        ChunkId id = hasher.idOf(chunk);
        chunks.put(id, chunk);
        extents.add(new Extent(offset + at, id, before, size));
      }
      at += size;
    }
    ns.replaceRange(file, offset, length, extents, ns.now());
    byte[] grown = Arrays.copyOf(model, Math.max(model.length, offset + length));
    System.arraycopy(data, 0, grown, offset, length);
    return grown;
  }

  private void assertFile(Namespace ns, long file, byte[] model, String context) throws Exception {
    assertEquals(model.length, ns.getattr(file).size(), context + ": size");
    byte[] rebuilt = new byte[model.length];
    long previousEnd = 0;
    for (Extent e : ns.extents(file, 0, model.length)) {
      assertTrue(e.fileOffset() >= previousEnd, context + ": extents in order without overlap");
      assertTrue(e.end() <= model.length, context + ": no extent past the size");
      byte[] chunk = chunks.get(e.chunk());
      assertTrue(e.chunkOffset() + e.length() <= chunk.length, context + ": extent within its chunk");
      System.arraycopy(chunk, e.chunkOffset(), rebuilt, (int) e.fileOffset(), e.length());
      previousEnd = e.end();
    }
    assertArrayEquals(model, rebuilt, context + ": content");
    if (model.length > 10) {
      int from = model.length / 3;
      byte[] window = new byte[model.length / 3];
      for (Extent e : ns.extents(file, from, window.length)) {
        assertTrue(e.fileOffset() >= from && e.end() <= from + window.length, context + ": clipped to the range");
        System.arraycopy(chunks.get(e.chunk()), e.chunkOffset(), window, (int) (e.fileOffset() - from), e.length());
      }
      assertArrayEquals(Arrays.copyOfRange(model, from, from + window.length), window, context + ": a range read");
    }
  }

  @Test
  void onlyRegularFilesHaveExtents() throws Exception {
    try (Repository repo = Repository.init(tmp.resolve("repo2"),
        RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT), Repository.OpenOptions.DEFAULT)) {
      Namespace ns = Namespace.open(repo.index(), Clock.systemUTC());
      long dir = ns.mknod(Namespace.ROOT, Name.of("d"), Mode.S_IFDIR | 0755, 0, 0, 0).number();
      long fifo = ns.mknod(Namespace.ROOT, Name.of("p"), Mode.S_IFIFO | 0644, 0, 0, 0).number();
      assertEquals(Namespace.IS_A_DIRECTORY,
          assertThrows(FileSystemException.class, () -> ns.truncate(dir, 0)).getReason());
      assertEquals(Namespace.INVALID_ARGUMENT,
          assertThrows(FileSystemException.class, () -> ns.extents(fifo, 0, 1)).getReason());
      long file = ns.mknod(Namespace.ROOT, Name.of("f"), Mode.S_IFREG | 0644, 0, 0, 0).number();
      assertThrows(IllegalArgumentException.class, () -> ns.replaceRange(file, 10, 5,
          List.of(new Extent(12, hasher.idOf(new byte[8]), 0, 8)), ns.now()), "an extent beyond the range is refused");
      assertEquals(0, ns.getattr(file).size(), "a refused write changes nothing");
      assertEquals(List.of(), ns.extents(file, 0, 0), "an empty range has no extents");
    }
  }
}
