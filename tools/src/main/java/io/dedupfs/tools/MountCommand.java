package io.dedupfs.tools;

import io.dedupfs.fs.LiveFileSystem;
import io.dedupfs.gc.BackgroundCollector;
import io.dedupfs.gc.Checker;
import io.dedupfs.gc.Collector;
import io.dedupfs.gc.GcSettings;
import io.dedupfs.gc.Repairer;
import io.dedupfs.fs.fuse.FuseAdapter;
import io.dedupfs.fs.fuse.FuseMount;
import io.dedupfs.fs.fuse.LibFuse;
import io.dedupfs.gc.SpaceCounter;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.file.FileReader;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.snapshot.Snapshots;
import io.dedupfs.tools.control.ControlServer;
import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.RepositoryStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs mount}: serves a repository as a read-write filesystem. Unless {@code
 * --foreground}, the filesystem runs in a process of its own ({@link FilesystemProcess}) and the
 * command returns once the mount is live.
 */
@Command(name = "mount", mixinStandardHelpOptions = true,
    description = {"Mount a repository as a read-write filesystem.",
        "With no REPO, uses ~/.local/share/dedupfs/repo (created on first use); with no MOUNTPOINT, ~/dedupfs."})
final class MountCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(MountCommand.class);
  /** Decoded chunks kept for reads: a few chunks of the default 4 MiB maximum for each of several readers. */
  static final long READ_CACHE_BYTES = 64L << 20;
  /** Decoded tree nodes kept for browsing snapshots: a path's nodes and the directories being listed. */
  static final long TREE_CACHE_BYTES = 32L << 20;
  /** Deleted snapshots are collected this long after the last deletion: a prune's deletions make one run. */
  private static final long BACKGROUND_GC_DELAY_MILLIS = 10_000;
  /** The FUSE option that mounts over a directory's contents. */
  private static final String NONEMPTY = "nonempty";
  private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
  /**
   * Threads reading requests from /dev/fuse. One: with two, an rsync -a of 11,860 files into a
   * fresh mount took 11.4 s instead of 10.4 s (medians of 3) and 15% more CPU on this 2-core
   * machine, where the ingest pipeline's workers want the other core. Over io_uring there is
   * also one thread per CPU, each serving the requests made on its CPU.
   */
  private static final int REQUEST_THREADS = 1;
  /** Longest a SIGTERM waits for the last writes to become durable before the JVM goes. */
  private static final long SHUTDOWN_WAIT_MINUTES = 10;

  @Parameters(index = "0", arity = "0..1", paramLabel = "REPO", description = "Repository (default: ~/.local/share/dedupfs/repo).")
  Path repository;

  @Parameters(index = "1", arity = "0..1", paramLabel = "MOUNTPOINT", description = "Empty directory to mount on (default: ~/dedupfs).")
  Path mountpoint;

  @Option(names = "--memory", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "256M",
      description = "Memory budget of all buffered writes (default ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--foreground", description = "Serve from this process until unmounted, logging to stderr (journald's under systemd).")
  boolean foreground;

  /**
   * Only root's mounts use io_uring: should a queue stop taking requests, the kernel would never
   * send that CPU's requests elsewhere, and only root can end the mount at once (FuseMount).
   */
  @Option(names = "--no-io-uring", description = "Serve requests through /dev/fuse only. By default a mount as root has"
      + " them come over io_uring where the kernel offers it (Linux 6.14+; it turns on the fuse module's enable_uring).")
  boolean noIoUring;

  @Option(names = "-o", paramLabel = "FUSE_OPTION", split = ",", description = "Extra FUSE mount options, e.g. -o ro.")
  List<String> fuseOptions = new ArrayList<>();

  /** Set by {@link FilesystemProcess} on the process it starts: report readiness on stdout. */
  @Option(names = "--report-ready", hidden = true)
  boolean reportReady;

  /** Set by {@link FilesystemProcess}: the passphrase arrives as the first line of stdin, not on the command line. */
  @Option(names = "--passphrase-stdin", hidden = true)
  boolean passphraseOnStdin;

  /** Set by {@link FilesystemProcess}: log to this file, rotated, not to stderr (which nobody reads). */
  @Option(names = "--log-file", hidden = true)
  Path logFile;

  @Mixin PassphraseOption passphrase;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Path repo = (repository == null ? prepareDefaultRepository() : repository).toAbsolutePath().normalize();
    Path mnt = (mountpoint == null ? prepareDefaultMountpoint() : mountpoint).toAbsolutePath().normalize();
    if (!Files.isRegularFile(repo.resolve("config"))) {
      throw new NoSuchFileException(repo.toString(), null, "no repository here (create one with dedupfs init " + repo + ")");
    }
    checkMountpoint(mnt);
    if (!foreground) {
      // Asked here, where the terminal is; the filesystem process gets it through a pipe.
      char[] key = Repository.configOf(repo).encrypted() ? passphrase.existing(repo).passphrase() : null;
      long pid = new FilesystemProcess(repo, mnt, memory, !noIoUring, fuseOptions, key, Main.of(spec).logLevel).start();
      Notes.print(spec, "mounted " + repo + " at " + mnt + " (process " + pid + ", log " + Locations.logOf(repo) + ")");
      return 0;
    }
    // A mounted filesystem logs what it does (mounted, collected...) unless told otherwise; commands only problems.
    Logging.setLevel(Main.of(spec).logLevel, LogLevel.INFO);
    if (logFile != null) {
      Logging.toRotatedFile(logFile);
    }
    try {
      serve(repo, mnt);
      return 0;
    } catch (Exception e) {
      if (reportReady) {
        System.out.println(FilesystemProcess.FAILED + ErrorReporter.message(e));
        System.out.flush();
      }
      throw e;
    }
  }

  /** A directory, not mounted on, and empty unless {@code -o nonempty} (as libfuse 2 asks, but with a clear message). */
  private void checkMountpoint(Path mnt) throws IOException {
    if (!Files.exists(mnt)) {
      throw new NoSuchFileException(mnt.toString(), null, "mountpoint does not exist");
    }
    if (!Files.isDirectory(mnt)) {
      throw new FileSystemException(mnt.toString(), null, "mountpoint is not a directory");
    }
    var busy = MountTable.at(mnt);
    if (busy.isPresent()) {
      throw new IOException(mnt + " is already a mountpoint (" + busy.get().type() + " of " + busy.get().source()
          + "); unmount it first");
    }
    if (!fuseOptions.contains(NONEMPTY) && !isEmptyDirectory(mnt)) {
      throw new FileSystemException(mnt.toString(), null,
          "mountpoint is not empty (its files would be hidden while mounted; -o " + NONEMPTY + " mounts over them)");
    }
  }

  private static boolean isEmptyDirectory(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  private Path prepareDefaultRepository() throws IOException {
    Path repo = Locations.defaultRepository();
    if (!Files.exists(repo.resolve("config"))) {
      Files.createDirectories(repo.getParent());
      RepositoryConfig config = RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT);
      Repository.init(repo, config, Repository.OpenOptions.DEFAULT).close();
      Notes.print(spec, "created repository " + repo);
    }
    return repo;
  }

  private static Path prepareDefaultMountpoint() throws IOException {
    return Files.createDirectories(Locations.defaultMountpoint());
  }

  /** Mounts, serves until unmounted (by umount, fusermount -u or a signal), then makes everything durable. */
  private void serve(Path repo, Path mnt) throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    PassphraseSource key = passphraseOnStdin ? MountCommand::passphraseFromStdin : passphrase.existing(repo);
    try (Repository repository = Repository.open(repo, Repository.OpenOptions.DEFAULT.withPassphrase(key));
        IngestPipeline pipeline = new IngestPipeline(repository, IngestSettings.forMemory(memory), Clock.systemUTC());
        ChunkReader chunks = ChunkReader.of(repository)) {
      Namespace namespace = Namespace.open(repository.index(), Clock.systemUTC());
      FileReader reader = new FileReader(namespace, chunks, READ_CACHE_BYTES);
      SnapshotReader snapshotReader = new SnapshotReader(chunks, TREE_CACHE_BYTES);
      try (LiveFileSystem fs = new LiveFileSystem(namespace, pipeline, reader, Files.getFileStore(repo),
          pending -> Snapshots.open(repository, namespace, pipeline, pending), snapshotReader)) {
        RepositoryOperations.Collectors collectors = memory -> new Collector(repository, namespace, pipeline,
            fs.snapshots(), snapshotReader, fs::commitAll, GcSettings.defaults(repo).withMemory(memory));
        BackgroundCollector background = new BackgroundCollector(
            () -> collectors.withMemory(GcSettings.DEFAULT_MEMORY).paced(GcSettings.BACKGROUND_SHARE),
            BACKGROUND_GC_DELAY_MILLIS);
        fs.snapshots().whenDeleted(background::snapshotDeleted);
        LibFuse fuse = LibFuse.load();
        FuseAdapter adapter = new FuseAdapter(fs, fuse);
        fs.snapshots().whenChanged(adapter::snapshotsChanged);
        ControlServer control = ControlServer.start(ControlServer.socketOf(repo),
            RepositoryOperations.of(() -> RepositoryStats.of(repository.index(),
                new SpaceCounter(repository.index(), namespace, fs.snapshots(), snapshotReader, GcSettings.defaults(repo)),
                Optional.of(pipeline.stats()), adapter.requestStats()), fs.snapshots(), collectors, () -> new Checker(repository,
                namespace, fs.snapshots(), chunks, snapshotReader, GcSettings.defaults(repo)),
                () -> new Repairer(repository, namespace, fs.snapshots(), pipeline, fs::commitAll, chunks, GcSettings.defaults(repo), Clock.systemUTC())));
        try (control; background) {
          FuseMount mount = FuseMount.mount(adapter, fuse, mnt, repo.toString(), isRoot(), libfuseOptions(),
              REQUEST_THREADS, !noIoUring && isRoot(), MOUNT_TIMEOUT);
          Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // SIGTERM or SIGINT: unmount, then let the main thread commit everything before the JVM ends.
            mount.unmount();
            try {
              closed.await(SHUTDOWN_WAIT_MINUTES, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }, "dedupfs-shutdown"));
          LOG.info("mounted {} at {}", repo, mnt);
          announceReady(repo, mnt);
          mount.awaitUnmounted();
          LOG.info("unmounted {}; committing", mnt);
        }
      }
    } finally {
      closed.countDown();
    }
    LOG.info("{} closed; everything written is durable", repo);
  }

  private void announceReady(Path repo, Path mnt) {
    if (reportReady) {
      System.out.println(FilesystemProcess.READY);
      System.out.flush();
      // The starter reads one line and goes; nothing else may be written to its pipe.
      PrintStream out = System.out;
      System.setOut(System.err);
      out.close();
    } else {
      Notes.print(spec, "mounted " + repo + " at " + mnt + "; unmount with dedupfs umount " + mnt);
    }
  }

  private static char[] passphraseFromStdin() throws IOException {
    String line = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    if (line == null || line.isEmpty()) {
      throw new IOException("no passphrase on standard input");
    }
    return line.toCharArray();
  }

  /** The -o options for libfuse: nonempty is this command's own (libfuse 3 mounts over files without asking). */
  private List<String> libfuseOptions() {
    return fuseOptions.stream().filter(o -> !o.equals(NONEMPTY)).toList();
  }

  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }
}
