package io.dedupfs.gc;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.snapshot.Snapshots;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * A new repository in {@code REPO} under a test's directory, open with its pipeline, namespace and
 * snapshots: small chunks (16K/64K/256K) so that a few MiB make many, and packs sealed when a file
 * is written, not by age, so that a slow machine does not split a file at random.
 */
final class TestRepository implements AutoCloseable {
  final Repository repo;
  final IngestPipeline pipeline;
  final ChunkReader chunks;
  final Namespace ns;
  final Snapshots snapshots;

  TestRepository(Path dir) throws Exception {
    repo = Repository.init(dir.resolve("repo"),
        RepositoryConfig.create(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10), Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    pipeline = new IngestPipeline(repo, new IngestSettings(16 << 20, 2, Duration.ofSeconds(30), 4), Clock.systemUTC());
    chunks = ChunkReader.of(repo);
    ns = Namespace.open(repo.index(), Clock.systemUTC());
    snapshots = Snapshots.open(repo, ns, pipeline, () -> {});
  }

  static byte[] random(long seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Writes a new file in the root and commits it; returns its inode. */
  long write(String name, byte[] content) throws Exception {
    long inode = ns.mknod(Namespace.ROOT, Name.of(name), Mode.S_IFREG | 0644, 0, 0, 0).number();
    FileWriter w = new FileWriter(inode, 0, ns, pipeline);
    w.write(0, ByteBuffer.wrap(content));
    // Every chunk but the file's last into one pack: a fsync alone seals whatever the workers have
    // appended so far, so on a busy machine the file would land in packs cut at random places.
    pipeline.flush();
    w.flush();
    return inode;
  }

  Set<ChunkId> chunksOf(long inode) throws Exception {
    Set<ChunkId> ids = new HashSet<>();
    for (Extent e : ns.extents(inode, 0, Long.MAX_VALUE / 2)) {
      ids.add(e.chunk());
    }
    return ids;
  }

  long storedBytes(Set<ChunkId> ids) throws Exception {
    long sum = 0;
    for (ChunkId id : ids) {
      sum += repo.index().find(id).orElseThrow().storedShare();
    }
    return sum;
  }

  @Override
  public void close() throws Exception {
    try (repo; chunks; pipeline) {
      // Closed in reverse: the pipeline commits what it holds first.
    }
  }
}
