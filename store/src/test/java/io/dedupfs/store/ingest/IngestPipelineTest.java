package io.dedupfs.store.ingest;

import static io.dedupfs.store.ingest.PipelineTestKit.assertRefsDescribe;
import static io.dedupfs.store.ingest.PipelineTestKit.await;
import static io.dedupfs.store.ingest.PipelineTestKit.compressibleData;
import static io.dedupfs.store.ingest.PipelineTestKit.randomData;
import static io.dedupfs.store.ingest.PipelineTestKit.readBack;
import static io.dedupfs.store.ingest.PipelineTestKit.uniqueBytes;
import static io.dedupfs.store.ingest.PipelineTestKit.verifyRepository;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.Chunker;
import io.dedupfs.store.chunk.GearTable;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.ChunkLocation;
import io.dedupfs.store.ingest.PipelineTestKit.Pieces;
import io.dedupfs.store.pack.PackCodec;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IngestPipelineTest {
  static final ChunkerParameters SMALL = new ChunkerParameters(1024, 4096, 16384);
  static final long BUDGET = 8L << 20;
  static final int WORKERS = 2;

  @TempDir Path tmp;

  static Repository newRepo(Path dir, Compression compression) throws IOException {
    return Repository.init(dir, RepositoryConfig.create(SMALL, compression), Repository.OpenOptions.DEFAULT);
  }

  static IngestSettings settings(long budget, Duration commitInterval) {
    return new IngestSettings(budget, WORKERS, commitInterval, 4);
  }

  static IngestPipeline pipeline(Repository repo) throws IOException {
    return new IngestPipeline(repo, settings(BUDGET, Duration.ofSeconds(5)), Clock.systemUTC());
  }

  // ---------------------------------------------------------------- round trip

  @Test
  void roundTripOfManyKindsOfStreams() throws Exception {
    record Case(String name, byte[] data, Pieces pieces) {}
    List<Case> cases = List.of(
        new Case("empty", new byte[0], Pieces.WHOLE),
        new Case("empty, random pieces", new byte[0], Pieces.RANDOM),
        new Case("one byte", new byte[] {42}, Pieces.WHOLE),
        new Case("one byte as single-byte write", new byte[] {-1}, Pieces.SINGLE_BYTES),
        new Case("below min chunk", randomData(1, 1000), Pieces.WHOLE),
        new Case("exactly max chunk", randomData(2, 16384), Pieces.WHOLE),
        new Case("max chunk + 1", randomData(3, 16385), Pieces.RANDOM),
        new Case("3 MiB random, whole", randomData(4, 3 << 20), Pieces.WHOLE),
        new Case("3 MiB random, random pieces", randomData(5, 3 << 20), Pieces.RANDOM),
        new Case("2 MiB compressible, random pieces", compressibleData(6, 2 << 20), Pieces.RANDOM),
        new Case("1 MiB zeros (identical max-size chunks)", new byte[1 << 20], Pieces.WHOLE),
        new Case("200 KiB random, 1-byte writes", randomData(7, 200 << 10), Pieces.SINGLE_BYTES),
        new Case("100 KiB compressible, 1-byte writes", compressibleData(8, 100 << 10), Pieces.SINGLE_BYTES));

    Path dir = tmp.resolve("repo");
    List<List<ChunkRef>> results = new ArrayList<>();
    long totalBytes = 0;
    try (Repository repo = newRepo(dir, Compression.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      try {
        List<CompletableFuture<List<ChunkRef>>> futures = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
          futures.add(PipelineTestKit.write(p, cases.get(i).data(), cases.get(i).pieces(), 100 + i));
          totalBytes += cases.get(i).data().length;
        }
        p.flush();
        for (int i = 0; i < cases.size(); i++) {
          CompletableFuture<List<ChunkRef>> f = futures.get(i);
          assertTrue(f.isDone(), "after flush() the future of '" + cases.get(i).name() + "' must be complete");
          results.add(await(f));
        }
        IngestStats s = p.stats();
        assertEquals(totalBytes, s.newBytes() + s.duplicateBytes(), "every byte is either new or a duplicate");
        assertEquals(results.stream().mapToLong(List::size).sum(), s.newChunks() + s.duplicateChunks());
      } finally {
        p.close();
      }
      try (ChunkReader reader = ChunkReader.of(repo)) {
        for (int i = 0; i < cases.size(); i++) {
          Case c = cases.get(i);
          List<ChunkRef> refs = results.get(i);
          assertRefsDescribe(c.data(), refs, SMALL.max());
          assertArrayEquals(c.data(), readBack(reader, refs), "read back of '" + c.name() + "'");
          if (c.data().length == 0) {
            assertEquals(List.of(), refs, "an empty stream has no chunks");
          }
        }
      }
      assertEquals(1, results.get(2).size());
      assertEquals(1, results.get(2).get(0).length());
      // zeros: every chunk starts from the same state on the same bytes, so all but the last are one chunk
      List<ChunkRef> zeros = results.get(10);
      assertTrue(zeros.size() >= (1 << 20) / SMALL.max(), "1 MiB of zeros in chunks of at most 16 KiB");
      assertEquals(1, new HashSet<>(zeros.subList(0, zeros.size() - 1).stream().map(ChunkRef::id).toList()).size(),
          "all zero chunks (but the last) are the same chunk");
      verifyRepository(repo);
    }
    // and everything is still there after reopening
    try (Repository repo = Repository.open(dir, Repository.OpenOptions.DEFAULT);
        ChunkReader reader = ChunkReader.of(repo)) {
      for (int i = 0; i < cases.size(); i++) {
        assertArrayEquals(cases.get(i).data(), readBack(reader, results.get(i)), "after reopen: " + cases.get(i).name());
      }
    }
  }

  @Test
  void chunkBoundariesDoNotDependOnHowTheStreamIsWritten() throws Exception {
    // Past 1 MiB, the larger of the random pieces are chunked on the pipeline's chunker threads.
    byte[] data = randomData(11, 2 << 20);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      try {
        var whole = PipelineTestKit.write(p, data, Pieces.WHOLE, 0);
        var pieces = PipelineTestKit.write(p, data, Pieces.RANDOM, 12);
        var bytes = PipelineTestKit.write(p, data, Pieces.SINGLE_BYTES, 0);
        p.flush();
        List<ChunkRef> expected = await(whole);
        assertTrue(expected.size() > 200, "2 MiB with 4 KiB average chunks should give many chunks, got " + expected.size());
        assertEquals(expected, await(pieces), "random-sized writes must give the same chunks as one write");
        assertEquals(expected, await(bytes), "1-byte writes must give the same chunks as one write");
        assertEquals(expected.size(), p.stats().newChunks());
        assertEquals(2L * expected.size(), p.stats().duplicateChunks());
      } finally {
        p.close();
      }
    }
  }

  @Test
  void futuresCompleteByTheCommitTimerWithoutFlush() throws Exception {
    byte[] data = randomData(21, 300 << 10);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IngestPipeline p = new IngestPipeline(repo, settings(BUDGET, Duration.ofMillis(200)), Clock.systemUTC());
      try {
        List<ChunkRef> refs = PipelineTestKit.write(p, data, Pieces.WHOLE, 0).get(20, TimeUnit.SECONDS);
        // durable means: in the index, in a sealed pack, readable by a fresh reader
        try (ChunkReader reader = ChunkReader.of(repo)) {
          assertArrayEquals(data, readBack(reader, refs));
        }
        for (ChunkRef r : refs) {
          ChunkLocation loc = repo.index().find(r.id()).orElseThrow();
          assertTrue(repo.index().findPack(loc.pack()).isPresent(), "chunk names a pack the index does not know");
          PackReader.readIndex(repo.packs(), loc.pack(), repo.encryption());
        }
      } finally {
        p.close();
      }
    }
  }

  /** The chunking FORMAT.md §4 prescribes, computed with the chunker over the whole buffer at once. */
  static List<ChunkRef> referenceChunking(Repository repo, byte[] data) throws Exception {
    Chunker chunker = new Chunker(repo.config().chunker(), GearTable.fromSeed(repo.config().gearSeed()));
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(data);
    List<ChunkRef> refs = new ArrayList<>();
    int start = 0;
    while (start < data.length) {
      int cut = chunker.scan(buf, start, data.length);
      int end = cut == Chunker.NO_CUT ? data.length : start + cut;
      sha.update(data, start, end - start);
      refs.add(new ChunkRef(io.dedupfs.store.chunk.ChunkId.of(sha.digest()), end - start));
      start = end;
    }
    return refs;
  }

  @Test
  void pipelineChunkingMatchesTheReferenceChunker() throws Exception {
    byte[] data = randomData(22, 300 << 10);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      try {
        var f = PipelineTestKit.write(p, data, Pieces.RANDOM, 5);
        p.flush();
        assertEquals(referenceChunking(repo, data), await(f));
      } finally {
        p.close();
      }
    }
  }

  @Test
  void chunksAppendedButNotCommittedCanBeLocatedAndRead() throws Exception {
    // Text in small chunks: they go into blocks, the first ones full (and so appended) long before the flush.
    byte[] data = compressibleData(24, 4 << 20);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT);
        ChunkReader reader = ChunkReader.of(repo)) {
      List<ChunkRef> expected = referenceChunking(repo, data);
      // a 10-minute commit interval and no flush: chunks get appended to the open pack but not committed
      IngestPipeline p = new IngestPipeline(repo, settings(BUDGET, Duration.ofMinutes(10)), Clock.systemUTC());
      try {
        var f = PipelineTestKit.write(p, data, Pieces.WHOLE, 0);
        long deadline = System.currentTimeMillis() + 10_000;
        // What the last block holds is appended only when it fills or is flushed.
        int appended = (data.length - BlockBuilder.CAPACITY) / 2;
        while (bytesLocated(p, expected) < appended) {
          assertTrue(System.currentTimeMillis() < deadline, "chunks were never appended");
          Thread.sleep(5);
        }
        assertFalse(f.isDone(), "nothing is durable before its pack is sealed and committed");
        int at = 0;
        int read = 0;
        for (ChunkRef r : expected) {
          assertTrue(repo.index().find(r.id()).isEmpty(), "an uncommitted chunk must not be in the index");
          var located = p.locateUncommitted(r.id());
          if (located.isPresent()) {
            ChunkLocation loc = located.get();
            assertTrue(repo.index().findPack(loc.pack()).isEmpty());
            java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocateDirect(r.length());
            reader.read(r.id(), loc, dst);
            byte[] got = new byte[r.length()];
            dst.flip().get(got);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + r.length()), got, "uncommitted chunk at " + at);
            read += r.length();
          }
          at += r.length();
        }
        assertTrue(read >= appended, "read " + read + " uncommitted bytes");
        p.flush();
        assertTrue(f.isDone(), "flush() makes everything durable");
        assertEquals(expected, await(f));
        for (ChunkRef r : expected) {
          assertTrue(p.locateUncommitted(r.id()).isEmpty(), "a committed chunk is no longer in flight");
          assertTrue(repo.index().find(r.id()).isPresent());
        }
      } finally {
        p.close();
      }
    }
  }

  private static long bytesLocated(IngestPipeline p, List<ChunkRef> refs) {
    return refs.stream().filter(r -> p.locateUncommitted(r.id()).isPresent()).mapToLong(ChunkRef::length).sum();
  }

  @Test
  void writeAfterFinishIsRefused() throws Exception {
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      try {
        ChunkStreamWriter w = p.openStream();
        w.write(java.nio.ByteBuffer.wrap(randomData(1, 5000)));
        CompletableFuture<List<ChunkRef>> f = w.finish();
        assertThrows(IllegalStateException.class, () -> w.write(java.nio.ByteBuffer.wrap(new byte[1])));
        p.flush();
        assertEquals(5000, await(f).stream().mapToInt(ChunkRef::length).sum());
      } finally {
        p.close();
      }
    }
  }

  // ---------------------------------------------------------------- dedup

  @Test
  void secondIngestOfTheSameDataInANewPipelineStoresNothing() throws Exception {
    byte[] random = randomData(31, 3 << 20);
    byte[] text = compressibleData(32, 1 << 20);
    byte[] data = new byte[random.length + text.length];
    System.arraycopy(random, 0, data, 0, random.length);
    System.arraycopy(text, 0, data, random.length, text.length);
    Path dir = tmp.resolve("repo");

    List<ChunkRef> first;
    int packsAfterFirst;
    ChunkIndex.Counts countsAfterFirst;
    try (Repository repo = newRepo(dir, Compression.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      try {
        var f = PipelineTestKit.write(p, data, Pieces.RANDOM, 33);
        p.flush();
        first = await(f);
        IngestStats s = p.stats();
        assertEquals(uniqueBytes(first), s.newBytes(), "first ingest stores each distinct chunk once");
        assertEquals(data.length - uniqueBytes(first), s.duplicateBytes());
      } finally {
        p.close();
      }
      packsAfterFirst = repo.packs().list().size();
      assertTrue(packsAfterFirst >= 1);
      countsAfterFirst = repo.index().counts();
    }

    try (Repository repo = Repository.open(dir, Repository.OpenOptions.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      List<ChunkRef> second;
      try {
        var f = PipelineTestKit.write(p, data, Pieces.WHOLE, 0);
        p.flush();
        second = await(f);
        IngestStats s = p.stats();
        assertEquals(0, s.newChunks(), "nothing is new the second time");
        assertEquals(0, s.newBytes());
        assertEquals(0, s.storedBytes());
        assertEquals(data.length, s.duplicateBytes(), "every byte is a duplicate the second time");
        assertEquals(second.size(), s.duplicateChunks());
        assertEquals(0, s.packsSealed(), "no pack is written when nothing is new");
      } finally {
        p.close();
      }
      assertEquals(first, second, "the same data chunks the same way in a reopened repository");
      assertEquals(packsAfterFirst, repo.packs().list().size(), "the second ingest must not add packs");
      assertEquals(countsAfterFirst, repo.index().counts(), "the second ingest must not change the index");
      try (ChunkReader reader = ChunkReader.of(repo)) {
        assertArrayEquals(data, readBack(reader, second));
      }
      verifyRepository(repo);
    }
  }

  @Test
  void identicalStreamsWrittenConcurrentlyAreStoredOnce() throws Exception {
    int threads = 8;
    byte[] data = randomData(41, 2 << 20);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      // a short commit interval, so that some copies find the chunk in flight and others already committed
      IngestPipeline p = new IngestPipeline(repo, settings(BUDGET, Duration.ofMillis(100)), Clock.systemUTC());
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<List<ChunkRef>> results = new ArrayList<>();
      try {
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<CompletableFuture<List<ChunkRef>>>> submitted = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int seed = 400 + t;
          submitted.add(pool.submit(() -> {
            start.await();
            return PipelineTestKit.write(p, data, Pieces.RANDOM, seed);
          }));
        }
        List<CompletableFuture<List<ChunkRef>>> futures = new ArrayList<>();
        for (var s : submitted) {
          futures.add(s.get(60, TimeUnit.SECONDS));
        }
        p.flush();
        for (var f : futures) {
          results.add(await(f));
        }
        IngestStats s = p.stats();
        List<ChunkRef> one = results.get(0);
        for (int t = 1; t < threads; t++) {
          assertEquals(one, results.get(t), "stream " + t + " chunked differently from stream 0");
        }
        assertRefsDescribe(data, one, SMALL.max());
        long unique = uniqueBytes(one);
        long distinct = one.stream().map(ChunkRef::id).distinct().count();
        assertEquals(unique, s.newBytes(), "identical concurrent streams must be stored once");
        assertEquals(distinct, s.newChunks());
        assertEquals((long) threads * data.length - unique, s.duplicateBytes());
        assertEquals(distinct, repo.index().counts().chunks(), "the index holds each chunk once");
      } finally {
        pool.shutdownNow();
        p.close();
      }
      long stored = 0;
      for (PackNumber pack : repo.packs().list()) {
        stored += PackReader.readIndex(repo.packs(), pack, repo.encryption()).size();
      }
      assertEquals(repo.index().counts().chunks(), stored, "no chunk is written to the packs twice");
      try (ChunkReader reader = ChunkReader.of(repo)) {
        assertArrayEquals(data, readBack(reader, results.get(threads - 1)));
      }
      verifyRepository(repo);
    }
  }

  // ---------------------------------------------------------------- memory

  @Test
  void memoryStaysWithinTheBudgetUnderConcurrentLoad() throws Exception {
    runUnderBudget(BUDGET, 4, 16 << 20);
  }

  @Test
  void theSmallestAllowedBudgetStillIngestsConcurrentStreams() throws Exception {
    long min = (long) (WORKERS + 2) * BufferPool.classSize(SMALL.max()) + BlockBuilder.reservedBytes(0);
    runUnderBudget(min, 4, 1 << 20);
  }

  private void runUnderBudget(long budget, int threads, int bytesPerThread) throws Exception {
    byte[][] inputs = new byte[threads][];
    for (int t = 0; t < threads; t++) {
      // half random, half compressible, so compression and RAW paths both run
      inputs[t] = t % 2 == 0 ? randomData(500 + t, bytesPerThread) : compressibleData(500 + t, bytesPerThread);
    }
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IngestPipeline p = new IngestPipeline(repo, settings(budget, Duration.ofMillis(300)), Clock.systemUTC());
      AtomicBoolean sampling = new AtomicBoolean(true);
      AtomicLong maxSeen = new AtomicLong();
      AtomicLong samples = new AtomicLong();
      AtomicLong budgetSeen = new AtomicLong();
      Thread sampler = new Thread(() -> {
        while (sampling.get()) {
          IngestStats s = p.stats();
          budgetSeen.set(s.memoryBudget());
          maxSeen.accumulateAndGet(s.memoryInUse(), Math::max);
          samples.incrementAndGet();
          java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
      }, "memory-sampler");
      sampler.setDaemon(true);
      sampler.start();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<List<ChunkRef>> results = new ArrayList<>();
      try {
        List<Future<List<ChunkRef>>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int i = t;
          done.add(pool.submit(() -> {
            var f = PipelineTestKit.write(p, inputs[i], i == 0 ? Pieces.RANDOM : Pieces.SLICES_64K, 600 + i);
            return f.get(60, TimeUnit.SECONDS);
          }));
        }
        for (var d : done) {
          results.add(d.get(60, TimeUnit.SECONDS));
        }
      } finally {
        sampling.set(false);
        sampler.join(5000);
        pool.shutdownNow();
        p.close();
      }
      assertEquals(budget, budgetSeen.get(), "stats().memoryBudget() reports the configured budget");
      assertTrue(samples.get() > 100, "the sampler ran only " + samples.get() + " times");
      assertTrue(maxSeen.get() > 0, "memory in use was never observed above zero");
      assertTrue(maxSeen.get() <= budget,
          "memory in use reached " + maxSeen.get() + " bytes, above the budget of " + budget);
      assertEquals(0, p.stats().memoryInUse(), "after close() every buffer is returned to the budget");
      try (ChunkReader reader = ChunkReader.of(repo)) {
        for (int t = 0; t < threads; t++) {
          assertRefsDescribe(inputs[t], results.get(t), SMALL.max());
          assertArrayEquals(inputs[t], readBack(reader, results.get(t)), "stream " + t);
        }
      }
    }
  }

  @Test
  void oneThreadCanWriteManyOpenStreamsRoundRobin() throws Exception {
    // A FUSE process has many files open at once and one thread may serve writes to all of them
    // (ChunkStreamWriter is "used by one thread at a time", not by one thread only). Each open
    // stream holds a staging buffer until it is finished; the pipeline caps stagings as a whole at
    // (budget - workers * largest buffer) / 2 and acquireStaging() waits, without limit, for another
    // stream to give its staging back. If the waiting thread is the one that would finish those
    // streams, it waits forever.
    int streams = 300;
    byte[] piece = randomData(91, 10 << 10);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IngestPipeline p = pipeline(repo);
      List<ChunkStreamWriter> writers = new ArrayList<>();
      AtomicLong opened = new AtomicLong();
      try {
        // Only a deadlock takes this long: the writes take well under a second, but CI machines stall.
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
          for (int i = 0; i < streams; i++) {
            ChunkStreamWriter w = p.openStream();
            writers.add(w);
            w.write(java.nio.ByteBuffer.wrap(piece));
            opened.incrementAndGet();
          }
        }, () -> "BUG: one thread writing 10 KiB into each of " + streams + " open streams (8 MiB budget, "
            + WORKERS + " workers) blocked forever in ChunkStreamWriter.write -> IngestPipeline.acquireStaging "
            + "after " + opened.get() + " streams: every staging is held by an unfinished stream of the same thread, "
            + "so the wait can never end (no cut of idle stagings, no error)");
        List<CompletableFuture<List<ChunkRef>>> futures = new ArrayList<>();
        for (ChunkStreamWriter w : writers) {
          futures.add(w.finish());
        }
        p.flush();
        for (var f : futures) {
          assertEquals(piece.length, await(f).stream().mapToInt(ChunkRef::length).sum());
        }
      } finally {
        writers.forEach(ChunkStreamWriter::close);
        p.close();
      }
    }
  }

  @Test
  void aBudgetBelowTheMinimumIsRefusedWithAMessageNamingAWorkingMinimum() throws Exception {
    long min = (long) (WORKERS + 2) * BufferPool.classSize(SMALL.max()) + BlockBuilder.reservedBytes(0);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new IngestPipeline(repo, settings(min - 1024, Duration.ofSeconds(5)), Clock.systemUTC()));
      assertTrue(e.getMessage().contains("memory budget too small"), e.getMessage());
      // the exact minimum works
      new IngestPipeline(repo, settings(min, Duration.ofSeconds(5)), Clock.systemUTC()).close();

      // the minimum the message states must itself be accepted (it is what a user will pass to --memory)
      Matcher m = Pattern.compile("at least (\\d+) ?(bytes|B|KiB|MiB|GiB)").matcher(e.getMessage());
      assertTrue(m.find(), "message does not state a minimum: " + e.getMessage());
      long stated = Long.parseLong(m.group(1)) * switch (m.group(2)) {
        case "KiB" -> 1L << 10;
        case "MiB" -> 1L << 20;
        case "GiB" -> 1L << 30;
        default -> 1L;
      };
      assertTrue(stated >= min, "BUG: IllegalArgumentException says the budget 'must be at least " + m.group(1) + " "
          + m.group(2) + "' but the real minimum for " + WORKERS + " workers and " + SMALL.max()
          + "-byte max chunks is " + min + " bytes (the message rounds down to whole MiB): " + e.getMessage());
      new IngestPipeline(repo, settings(stated, Duration.ofSeconds(5)), Clock.systemUTC()).close();
    }
  }

  @Test
  void minimumBudgetMessageIsExactForMegabyteChunks() throws Exception {
    ChunkerParameters big = ChunkerParameters.DEFAULT; // max 4 MiB
    try (Repository repo = Repository.init(tmp.resolve("repo"), RepositoryConfig.create(big, Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT)) {
      long min = (long) (WORKERS + 2) * BufferPool.classSize(big.max()) + BlockBuilder.reservedBytes(0);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new IngestPipeline(repo, settings(min - 1024, Duration.ofSeconds(5)), Clock.systemUTC()));
      assertTrue(e.getMessage().contains("at least " + min + " bytes (" + (min >> 20) + " MiB)"), e.getMessage());
      new IngestPipeline(repo, settings(min, Duration.ofSeconds(5)), Clock.systemUTC()).close();
    }
  }

  // ---------------------------------------------------------------- compression

  @Test
  void compressibleDataIsStoredCompressedAndRandomDataRaw() throws Exception {
    byte[] text = compressibleData(51, 2 << 20);
    byte[] random = randomData(52, 2 << 20);
    try (Repository repo = newRepo(tmp.resolve("repo"), Compression.DEFAULT)) {
      List<ChunkRef> textRefs;
      IngestStats afterText;
      IngestPipeline p = pipeline(repo);
      try {
        var f = PipelineTestKit.write(p, text, Pieces.WHOLE, 0);
        p.flush();
        textRefs = await(f);
        afterText = p.stats();
        assertEquals(uniqueBytes(textRefs), afterText.newBytes());
        assertTrue(afterText.storedBytes() * 3 < afterText.newBytes(),
            "compressible data: stored " + afterText.storedBytes() + " of " + afterText.newBytes() + " bytes");
      } finally {
        p.close();
      }
      for (ChunkRef r : textRefs) {
        ChunkLocation loc = repo.index().find(r.id()).orElseThrow();
        // The stream's last chunk may be a few bytes (the gear seed, so the cut points, are random per
        // repository), and a few bytes need not compress: every chunk of full size must.
        // Chunks this small are stored in blocks (FORMAT.md §5.1), whose shares are what they cost.
        if (r.length() >= SMALL.min()) {
          assertEquals(ChunkEncoding.BLOCK, loc.encoding(), () -> "compressible chunk of " + r.length() + " bytes stored as " + loc.encoding());
          assertTrue(loc.storedShare() < loc.plainLength());
        }
      }

      List<ChunkRef> randomRefs;
      p = pipeline(repo);
      try {
        var f = PipelineTestKit.write(p, random, Pieces.WHOLE, 0);
        p.flush();
        randomRefs = await(f);
        IngestStats s = p.stats();
        assertEquals(random.length, s.newBytes());
        assertEquals(s.newBytes(), s.storedBytes(), "random data is stored as is, not larger");
      } finally {
        p.close();
      }
      for (ChunkRef r : randomRefs) {
        ChunkLocation loc = repo.index().find(r.id()).orElseThrow();
        assertEquals(ChunkEncoding.RAW, loc.encoding(), "incompressible chunk must be stored RAW, not in a block");
        assertEquals(loc.plainLength(), loc.storedLength());
      }
      try (ChunkReader reader = ChunkReader.of(repo)) {
        assertArrayEquals(text, readBack(reader, textRefs));
        assertArrayEquals(random, readBack(reader, randomRefs));
      }
      verifyRepository(repo);
    }
  }

  @Test
  void repositoryWithoutCompressionStoresEverythingRaw() throws Exception {
    byte[] text = compressibleData(61, 1 << 20);
    byte[] random = randomData(62, 1 << 20);
    Path dir = tmp.resolve("repo");
    List<ChunkRef> textRefs;
    List<ChunkRef> randomRefs;
    try (Repository repo = newRepo(dir, Compression.NONE)) {
      IngestPipeline p = pipeline(repo);
      try {
        var f1 = PipelineTestKit.write(p, text, Pieces.RANDOM, 63);
        var f2 = PipelineTestKit.write(p, random, Pieces.WHOLE, 0);
        p.flush();
        textRefs = await(f1);
        randomRefs = await(f2);
        IngestStats s = p.stats();
        assertEquals(uniqueBytes(textRefs) + uniqueBytes(randomRefs), s.newBytes());
        assertEquals(s.newBytes(), s.storedBytes(), "without compression stored bytes equal plaintext bytes");
        assertEquals(1, s.packsSealed());
      } finally {
        p.close();
      }
      // the one pack's length is exactly header + chunks + index + trailer (FORMAT.md §5)
      List<PackNumber> packs = repo.packs().list();
      assertEquals(1, packs.size());
      List<PackIndexEntry> entries = PackReader.readIndex(repo.packs(), packs.get(0), repo.encryption());
      long chunkBytes = 0;
      for (PackIndexEntry e : entries) {
        assertEquals(ChunkEncoding.RAW, e.encoding());
        assertEquals(e.plainLength(), e.storedLength());
        chunkBytes += e.storedLength();
      }
      assertEquals(PackCodec.HEADER_LENGTH + chunkBytes + PackCodec.indexLength(entries.size()) + PackCodec.TRAILER_LENGTH,
          repo.packs().size(packs.get(0)));
      verifyRepository(repo);
    }
    try (Repository repo = Repository.open(dir, Repository.OpenOptions.DEFAULT);
        ChunkReader reader = ChunkReader.of(repo)) {
      assertEquals(Compression.NONE, repo.config().compression());
      assertArrayEquals(text, readBack(reader, textRefs));
      assertArrayEquals(random, readBack(reader, randomRefs));
    }
  }

  @Test
  void newPacksAreNumberedAboveEveryExistingPackFile() throws Exception {
    Path dir = tmp.resolve("repo");
    try (Repository repo = newRepo(dir, Compression.DEFAULT)) {
      // a crash leftover: an unindexed pack file with a high number (FORMAT.md §8 invariant 4)
      var out = repo.packs().create(new PackNumber(77));
      out.write(PackCodec.encodeHeader(new PackNumber(77), Encryption.NONE));
      out.close();
      IngestPipeline p = pipeline(repo);
      List<ChunkRef> refs;
      try {
        var f = PipelineTestKit.write(p, randomData(71, 100 << 10), Pieces.WHOLE, 0);
        p.flush();
        refs = await(f);
      } finally {
        p.close();
      }
      for (ChunkRef r : refs) {
        long pack = repo.index().find(r.id()).orElseThrow().pack().value();
        assertTrue(pack > 77, "new pack " + pack + " must be numbered above the leftover pack 77");
      }
      var summary = verifyRepository(repo);
      assertEquals(List.of(new PackNumber(77)), summary.unindexedPacks());
    }
  }

  @Test
  void theRepositorysGearSeedDecidesTheChunkBoundaries() throws Exception {
    // two repositories have different random gear seeds: the same bytes are cut differently
    // (both chunkings still describe the data exactly)
    byte[] data = randomData(81, 100 << 10);
    List<List<ChunkRef>> chunkings = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      try (Repository repo = newRepo(tmp.resolve(name), Compression.DEFAULT)) {
        IngestPipeline p = pipeline(repo);
        try {
          var f = PipelineTestKit.write(p, data, Pieces.WHOLE, 0);
          p.flush();
          List<ChunkRef> refs = await(f);
          assertRefsDescribe(data, refs, SMALL.max());
          chunkings.add(refs);
        } finally {
          p.close();
        }
      }
    }
    assertNotEquals(chunkings.get(0), chunkings.get(1),
        "two repositories with different gear seeds cut 100 KiB of random data identically: is the gear seed ignored?");
  }
}
