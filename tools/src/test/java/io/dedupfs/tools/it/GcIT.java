package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prune and gc of a mounted repository while files are written into it: snapshots of changing
 * trees, then {@code dedupfs prune} and {@code dedupfs gc} (carried out by the mounted process)
 * run again and again while a writer copies files whose chunks are being freed, so it
 * deduplicates against them. Afterwards every kept snapshot and the live tree match plain copies
 * byte for byte, the writer's files read back whole, and the repository shrank; the same after a
 * new mount, and after kill -9 of the process in the middle of a collection.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GcIT {
  private static final int ROUNDS = 4;

  @TempDir Path dir;
  @AutoClose Mounted fs;

  /** Rounds of a changing source tree (new random files, older ones deleted), each rsynced in and snapshotted. */
  private void snapshotRounds(Path src, Path expected) throws Exception {
    Files.createDirectories(src);
    for (int r = 1; r <= ROUNDS; r++) {
      sh("cd '" + src + "' && mkdir -p r" + r + " && for i in $(seq 1 12); do head -c $((RANDOM % 400000 + 1000)) /dev/urandom"
          + " > r" + r + "/f$i; done" + (r > 2 ? " && rm -r r" + (r - 2) : ""));
      sh("rsync -a --delete '" + src + "/' '" + fs.mountpoint + "/tree/'");
      sh("mkdir '" + fs.mountpoint + "/.snapshots/s" + r + "' && cp -a '" + src + "' '" + expected + "/s" + r + "'");
    }
  }

  private long packBytes() throws Exception {
    try (Stream<Path> files = Files.walk(fs.repository.resolve("packs"))) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private void assertChecked() throws Exception {
    Mounted.Result check = Mounted.dedupfs("check", fs.repository.toString(), "--read-data");
    assertEquals(0, check.exit(), "dedupfs check --read-data: " + check.output());
  }

  private void assertKept(Path src, Path expected, List<String> kept) throws Exception {
    for (String s : kept) {
      Path snapshot = fs.mountpoint.resolve(".snapshots").resolve(s).resolve("tree");
      assertEquals("", BackupTree.differences(snapshot, expected.resolve(s)), "snapshot " + s + " as it was");
    }
    assertEquals("", BackupTree.differences(src, fs.mountpoint.resolve("tree")), "the live tree");
  }

  @Test
  void pruneAndGcBesideWritesKeepEveryKeptByteAndGiveSpaceBack() throws Exception {
    fs = Mounted.fresh(dir);
    Path src = dir.resolve("src");
    Path expected = Files.createDirectories(dir.resolve("expected"));
    snapshotRounds(src, expected);
    long before = packBytes();

    // The writer copies files of s1 and s2, which prune deletes: their chunks are being freed as it writes.
    Path copies = Files.createDirectories(fs.mountpoint.resolve("copies"));
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<Integer> writer = pool.submit(() -> {
      int n = 0;
      while (!stop.get()) {
        Path from = expected.resolve("s2").resolve("r" + (1 + n % 2)).resolve("f" + (1 + n % 12));
        Files.copy(from, copies.resolve("c" + n));
        n++;
      }
      return n;
    });
    try {
      Mounted.Result prune = Mounted.dedupfs("prune", fs.repository.toString(), "--keep-last", "2");
      assertEquals(0, prune.exit(), prune.output());
      for (int i = 0; i < 3; i++) {
        Mounted.Result gc = Mounted.dedupfs("gc", fs.repository.toString());
        assertEquals(0, gc.exit(), gc.output());
      }
    } finally {
      stop.set(true);
    }
    int copied = writer.get(1, TimeUnit.MINUTES);
    pool.shutdown();
    assertTrue(copied > 0);

    List<String> kept = List.of("s3", "s4");
    assertEquals("s3\ns4\n", sh("ls '" + fs.mountpoint + "/.snapshots'"));
    assertKept(src, expected, kept);
    assertCopies(expected, copied);
    long after = packBytes();
    assertTrue(after < before, "pack files shrank: " + before + " bytes before prune, " + after + " after");

    assertChecked();
    fs.unmount();
    fs.mount();
    assertKept(src, expected, kept);
    assertCopies(expected, copied);
  }

  private void assertCopies(Path expected, int copied) throws Exception {
    Path copies = fs.mountpoint.resolve("copies");
    for (int n = 0; n < copied; n++) {
      Path from = expected.resolve("s2").resolve("r" + (1 + n % 2)).resolve("f" + (1 + n % 12));
      assertEquals(-1L, Files.mismatch(from, copies.resolve("c" + n)), "copy c" + n + " of " + from);
    }
  }

  @Test
  void killedInTheMiddleOfACollectionLosesNothingKept() throws Exception {
    fs = Mounted.fresh(dir);
    Path src = dir.resolve("src");
    Path expected = Files.createDirectories(dir.resolve("expected"));
    snapshotRounds(src, expected);
    sh("rmdir '" + fs.mountpoint + "/.snapshots/s1' '" + fs.mountpoint + "/.snapshots/s2'");
    List<String> kept = List.of("s3", "s4");

    // A whole run, to learn how long one takes; most of it is the command's JVM starting, the
    // collection is the end of it. Kills at several points of that end.
    long start = System.nanoTime();
    Mounted.Result whole = Mounted.dedupfs("gc", fs.repository.toString());
    assertEquals(0, whole.exit(), whole.output());
    long millis = (System.nanoTime() - start) / 1_000_000;
    for (double at : new double[] {0.7, 0.8, 0.9, 0.95}) {
      Process gc = new ProcessBuilder(Mounted.dedupfsCommand("gc", fs.repository.toString()))
          .redirectErrorStream(true).start();
      Thread.sleep((long) (at * millis));
      fs.kill9();
      gc.waitFor(1, TimeUnit.MINUTES);
      fs.mount();
      assertKept(src, expected, kept);
      assertChecked();
    }
    fs.unmount();
    Mounted.Result gc = Mounted.dedupfs("gc", fs.repository.toString());
    assertEquals(0, gc.exit(), "an interrupted collection is simply run again: " + gc.output());
    fs.mount();
    assertKept(src, expected, kept);
  }
}
