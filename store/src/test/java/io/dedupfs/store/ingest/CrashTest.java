package io.dedupfs.store.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ChildJvm;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process ingesting into a repository with SIGKILL at random moments and checks what
 * FORMAT.md §8 promises: the repository opens, every indexed pack is sealed and valid, every
 * chunk the index names reads back verified, every stream reported durable before the kill reads
 * back exactly, and ingest continues.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CrashTest {
  static final int ROUNDS = 5;

  @TempDir Path tmp;

  /** A stream the child reported durable. */
  record Committed(int round, long contentSeed, int length, List<ChunkRef> refs) {}

  static Committed parse(int round, String line) {
    // committed <seed> <length> <id>:<len>,... end
    String[] f = line.split(" ");
    List<ChunkRef> refs = new ArrayList<>();
    if (!f[3].equals("-")) {
      for (String r : f[3].split(",")) {
        int colon = r.indexOf(':');
        refs.add(new ChunkRef(ChunkId.fromHex(r.substring(0, colon)), Integer.parseInt(r.substring(colon + 1))));
      }
    }
    return new Committed(round, Long.parseLong(f[1]), Integer.parseInt(f[2]), refs);
  }

  @Test
  void killedIngestLeavesAConsistentRepository() throws Exception {
    long seed = Long.getLong("crashtest.seed", System.nanoTime());
    String why = " [crashtest.seed=" + seed + "]";
    Random random = new Random(seed);
    Path dir = tmp.resolve("repo");
    Repository.init(dir, RepositoryConfig.create(new ChunkerParameters(1024, 4096, 16384), Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT).close();

    List<Committed> committed = new ArrayList<>();
    int leftovers = 0;
    for (int round = 0; round < ROUNDS; round++) {
      String where = " (round " + round + why + ")";
      // round 0 is killed before anything commits; later rounds after 1..4 commits plus 0..400 ms
      int waitFor = round == 0 ? 0 : 1 + random.nextInt(4);
      int extraDelay = round == 0 ? 150 + random.nextInt(150) : random.nextInt(400);
      List<String> lines;
      try (ChildJvm child = ChildJvm.start(CrashIngestChild.class, tmp.resolve("child" + round + ".err"), dir.toString(),
          Long.toString(1 + round))) {
        child.awaitLine(l -> l.equals("ready"), 30_000);
        for (int seen = 0; seen < waitFor; ) {
          String l;
          try {
            l = child.nextLine(30_000);
          } catch (AssertionError e) {
            throw new AssertionError("waiting for commit " + (seen + 1) + " of " + waitFor + where + ": " + e.getMessage(), e);
          }
          assertFalse(l.startsWith("failed"), "child failed: " + l + where + "\n" + child.stderrText());
          if (l.startsWith("committed ") && l.endsWith(" end")) {
            seen++;
          }
        }
        Thread.sleep(extraDelay);
        child.kill();
        lines = child.allLinesAfterExit(10_000);
        for (String l : lines) {
          assertFalse(l.startsWith("failed"), "child failed: " + l + where + "\n" + child.stderrText());
        }
      }
      int before = committed.size();
      for (String l : lines) {
        // a line torn by the kill lacks its " end" and is not counted
        if (l.startsWith("committed ") && l.endsWith(" end")) {
          committed.add(parse(round, l));
        }
      }
      assertTrue(round == 0 || committed.size() - before >= waitFor, "expected commits in round " + round);

      try (Repository repo = Repository.open(dir, Repository.OpenOptions.DEFAULT)) {
        // every indexed pack sealed and valid, every listed chunk indexed and readable (ChunkReader verifies ids)
        PipelineTestKit.RepoSummary summary = PipelineTestKit.verifyRepository(repo);
        leftovers = summary.unindexedPacks().size();
        // every stream reported durable by any run so far reads back exactly
        try (ChunkReader reader = ChunkReader.of(repo)) {
          for (Committed c : committed) {
            byte[] expected = CrashIngestChild.streamData(c.contentSeed());
            assertEquals(expected.length, c.length(), "child and test disagree on stream " + c.contentSeed() + where);
            PipelineTestKit.assertRefsDescribe(expected, c.refs(), 16384);
            assertArrayEquals(expected, PipelineTestKit.readBack(reader, c.refs()),
                "stream " + c.contentSeed() + " committed in round " + c.round() + " reads back wrong" + where);
            for (ChunkRef r : c.refs()) {
              assertTrue(summary.chunks().contains(r.id()), "committed chunk not in any indexed pack" + where);
            }
          }
        }
        // and ingest continues: new packs are numbered above every pack file, leftovers included
        long highestFile = repo.packs().list().stream().mapToLong(PackNumber::value).max().orElse(0);
        byte[] more = PipelineTestKit.randomData(seed + round, 200 << 10);
        IngestPipeline p = new IngestPipeline(repo, new IngestSettings(8L << 20, 2, Duration.ofMillis(200), 4),
            Clock.systemUTC());
        List<ChunkRef> refs;
        try {
          var f = PipelineTestKit.write(p, more, PipelineTestKit.Pieces.RANDOM, seed);
          p.flush();
          refs = PipelineTestKit.await(f);
          assertTrue(p.stats().newChunks() > 0);
        } finally {
          p.close();
        }
        for (ChunkRef r : refs) {
          long pack = repo.index().find(r.id()).orElseThrow().pack().value();
          assertTrue(pack > highestFile, "new pack " + pack + " reuses a number at or below existing pack " + highestFile + where);
        }
        try (ChunkReader reader = ChunkReader.of(repo)) {
          assertArrayEquals(more, PipelineTestKit.readBack(reader, refs), "ingest after crash" + where);
        }
        PipelineTestKit.verifyRepository(repo);
      }
    }
    assertTrue(committed.size() >= ROUNDS - 1, "too few streams committed to test anything: " + committed.size() + why);
    System.out.println("CrashTest: " + committed.size() + " committed streams verified over " + ROUNDS
        + " kills; unindexed leftover packs at the end: " + leftovers + why);
  }
}
