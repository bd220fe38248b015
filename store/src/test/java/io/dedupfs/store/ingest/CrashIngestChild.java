package io.dedupfs.store.ingest;

import io.dedupfs.store.repo.Repository;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;

/**
 * Child-process main for {@link CrashTest}: opens {@code REPO} and ingests seeded streams
 * forever, several in flight at once, until it is killed. For every stream whose future
 * completed (durable and indexed) it prints one line
 * {@code committed <contentSeed> <length> <id>:<len>,<id>:<len>,... end}; the parent rebuilds the
 * stream's bytes from the seed with {@link #streamData}. Prints {@code ready} once the repository
 * is open and {@code failed ...} if anything goes wrong.
 */
public final class CrashIngestChild {
  private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
      StandardCharsets.UTF_8);

  /** The bytes of the stream named by {@code contentSeed}: 0 .. 384 KiB, random or compressible. */
  public static byte[] streamData(long contentSeed) {
    SplittableRandom r = new SplittableRandom(contentSeed);
    int kind = r.nextInt(8);
    int length = kind == 0 ? r.nextInt(3) : r.nextInt(384 << 10);
    return kind % 2 == 0 ? PipelineTestKit.randomData(contentSeed, length) : PipelineTestKit.compressibleData(contentSeed, length);
  }

  private static synchronized void print(String line) {
    OUT.print(line + "\n");
    OUT.flush();
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long baseSeed = Long.parseLong(args[1]);
    try {
      Repository repo = Repository.open(dir, Repository.OpenOptions.DEFAULT);
      IngestPipeline pipeline =
          new IngestPipeline(repo, new IngestSettings(8L << 20, 2, Duration.ofMillis(200), 4), Clock.systemUTC());
      print("ready");
      Semaphore inFlight = new Semaphore(6);
      SplittableRandom pick = new SplittableRandom(baseSeed);
      for (long i = 0; ; i++) {
        // every third stream repeats an earlier stream of this run: dedup against committed and in-flight chunks
        long contentSeed = baseSeed * 1_000_000 + (i > 0 && i % 3 == 0 ? pick.nextLong(i) : i);
        byte[] data = streamData(contentSeed);
        inFlight.acquire();
        ChunkStreamWriter w = pipeline.openStream();
        SplittableRandom pieces = new SplittableRandom(contentSeed ^ 0x5DEECE66DL);
        for (int at = 0; at < data.length; ) {
          int n = Math.min(data.length - at, 1 + pieces.nextInt(100 << 10));
          w.write(ByteBuffer.wrap(data, at, n));
          at += n;
        }
        long seed = contentSeed;
        w.finish().whenComplete((refs, e) -> {
          inFlight.release();
          if (e != null) {
            print("failed " + seed + " " + e);
          } else {
            print(line(seed, data.length, refs));
          }
        });
      }
    } catch (Throwable e) {
      print("failed " + e);
      e.printStackTrace();
      System.exit(3);
    }
  }

  private static String line(long seed, int length, List<ChunkRef> refs) {
    StringBuilder b = new StringBuilder("committed ").append(seed).append(' ').append(length).append(' ');
    for (int k = 0; k < refs.size(); k++) {
      b.append(k == 0 ? "" : ",").append(refs.get(k).id().hex()).append(':').append(refs.get(k).length());
    }
    if (refs.isEmpty()) {
      b.append('-');
    }
    return b.append(" end").toString();
  }
}
