package io.dedupfs.tools;

import io.dedupfs.gc.GcProgress;
import io.dedupfs.gc.GcReport;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.index.PackCommit;
import io.dedupfs.store.index.PackRecord;
import io.dedupfs.store.io.FileTrees;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dedupfs bench gc}: the collector over an index far bigger than its memory. A temporary
 * repository gets {@code --chunks} synthetic chunk entries in packs of 10,000 (no pack files: the
 * collection reads only the index), and live files whose extents reference four chunks in five;
 * then one collection runs with {@code --gc-memory}, and the time of each phase and the peak
 * RssAnon are printed. Synthetic ids are derived from their number, so nothing holds them all.
 */
@Command(name = "gc", mixinStandardHelpOptions = true,
    description = "Time a garbage collection over N synthetic chunk entries (4 in 5 referenced) in fixed memory.")
final class BenchGcCommand implements Callable<Integer> {
  private static final int PACK_CHUNKS = 10_000;
  private static final int EXTENTS_PER_FILE = 100_000;
  private static final int CHUNK = 4096;

  @Option(names = "--chunks", paramLabel = "N", defaultValue = "10000000", description = "Chunk entries (default ${DEFAULT-VALUE}).")
  long chunks;

  @Option(names = "--gc-memory", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "64M",
      description = "The collector's sort memory (default ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--repo", paramLabel = "REPO",
      description = {"Set up REPO if it does not exist, and stop; collect in it if it does, in a process that did "
          + "nothing else, so that its peak RssAnon is the collection's. Without it: both, in a temporary repository."})
  Path repository;

  @Override
  public Integer call() throws Exception {
    if (repository != null) {
      if (Files.exists(repository)) {
        collect(repository);
      } else {
        setUp(repository);
        System.out.println("set up " + repository + "; run the same command again to collect in a fresh process");
      }
      return 0;
    }
    Path dir = Files.createTempDirectory("dedupfs-bench-gc-");
    try {
      setUp(dir.resolve("repo"));
      collect(dir.resolve("repo"));
    } finally {
      FileTrees.delete(dir);
    }
    return 0;
  }

  private void setUp(Path repo) throws Exception {
    Repository.init(repo, RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT).close();
    try (OpenRepository open = OpenRepository.open(repo, PassphraseSource.NONE)) {
      long t0 = System.nanoTime();
      enterChunks(open);
      long t1 = System.nanoTime();
      referenceFourInFive(open.namespace());
      long t2 = System.nanoTime();
      System.out.printf(Locale.ROOT, "setup      %,d chunk entries in %.1f s, %,d referenced by extents in %.1f s%n",
          chunks, (t1 - t0) / 1e9, chunks - chunks / 5, (t2 - t1) / 1e9);
    }
  }

  private void collect(Path repo) throws Exception {
    try (ProcessMemory rss = new ProcessMemory(); OpenRepository open = OpenRepository.open(repo, PassphraseSource.NONE)) {
      long before = rss.peakRssAnon();
      long total = open.repository().index().counts().chunks();
      GcReport report = open.operations().collectGarbage(memory, GcProgress.NONE);
      System.out.printf(Locale.ROOT, "collected  %,d chunks freed of %,d (%,d references marked) in %.1f s%n",
          report.chunksFreed(), total, report.markedReferences(),
          report.phases().values().stream().mapToLong(Duration::toNanos).sum() / 1e9);
      StringBuilder phases = new StringBuilder();
      for (Map.Entry<String, Duration> p : report.phases().entrySet()) {
        phases.append(String.format(Locale.ROOT, "%s%s %.2f s", phases.length() == 0 ? "" : ", ", p.getKey(),
            p.getValue().toNanos() / 1e9));
      }
      System.out.println("phases     " + phases);
      System.out.printf(Locale.ROOT, "memory     --gc-memory %s; RssAnon %s once the repository was open, peak %s%n",
          SizeConverter.human(memory), SizeConverter.human(before), SizeConverter.human(rss.peakRssAnon()));
    }
  }

  /** Chunk number k's id: a mix of k, unique and spread over the key space like a hash. */
  private static ChunkId idOf(long k) {
    long a = mix(k);
    long b = mix(a);
    return ChunkId.of(ByteBuffer.allocate(ChunkId.LENGTH).putLong(a).putLong(b).putLong(mix(b)).putLong(k).array());
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private void enterChunks(OpenRepository open) throws Exception {
    List<PackCommit> batch = new ArrayList<>();
    for (long first = 0; first < chunks; first += PACK_CHUNKS) {
      PackNumber pack = open.pipeline().allocatePackNumber();
      List<PackIndexEntry> entries = new ArrayList<>();
      for (long k = first; k < Math.min(chunks, first + PACK_CHUNKS); k++) {
        entries.add(new PackIndexEntry(idOf(k), 24 + (k - first) * CHUNK, CHUNK, CHUNK, ChunkKind.DATA, ChunkEncoding.RAW));
      }
      batch.add(new PackCommit(pack, new PackRecord((long) entries.size() * CHUNK, entries.size(),
          (long) entries.size() * CHUNK, System.currentTimeMillis()), entries));
      if (batch.size() == 50) {
        open.repository().index().commit(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      open.repository().index().commit(batch);
    }
  }

  /** Files whose extents name every chunk whose number is not a multiple of 5. */
  private void referenceFourInFive(Namespace ns) throws Exception {
    List<Extent> extents = new ArrayList<>();
    int file = 0;
    for (long k = 0; k < chunks; k++) {
      if (k % 5 != 0) {
        extents.add(new Extent((long) extents.size() * CHUNK, idOf(k), 0, CHUNK));
      }
      if (extents.size() == EXTENTS_PER_FILE || (k == chunks - 1 && !extents.isEmpty())) {
        long inode = ns.mknod(Namespace.ROOT, Name.of("f" + file++), Mode.S_IFREG | 0644, 0, 0, 0).number();
        ns.replaceRange(inode, 0, (long) extents.size() * CHUNK, extents, ns.now());
        extents.clear();
      }
    }
  }
}
