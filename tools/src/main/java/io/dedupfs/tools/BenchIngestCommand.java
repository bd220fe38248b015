package io.dedupfs.tools;

import io.dedupfs.store.io.FileTrees;
import static io.dedupfs.tools.SizeConverter.human;

import io.dedupfs.store.ingest.ChunkStreamWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.ingest.IngestStats;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dedupfs bench ingest}: runs real files through the ingest pipeline with no FUSE and
 * prints throughput, dedup and compression figures, the stage table and peak memory.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Ingest files through the pipeline (no FUSE) and print MB/s, files/s, dedup, compression, stage timings and peak RssAnon.")
final class BenchIngestCommand implements Callable<Integer> {
  private static final Path END = Path.of("");
  private static final int READ_SIZE = 1 << 20;

  @Parameters(paramLabel = "PATH", arity = "1..*", description = "Files or directories to ingest (symlinks are not followed).")
  List<Path> paths;

  @Option(names = "--repo", paramLabel = "REPO",
      description = "Repository to ingest into (created if missing). Default: a temporary one, deleted afterwards.")
  Path repository;

  @Option(names = "--memory", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "256M",
      description = "Ingest memory budget (default ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--readers", paramLabel = "N", defaultValue = "2", description = "Threads reading files (default ${DEFAULT-VALUE}).")
  int readers;

  @Option(names = "--chunk-size", paramLabel = "MIN,AVG,MAX", description = "Chunk sizes of a new repository (default 256K,1M,4M).")
  String chunkSize;

  @Option(names = "--compression", paramLabel = "zstd:LEVEL|none", description = "Compression of a new repository (default zstd:3).")
  String compression;

  @Option(names = "--encrypt", description = "Make a new repository encrypted (passphrase as for init).")
  boolean encrypt;

  @Mixin PassphraseOption passphrase;

  @Override
  public Integer call() throws Exception {
    for (Path p : paths) {
      if (!Files.exists(p)) {
        throw new java.nio.file.NoSuchFileException(p.toString(), null, "no such file or directory");
      }
    }
    boolean temporary = repository == null;
    Path repoPath = temporary ? Files.createTempDirectory("dedupfs-bench-") : repository;
    try (ProcessMemory memoryProbe = new ProcessMemory();
        Repository repo = openOrInit(repoPath, temporary)) {
      Result result = run(repo);
      print(System.out, result, memoryProbe.peakRssAnon());
    } finally {
      if (temporary) {
        FileTrees.delete(repoPath);
      }
    }
    return 0;
  }

  private Repository openOrInit(Path path, boolean fresh) throws IOException {
    if (!fresh && Files.exists(path.resolve("config"))) {
      return Repository.open(path, Repository.OpenOptions.DEFAULT.withPassphrase(passphrase.existing(path)));
    }
    RepositoryConfig config = RepositoryConfig.create(InitCommand.chunkerParameters(chunkSize),
        compression == null ? Compression.DEFAULT : Compression.parse(compression), encrypt);
    return Repository.init(path, config, Repository.OpenOptions.DEFAULT.withPassphrase(passphrase.chosen(path)));
  }

  private record Result(long files, long bytes, long nanos, IngestStats stats) {}

  private Result run(Repository repo) throws Exception {
    BlockingQueue<Path> files = new ArrayBlockingQueue<>(1024);
    AtomicLong fileCount = new AtomicLong();
    AtomicLong byteCount = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    try (IngestPipeline pipeline = new IngestPipeline(repo, IngestSettings.forMemory(memory), Clock.systemUTC())) {
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < readers; i++) {
        Thread t = new Thread(() -> readFiles(pipeline, files, fileCount, byteCount, failure), "bench-reader-" + i);
        threads.add(t);
        t.start();
      }
      for (Path p : paths) {
        walk(p, files);
      }
      for (int i = 0; i < readers; i++) {
        files.put(END);
      }
      for (Thread t : threads) {
        t.join();
      }
      pipeline.flush();
      if (failure.get() != null) {
        throw new IOException("ingest failed: " + failure.get().getMessage(), failure.get());
      }
      return new Result(fileCount.get(), byteCount.get(), System.nanoTime() - start, pipeline.stats());
    }
  }

  private static void walk(Path root, BlockingQueue<Path> files) throws IOException {
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        if (attrs.isRegularFile()) {
          try {
            files.put(file);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FileVisitResult.TERMINATE;
          }
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void readFiles(IngestPipeline pipeline, BlockingQueue<Path> files, AtomicLong fileCount,
      AtomicLong byteCount, AtomicReference<Throwable> failure) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(READ_SIZE);
    try {
      for (Path file = files.take(); file != END; file = files.take()) {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
          ChunkStreamWriter stream = pipeline.openStream();
          while (in.read(buffer.clear()) > 0) {
            stream.write(buffer.flip());
          }
          byteCount.addAndGet(stream.length());
          stream.finish().whenComplete((chunks, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            }
          });
          fileCount.incrementAndGet();
        } catch (IOException e) {
          // Unreadable files (permissions, vanished) are skipped as a backup tool would, not counted.
          if (!(e instanceof java.nio.file.AccessDeniedException || e instanceof java.nio.file.NoSuchFileException)) {
            failure.compareAndSet(null, new UncheckedIOException(e));
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    }
  }

  private static void print(PrintStream out, Result r, long peakRssAnon) {
    IngestStats s = r.stats();
    double seconds = r.nanos() / 1e9;
    out.printf(Locale.ROOT, "ingested   %,d files, %s in %.2f s%n", r.files(), human(r.bytes()), seconds);
    out.printf(Locale.ROOT, "throughput %.1f MB/s, %.0f files/s%n", r.bytes() / 1e6 / seconds, r.files() / seconds);
    out.printf(Locale.ROOT, "new        %,d chunks, %s%n", s.newChunks(), human(s.newBytes()));
    out.printf(Locale.ROOT, "duplicate  %,d chunks, %s%n", s.duplicateChunks(), human(s.duplicateBytes()));
    out.printf(Locale.ROOT, "stored     %s (compression ratio %.2f)%n", human(s.storedBytes()),
        s.storedBytes() == 0 ? 1.0 : (double) s.newBytes() / s.storedBytes());
    out.printf(Locale.ROOT, "memory     budget %s, blocked on budget %.2f s, peak RssAnon %s, VmHWM %s%n",
        human(s.memoryBudget()), s.memoryBlockedNanos() / 1e9, human(peakRssAnon), human(ProcessMemory.field("VmHWM")));
    out.printf("%n%s", StageTable.format(s.stages()));
  }

}
