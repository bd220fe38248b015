package io.dedupfs.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.index.ChunkIndex.ChunkEntry;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.snapshot.SnapshotReader;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dedupfs check on a real repository: clean when intact, each kind of damage reported. */
class CheckerTest {
  @TempDir Path tmp;
  private TestRepository t;
  private Repository repo;

  @BeforeEach
  void open() throws Exception {
    t = new TestRepository(tmp);
    repo = t.repo;
    t.write("f", TestRepository.random(1, 1 << 20));
    t.snapshots.create(Name.of("s1"));
  }

  @AfterEach
  void close() throws Exception {
    t.close();
  }

  private CheckReport check(boolean readData) throws Exception {
    return new Checker(repo, t.ns, t.snapshots, t.chunks, new SnapshotReader(t.chunks, 1 << 20), GcSettings.defaults(tmp))
        .run(readData);
  }

  private Path onlyPackFile() throws Exception {
    try (Stream<Path> files = Files.walk(repo.path().resolve("packs"))) {
      return files.filter(Files::isRegularFile).findFirst().orElseThrow();
    }
  }

  /** The data chunk first in id order: which chunk that is, and where the tree nodes fall, varies by run. */
  private ChunkEntry firstDataChunk() throws Exception {
    return repo.index().chunks(null, Integer.MAX_VALUE).stream()
        .filter(e -> e.location().kind() == ChunkKind.DATA).findFirst().orElseThrow();
  }

  @Test
  void anIntactRepositoryIsClean() throws Exception {
    CheckReport r = check(true);
    assertTrue(r.clean(), r.problems().toString());
    assertEquals(r.chunks(), r.chunksRead());
    assertTrue(r.references() > r.chunks() / 2, r + " counted the live tree's and the snapshot's references");
  }

  @Test
  void anOpenFileWhoseLastNameWentIsReferencedAndWhole() throws Exception {
    long open = t.write("open", TestRepository.random(2, 1 << 20));
    long references = check(false).references();
    t.ns.holdOpenInodes(n -> n == open);
    t.ns.unlink(Namespace.ROOT, Name.of("open"));
    new Collector(repo, t.ns, t.pipeline, t.snapshots, new SnapshotReader(t.chunks, 1 << 20), () -> { },
        GcSettings.defaults(tmp)).run();

    CheckReport r = check(true);
    assertTrue(r.clean(), r.problems().toString());
    assertEquals(references, r.references(), "the orphan's chunks are referenced as before its unlink");
  }

  @Test
  void aFlippedByteInAChunkIsFoundByReadingTheData() throws Exception {
    // A file data chunk: a damaged tree node is found without reading data, by the walk of the trees.
    ChunkEntry first = firstDataChunk();
    Path pack = repo.path().resolve("packs").resolve(first.location().pack().directoryName())
        .resolve(first.location().pack().fileName());
    try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
      long at = first.location().offset() + first.location().storedLength() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0xff);
    }
    assertTrue(check(false).clean(), "without reading data the pack still looks whole");
    CheckReport r = check(true);
    assertFalse(r.clean());
    assertTrue(r.problems().get(0).contains(first.id().toString()), r.problems().toString());
  }

  @Test
  void aMissingPackIsReportedNotThrown() throws Exception {
    Files.delete(onlyPackFile());
    CheckReport r = check(false);
    assertFalse(r.clean());
    assertTrue(r.problems().stream().anyMatch(p -> p.contains("file is missing")), r.problems().toString());
  }

  @Test
  void aReferencedChunkMissingFromTheIndexIsReported() throws Exception {
    // A file data chunk: a missing tree node is reported as a tree that cannot be read.
    ChunkEntry first = firstDataChunk();
    repo.index().fossilize(java.util.List.of(first));
    repo.index().buryFossils(java.util.List.of(first.id()));
    CheckReport r = check(false);
    assertFalse(r.clean());
    assertTrue(r.problems().stream().anyMatch(p -> p.contains(first.id() + " is referenced but not in the index")),
        r.problems().toString());
  }
}
