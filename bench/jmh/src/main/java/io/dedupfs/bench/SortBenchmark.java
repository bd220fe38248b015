package io.dedupfs.bench;

import io.dedupfs.gc.sort.ExternalSorter;
import io.dedupfs.gc.sort.SortedKeys;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Figures for the collector's external sort, as one cold run the way gc runs it (a plain main, not
 * JMH): sorts N random 32-byte chunk ids, one in five a repeat of an earlier id, in a memory budget.
 * Prints the time to add the ids (sorting and spilling each full buffer included), to finish (the
 * intermediate merge passes), and to read every distinct id out of the final merge; runs, passes,
 * and peak RssAnon. Checks that the output is strictly increasing and holds every distinct id.
 *
 * <p>The sorter's buffer is direct memory. With a 16 MiB heap and direct memory capped at the
 * budget plus 1 MiB (for the JDK's temporary I/O buffers, which /proc reads use), the JVM itself
 * refuses anything beyond the budget and a constant:
 *
 * <pre>
 * MALLOC_ARENA_MAX=2 java -Xms16m -Xmx16m -XX:MaxDirectMemorySize=65m -XX:+UseSerialGC \
 *     -cp bench/jmh/target/benchmarks.jar io.dedupfs.bench.SortBenchmark [IDS=10000000] [BUDGET=64M] [TMPDIR]
 * </pre>
 */
public final class SortBenchmark {
  private static final int ID_LENGTH = 32;

  private SortBenchmark() {}

  public static void main(String[] args) throws IOException {
    long count = args.length > 0 ? Long.parseLong(args[0].replace("_", "")) : 10_000_000;
    long budget = args.length > 1 ? size(args[1]) : ExternalSorter.DEFAULT_BUDGET;
    Path temp = Path.of(args.length > 2 ? args[2] : System.getProperty("java.io.tmpdir"));
    System.out.printf(Locale.ROOT, "jvm        %s%n", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
    long baseRss = RssSampler.field("RssAnon");

    try (RssSampler rss = new RssSampler(); ExternalSorter sorter = new ExternalSorter(ID_LENGTH, budget, temp)) {
      long start = System.nanoTime();
      long distinct = addIds(sorter, count);
      long added = System.nanoTime();
      try (SortedKeys keys = sorter.finish()) {
        long finished = System.nanoTime();
        long read = readAndCheck(keys);
        long end = System.nanoTime();
        if (read != distinct) {
          throw new IllegalStateException("read " + read + " distinct ids, expected " + distinct);
        }
        System.out.printf(Locale.ROOT, "ids        %,d added, %,d distinct (%.1f %% repeats), budget %d MiB, temp %s%n",
            count, distinct, 100.0 * (count - distinct) / Math.max(1, count), budget >> 20, temp);
        System.out.printf(Locale.ROOT, "add        %6.2f s  (generating ids, sorting and spilling %d runs)%n",
            seconds(start, added), sorter.spilledRuns());
        System.out.printf(Locale.ROOT, "finish     %6.2f s  (%d merge passes including the final one)%n",
            seconds(added, finished), sorter.mergePasses());
        System.out.printf(Locale.ROOT, "read       %6.2f s  (final merge, %,d ids in strictly increasing order)%n",
            seconds(finished, end), read);
        System.out.printf(Locale.ROOT, "total      %6.2f s%n", seconds(start, end));
        System.out.printf(Locale.ROOT, "memory     peak RssAnon %d MiB (%d MiB before the sorter), VmHWM %d MiB, heap max %d MiB%n",
            rss.peak() >> 20, baseRss >> 20, RssSampler.field("VmHWM") >> 20, Runtime.getRuntime().maxMemory() >> 20);
      }
    }
  }

  /**
   * Adds {@code count} ids: each one a new id with probability 4/5, else a repeat of a random earlier
   * one. An id is a hash of its number, so repeats need no memory. Returns the number of distinct ids.
   */
  private static long addIds(ExternalSorter sorter, long count) throws IOException {
    SplittableRandom random = new SplittableRandom(42);
    ByteBuffer id = ByteBuffer.allocate(ID_LENGTH);
    long distinct = 0;
    for (long i = 0; i < count; i++) {
      long n = distinct > 0 && random.nextInt(5) == 0 ? random.nextLong(distinct) : distinct++;
      id.clear();
      for (int j = 0; j < ID_LENGTH / Long.BYTES; j++) {
        id.putLong(mix(n * 4 + j));
      }
      sorter.add(id.flip());
    }
    return distinct;
  }

  private static long readAndCheck(SortedKeys keys) throws IOException {
    byte[] previous = new byte[ID_LENGTH];
    byte[] current = new byte[ID_LENGTH];
    long read = 0;
    while (keys.next()) {
      keys.key().get(current);
      if (read > 0 && Arrays.compareUnsigned(previous, current) >= 0) {
        throw new IllegalStateException("ids out of order at " + read);
      }
      System.arraycopy(current, 0, previous, 0, ID_LENGTH);
      read++;
    }
    return read;
  }

  /** SplitMix64's finalizer: a bijection, so distinct numbers give distinct ids. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private static long size(String text) {
    String t = text.toUpperCase(Locale.ROOT);
    int shift = t.endsWith("K") ? 10 : t.endsWith("M") ? 20 : t.endsWith("G") ? 30 : 0;
    return Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1)) << shift;
  }

  private static double seconds(long from, long to) {
    return (to - from) / 1e9;
  }

  /** Samples RssAnon from /proc/self/status every 10 ms: the kernel keeps no peak of it. */
  private static final class RssSampler implements AutoCloseable {
    private final Thread thread;
    private volatile long peak;

    RssSampler() {
      thread = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          peak = Math.max(peak, field("RssAnon"));
          try {
            Thread.sleep(10);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "rss-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    long peak() {
      return Math.max(peak, field("RssAnon"));
    }

    /** A field of /proc/self/status in bytes, or -1 where there is none. */
    static long field(String name) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith(name + ":")) {
            return Long.parseLong(line.substring(name.length() + 1).trim().split("\\s+")[0]) * 1024;
          }
        }
      } catch (IOException | NumberFormatException e) {
        return -1;
      }
      return -1;
    }

    @Override
    public void close() {
      thread.interrupt();
    }
  }
}
