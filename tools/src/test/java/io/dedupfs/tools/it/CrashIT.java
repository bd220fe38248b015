package io.dedupfs.tools.it;

import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the filesystem process while files are being written, then a mount again, as after a
 * crash. What fsync(2) returned for must survive exactly: the fsync'ed bytes of a file, and the
 * whole of a file not written to since. Everything else may be cut short or missing, but what is
 * there must be a prefix of what was written, read without an I/O error, and must not change
 * through later crashes; the mount, directory listing and new writes must work. Rounds kill while
 * several files are mid-write and others were just closed without fsync, one test during one
 * large streaming write. Each round prints what was owed and what was found.
 *
 * <p>Seeds are printed; {@code -Dit.seed=N} repeats a run's data and choices, though not its timing.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CrashIT {
  private static final int ROUNDS = 5;
  private static final int IN_PROGRESS = 3;
  /** More than an in-progress writer gets through before the kill: it is always cut off. */
  private static final long UNENDING = 4L << 30;
  private static final long STREAM = 200L << 20;
  private static final long STREAM_SYNC_AT = 32L << 20;

  @TempDir Path tmp;
  private Mounted m;
  /** Every file written so far, in every round: each is checked after every crash. */
  private final List<Written> all = new ArrayList<>();
  private final AtomicBoolean killed = new AtomicBoolean();

  @AfterEach
  void unmount() throws Exception {
    if (m != null) {
      m.close();
    }
  }

  /**
   * A file this test wrote and what the filesystem owes for it. Before a crash that is what an
   * fsync covered; after one, what was found then, since nothing writes to it again.
   */
  private static final class Written {
    final String name;
    final String kind;
    final long seed;
    final long target;
    /** Bytes write(2) accepted before the writer closed the file or the kill cut it off. */
    final AtomicLong accepted = new AtomicLong();
    /** Bytes that must be there; -1 if the file may be missing. */
    volatile long owed = -1;
    /** If set, the file must be exactly its owed bytes, with this SHA-256: nothing was written after them. */
    volatile String sha256;
    /** Found missing after a crash, and never written again: must stay missing. */
    boolean absent;

    Written(String name, String kind, long seed, long target) {
      this.name = name;
      this.kind = kind;
      this.seed = seed;
      this.target = target;
    }

    String owedText() {
      return absent ? "nothing" : owed < 0 ? "nothing yet" : (sha256 != null ? "exactly " : "at least ") + Data.size(owed);
    }
  }

  @Test
  void killedWhileWritingKeepsWhatWasFsynced() throws Exception {
    long seed = Long.getLong("it.seed", System.nanoTime());
    System.out.println("[CrashIT] rounds: -Dit.seed=" + seed);
    SplittableRandom r = new SplittableRandom(seed);
    m = Mounted.fresh(tmp);
    for (int round = 0; round < ROUNDS; round++) {
      String dir = "round" + round;
      Files.createDirectories(m.mountpoint.resolve(dir + "/sub"));
      List<Written> written = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(IN_PROGRESS);
      try {
        // Started first, so fsyncs below seal packs that hold their pending chunks too.
        List<Future<?>> writers = new ArrayList<>();
        for (int i = 0; i < IN_PROGRESS; i++) {
          // One in three fsyncs part way, then goes on.
          long syncAt = i == 0 ? r.nextLong(1, 4L << 20) : -1;
          Written w = new Written(dir + "/progress" + i + ".bin", "in progress", r.nextLong(), UNENDING);
          written.add(w);
          SplittableRandom sizes = r.split();
          writers.add(pool.submit(() -> writeUntilKilled(w, syncAt, sizes)));
        }
        written.add(write(new Written(dir + "/sub/empty.bin", "durable", r.nextLong(), 0), 0, r));
        written.add(write(new Written(dir + "/small.bin", "durable", r.nextLong(), r.nextInt(1, 4096)), -2, r));
        for (int i = 0; i < 4; i++) {
          String name = dir + (i % 2 == 0 ? "/sub" : "") + "/durable" + i + ".bin";
          written.add(write(new Written(name, "durable", r.nextLong(), r.nextLong(64 << 10, 6L << 20)), -2, r));
        }
        for (int i = 0; i < 2; i++) {
          long length = r.nextLong(2L << 20, 8L << 20);
          written.add(write(new Written(dir + "/grown" + i + ".bin", "grown", r.nextLong(), length), r.nextLong(length), r));
        }
        for (int i = 0; i < 4; i++) {
          long length = r.nextLong(4096, 4L << 20);
          written.add(write(new Written(dir + "/unsynced" + i + ".bin", "unsynced", r.nextLong(), length), -1, r));
        }
        all.addAll(written);
        // Round 0 kills right after the last close; the others up to 1.5 s later.
        long delay = round == 0 ? 0 : r.nextLong(1500);
        Thread.sleep(delay);
        crash("round " + round + " (killed " + delay + " ms after the last close)", written, writers);
      } finally {
        pool.shutdownNow();
      }
      assertNewWritesWork("after-round" + round + ".bin", r);
    }
    m.unmount();
    m.mount();
    assertAllAsOwed();
  }

  @Test
  void killedDuringALargeStreamingWrite() throws Exception {
    long seed = Long.getLong("it.seed", System.nanoTime());
    System.out.println("[CrashIT] stream: -Dit.seed=" + seed);
    SplittableRandom r = new SplittableRandom(seed);
    m = Mounted.fresh(tmp);
    List<Written> written = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      written.add(write(new Written("before" + i + ".bin", "durable", r.nextLong(), r.nextLong(1L << 20, 8L << 20)), -2, r));
    }
    Written stream = new Written("stream.bin", "streaming", r.nextLong(), STREAM);
    written.add(stream);
    all.addAll(written);
    // Anywhere in the second half of the write, well after its fsync.
    long killAt = r.nextLong(STREAM / 2, STREAM - (8L << 20));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      SplittableRandom sizes = r.split();
      Future<?> writer = pool.submit(() -> writeUntilKilled(stream, STREAM_SYNC_AT, sizes));
      while (stream.accepted.get() < killAt && !writer.isDone()) {
        Thread.sleep(2);
      }
      crash("stream (killed at " + Data.size(killAt) + " of " + Data.size(STREAM) + ")", written, List.of(writer));
    } finally {
      pool.shutdownNow();
    }
    assertNewWritesWork("after-crash.bin", r);
    m.unmount();
    m.mount();
    assertAllAsOwed();
  }

  /**
   * Creates the file and appends all of it. {@code syncAt}: -1 no fsync; -2 fsync at the end, so
   * the whole file is owed; otherwise fsync after that many bytes and go on.
   */
  private Written write(Written w, long syncAt, SplittableRandom sizes) throws IOException {
    Data content = new Data(w.seed);
    long sync = syncAt == -2 ? w.target : syncAt;
    MessageDigest md = Data.sha256();
    try (FileChannel ch = FileChannel.open(m.mountpoint.resolve(w.name), CREATE_NEW, WRITE)) {
      if (sync >= 0) {
        content.append(ch, sync, sizes, (piece, n, end) -> {
          md.update(piece, 0, n);
          w.accepted.set(end);
        });
        ch.force(true);
        // Only once fsync has returned: the kill may come any time before.
        w.owed = sync;
        if (sync == w.target) {
          w.sha256 = Data.hex(md.digest());
        }
      }
      content.append(ch, w.target, sizes, (piece, n, end) -> w.accepted.set(end));
    }
    return w;
  }

  /** {@link #write} on a background thread, which the kill cuts off; an I/O error before the kill fails the test. */
  private Void writeUntilKilled(Written w, long syncAt, SplittableRandom sizes) throws IOException {
    try {
      write(w, syncAt, sizes);
    } catch (IOException e) {
      if (!killed.get()) {
        throw e;
      }
    }
    return null;
  }

  /**
   * kill -9, the writers cut off, a mount again, and every file checked against what is owed for
   * it; prints what the files written since the last crash were owed and what was found.
   */
  private void crash(String title, List<Written> round, List<Future<?>> writers) throws Exception {
    killed.set(true);
    m.kill9();
    for (Future<?> f : writers) {
      f.get(1, TimeUnit.MINUTES);
    }
    killed.set(false);
    List<String> owed = round.stream().map(Written::owedText).toList();
    m.mount();
    assertAllAsOwed();
    StringBuilder s = new StringBuilder("[CrashIT] ").append(title).append(":\n");
    for (int i = 0; i < round.size(); i++) {
      Written w = round.get(i);
      s.append(String.format("  %-11s %-24s owed %-20s written %-11s found %s%n", w.kind, w.name, owed.get(i),
          Data.size(w.accepted.get()), w.absent ? "missing" : Data.size(w.owed)));
    }
    System.out.print(s);
  }

  /**
   * The whole tree lists and reads without an I/O error, holds only files this test wrote, and each
   * is as owed; then what was found becomes what is owed for the next crash.
   */
  private void assertAllAsOwed() throws IOException {
    Map<String, Written> byName = all.stream().collect(Collectors.toMap(w -> w.name, Function.identity()));
    List<String> found;
    try (Stream<Path> walk = Files.walk(m.mountpoint)) {
      found = walk.filter(Files::isRegularFile).map(p -> m.mountpoint.relativize(p).toString()).sorted().toList();
    }
    for (String name : found) {
      assertTrue(byName.containsKey(name), "a file this test never wrote: " + name);
    }
    for (Written w : all) {
      Path p = m.mountpoint.resolve(w.name);
      boolean exists = Files.exists(p, LinkOption.NOFOLLOW_LINKS);
      String what = w.kind + " " + w.name + " (owed " + w.owedText() + ", " + Data.size(w.accepted.get()) + " written)";
      assertFalse(w.absent && exists, what + " was missing after an earlier crash and is back");
      assertTrue(exists || w.owed < 0, what + " is missing");
      if (!exists) {
        w.absent = true;
        continue;
      }
      Data.Digest d = w.sha256 != null ? Data.digest(p) : Data.assertPrefixOf(p, new Data(w.seed), what);
      if (w.sha256 != null) {
        assertEquals(new Data.Digest(w.owed, w.sha256), d, what);
      }
      assertTrue(d.length() >= w.owed && d.length() <= w.target, what + ": found " + Data.size(d.length()));
      w.owed = d.length();
      w.sha256 = d.sha256();
    }
  }

  /** After a crash, a new file writes, fsyncs and reads back; later crashes must keep it. */
  private void assertNewWritesWork(String name, SplittableRandom r) throws IOException {
    Written w = write(new Written(name, "durable", r.nextLong(), r.nextLong(1L << 20, 4L << 20)), -2, r);
    assertEquals(new Data.Digest(w.owed, w.sha256), Data.digest(m.mountpoint.resolve(name)), "new write " + name);
    all.add(w);
  }
}
