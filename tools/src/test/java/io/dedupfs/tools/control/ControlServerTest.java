package io.dedupfs.tools.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.gc.Checker;
import io.dedupfs.gc.Repairer;
import io.dedupfs.gc.Collector;
import io.dedupfs.gc.GcReport;
import io.dedupfs.gc.GcSettings;
import io.dedupfs.gc.SpaceCounter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.snapshot.SnapshotReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.snapshot.Snapshots;
import io.dedupfs.store.stats.RequestStats;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket over a real socket, with real snapshots of a real repository. */
class ControlServerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  private Repository repository;
  private IngestPipeline pipeline;
  private Namespace namespace;
  private Snapshots snapshots;
  private Path socket;

  @BeforeEach
  void openRepository() throws IOException {
    RepositoryConfig config = RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT);
    repository = Repository.init(dir.resolve("repo"), config, Repository.OpenOptions.DEFAULT);
    pipeline = new IngestPipeline(repository, IngestSettings.forMemory(32L << 20), Clock.systemUTC());
    namespace = Namespace.open(repository.index(), Clock.systemUTC());
    snapshots = Snapshots.open(repository, namespace, pipeline, () -> {});
    socket = ControlServer.socketOf(repository.path());
  }

  /** What a mount's FUSE adapter would count: a getattr that failed, and two writes. */
  private static List<RequestStats.Snapshot> requests() {
    RequestStats getattr = new RequestStats("getattr");
    getattr.served(2_500, true, 0);
    RequestStats write = new RequestStats("write");
    write.served(10_000, false, 4096);
    write.served(30_000, false, 131072);
    return List.of(getattr.snapshot(), write.snapshot(), new RequestStats("rename").snapshot());
  }

  private RepositoryOperations operations() {
    ChunkReader chunks = ChunkReader.of(repository);
    SnapshotReader trees = new SnapshotReader(chunks, 1 << 20);
    GcSettings settings = GcSettings.defaults(repository.path());
    return RepositoryOperations.of(() -> RepositoryStats.of(repository.index(),
        new SpaceCounter(repository.index(), namespace, snapshots, trees, settings), Optional.of(pipeline.stats()),
        requests()), snapshots,
        memory -> new Collector(repository, namespace, pipeline, snapshots, trees, () -> {}, settings.withMemory(memory)),
        () -> new Checker(repository, namespace, snapshots, chunks, trees, settings),
        () -> new Repairer(repository, namespace, snapshots, pipeline, () -> {}, chunks, settings,
            Clock.systemUTC()));
  }

  @AfterEach
  void closeRepository() throws IOException {
    pipeline.close();
    repository.close();
  }

  @Test
  void statsOfSnapshotsAndIngestGoThroughTheSocketWhole() throws Exception {
    long file = namespace.mknod(Namespace.ROOT, Name.of("file"), Mode.S_IFREG | 0644, 0, 0, 0).number();
    io.dedupfs.store.file.FileWriter writer = new io.dedupfs.store.file.FileWriter(file, 0, namespace, pipeline);
    // Zeros cut at the largest chunk, 4 MiB: three chunks, the same one.
    writer.write(0, ByteBuffer.wrap(new byte[12 << 20]));
    writer.flush();
    ControlServer server = ControlServer.start(socket, operations());
    try (server; ControlClient client = ControlClient.connect(socket)) {
      client.create(Name.of("s1"));
      namespace.unlink(Namespace.ROOT, Name.of("file"));

      RepositoryStats stats = client.stats();

      assertEquals(stats, operations().stats(), "every field crosses the socket");
      assertEquals(0, stats.space().liveBytes());
      assertEquals(12 << 20, stats.logicalBytes(), "the snapshot's file");
      long s1 = stats.snapshots().get(0).number();
      assertEquals(stats.space().storedBytes(), stats.space().snapshots().get(s1).uniqueBytes(),
          "s1 alone holds every chunk");
      assertTrue(stats.dedupRatio() > 2.9, "three chunks stored once: " + stats.dedupRatio());
      assertTrue(stats.ingest().orElseThrow().newChunks() > 0, "the pipeline's counters came along");
      assertEquals(8, stats.ingest().orElseThrow().stages().size());
      assertEquals(List.of(new RequestStats.Snapshot("getattr", 1, 2_500, 1, 0),
          new RequestStats.Snapshot("write", 2, 40_000, 0, 135_168), new RequestStats.Snapshot("rename", 0, 0, 0, 0)),
          stats.requests(), "the request counters came along, in the order the server sent them");
      assertEquals(20_000, stats.requests().get(1).meanNanos());
    }
  }

  @Test
  void garbageCollectionAndStatsGoThroughTheSocket() throws Exception {
    namespace.mknod(Namespace.ROOT, Name.of("dir"), Mode.S_IFDIR | 0755, 0, 0, 0);
    ControlServer server = ControlServer.start(socket, operations());
    try (server; ControlClient client = ControlClient.connect(socket)) {
      assertTrue(client.stats().lastGc().isEmpty(), "no collection yet");
      client.create(Name.of("s1"));
      namespace.rmdir(Namespace.ROOT, Name.of("dir"));
      GcReport estimate = client.estimateGarbage(1 << 20, java.util.Set.of(client.list().get(0).number()));
      client.delete(Name.of("s1"));
      List<String> phases = new ArrayList<>();
      GcReport report = client.collectGarbage(1 << 20, (phase, done, total) -> phases.add(phase));
      assertTrue(phases.containsAll(List.of("set aside", "bury", "packs")), "progress came through: " + phases);
      assertEquals(estimate.chunksFreed(), report.chunksFreed(), "the estimate foresaw what the run freed");
      assertTrue(report.chunksFreed() > 0, report + " freed s1's tree nodes");
      RepositoryStats stats = client.stats();
      assertEquals(0, stats.snapshots().size());
      assertEquals(report.chunksFreed(), stats.lastGc().orElseThrow().chunksFreed());
      assertEquals(stats, operations().stats(), "the same as in the process");
      io.dedupfs.gc.CheckReport check = client.check(true, io.dedupfs.gc.GcProgress.NONE);
      assertTrue(check.clean(), check.problems().toString());
      assertEquals(check.chunks(), check.chunksRead(), "every chunk read");
    }
  }

  @Test
  void createListAndDeleteGoThroughTheSocket() throws Exception {
    namespace.mknod(Namespace.ROOT, Name.of("dir"), Mode.S_IFDIR | 0755, 0, 0, 0);
    namespace.mknod(Namespace.ROOT, Name.of("file"), Mode.S_IFREG | 0644, 0, 0, 0);
    Instant before = Instant.now();
    ControlServer server = ControlServer.start(socket, operations());
    try (server; ControlClient client = ControlClient.connect(socket)) {
      SnapshotSummary s1 = client.create(Name.of("s1"));
      assertEquals(Name.of("s1"), s1.name());
      assertEquals(1, s1.files());
      assertEquals(1, s1.directories());
      assertTrue(!s1.created().isBefore(before.minusSeconds(1)), s1.created() + " is now");
      SnapshotSummary s2 = client.create(Name.of("s2"));
      assertTrue(s2.number() > s1.number());

      assertEquals(List.of(s1, s2), client.list());
      assertEquals(List.of(s1, s2), operations().list(), "the same as in the process");

      client.delete(Name.of("s1"));
      assertEquals(List.of(s2), client.list());
    }
  }

  @Test
  void errorsComeBackAsTheirExceptionsAndTheConnectionStaysUsable() throws Exception {
    ControlServer server = ControlServer.start(socket, operations());
    try (server; ControlClient client = ControlClient.connect(socket)) {
      client.create(Name.of("s1"));
      FileAlreadyExistsException exists = assertThrows(FileAlreadyExistsException.class,
          () -> client.create(Name.of("s1")));
      assertEquals("s1", exists.getFile());
      NoSuchFileException missing = assertThrows(NoSuchFileException.class, () -> client.delete(Name.of("nope")));
      assertEquals("nope", missing.getFile());
      assertEquals(1, client.list().size());
    }
  }

  @Test
  void namesTravelAsBytes() throws Exception {
    byte[] notUtf8 = {(byte) 0xff, 'a', ' ', '\n', (byte) 0xc3};
    ControlServer server = ControlServer.start(socket, operations());
    try (server; ControlClient client = ControlClient.connect(socket)) {
      client.create(Name.of(notUtf8));
      assertArrayEquals(notUtf8, client.list().get(0).name().bytes());
      assertArrayEquals(notUtf8, snapshots.list().get(0).name().bytes());
      client.delete(Name.of(notUtf8));
      assertTrue(client.list().isEmpty());
    }
  }

  @Test
  void malformedRequestsAreAnsweredAsInvalid() throws Exception {
    ControlServer server = ControlServer.start(socket, operations());
    try (server; SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      assertEquals("error invalid unknown request 'snapshot-frobnicate'", exchange(raw, "snapshot-frobnicate"));
      assertTrue(exchange(raw, "snapshot-create").startsWith("error invalid 'snapshot-create' takes 1 argument"));
      assertTrue(exchange(raw, "snapshot-create zz").startsWith("error invalid "), "not hex");
      assertTrue(exchange(raw, "snapshot-create 2f").startsWith("error invalid "), "'/' is not in a name");
      assertEquals("ok", exchange(raw, "snapshot-list"), "still usable");

      String tooLong = "snapshot-create " + "61".repeat(ControlProtocol.MAX_LINE);
      assertTrue(exchange(raw, tooLong).startsWith("error invalid a line is longer than"));
      assertTrue(hungUp(raw), "then the server hangs up");
    }
  }

  @Test
  void manyClientsAtOnce() throws Exception {
    int clients = 8;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    ControlServer server = ControlServer.start(socket, operations());
    try (server) {
      List<Future<SnapshotSummary>> created = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        Name name = Name.of("s" + i);
        created.add(pool.submit(() -> {
          try (ControlClient client = ControlClient.connect(socket)) {
            client.list();
            return client.create(name);
          }
        }));
      }
      for (Future<SnapshotSummary> f : created) {
        f.get();
      }
      try (ControlClient client = ControlClient.connect(socket)) {
        assertEquals(clients, client.list().stream().map(SnapshotSummary::number).distinct().count());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aStaleSocketIsReplacedAndCloseRemovesIt() throws Exception {
    // A killed process leaves its socket file behind, bound to nothing.
    try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      dead.bind(UnixDomainSocketAddress.of(socket));
    }
    assertTrue(Files.exists(socket));

    ControlServer server = ControlServer.start(socket, operations());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    try (ControlClient client = ControlClient.connect(socket)) {
      assertTrue(client.list().isEmpty());
    } finally {
      server.close();
    }
    assertTrue(Files.notExists(socket));
    assertThrows(IOException.class, () -> ControlClient.connect(socket).close());
  }

  @Test
  void closeEndsConnectionsWaitingForARequest() throws Exception {
    ControlServer server = ControlServer.start(socket, operations());
    try (ControlClient idle = ControlClient.connect(socket)) {
      idle.list();
      assertTimeoutPreemptively(TIMEOUT, server::close);
      assertThrows(IOException.class, idle::list);
    }
  }

  /** Whether the peer closed: the end of the stream, or a reset since it left part of a request unread. */
  private static boolean hungUp(SocketChannel channel) {
    try {
      return channel.read(ByteBuffer.allocate(1)) < 0;
    } catch (IOException e) {
      return true;
    }
  }

  /** Sends one request line and reads the first line of the answer. */
  private static String exchange(SocketChannel channel, String request) throws IOException {
    channel.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
    StringBuilder line = new StringBuilder();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (true) {
      one.clear();
      if (channel.read(one) < 0) {
        throw new IOException("closed after: " + line);
      }
      char c = (char) one.get(0);
      if (c == '\n') {
        return line.toString();
      }
      line.append(c);
    }
  }
}
