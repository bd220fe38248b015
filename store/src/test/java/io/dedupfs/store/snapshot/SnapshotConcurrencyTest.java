package io.dedupfs.store.snapshot;

import static io.dedupfs.store.snapshot.SnapshotKit.FILE;
import static io.dedupfs.store.snapshot.SnapshotKit.bytes;
import static io.dedupfs.store.snapshot.SnapshotKit.name;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.XattrMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots taken while other threads change the live tree: each is one point in time (the
 * invariants every single operation keeps hold in it), and once the writers stop, the next
 * snapshot, built from the trees the concurrent ones cached, equals the live tree exactly.
 */
class SnapshotConcurrencyTest {
  private static final int MOVERS = 30;
  private static final int LINKED = 5;
  private static final int POOL_CHUNK = 8 << 10;
  private static final long LOG_SEED = 77;

  @TempDir Path tmp;
  private SnapshotKit kit;
  private Namespace ns;
  private final List<Long> dirs = new ArrayList<>();
  private final List<ChunkId> pool = new ArrayList<>();
  private final long[] movers = new long[MOVERS];
  private final long[] moverDir = new long[MOVERS];
  private final long[] linked = new long[LINKED];
  private final AtomicBoolean stop = new AtomicBoolean();
  private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
  private final byte[] log = bytes(4 << 20, LOG_SEED);
  private long logInode;

  @BeforeEach
  void open() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), SnapshotKit.SMALL_CHUNKS);
    ns = kit.ns;
    long top = kit.mkdir(Namespace.ROOT, "top");
    long a = kit.mkdir(top, "a");
    long b = kit.mkdir(a, "b");
    long c = kit.mkdir(top, "c");
    long x = kit.mkdir(Namespace.ROOT, "x");
    long y = kit.mkdir(x, "y");
    long z = kit.mkdir(y, "z");
    dirs.addAll(List.of(Namespace.ROOT, top, a, b, c, x, y, z));
    for (int k = 0; k < 6; k++) {
      pool.add(kit.storeChunk(bytes(POOL_CHUNK, 500 + k)));
    }
    kit.flushChunks();
    for (int k = 0; k < MOVERS; k++) {
      moverDir[k] = dirs.get(k % dirs.size());
      movers[k] = kit.mkfile(moverDir[k], "m" + k);
      writePooled(movers[k], k);
    }
    for (int k = 0; k < LINKED; k++) {
      linked[k] = kit.mkfile(dirs.get(k), "h" + k);
      writePooled(linked[k], k);
    }
    logInode = kit.mkfile(c, "log");
  }

  @AfterEach
  void close() throws Exception {
    stop.set(true);
    kit.close();
  }

  private void writePooled(long inode, int k) throws Exception {
    int length = 1000 + k * 7;
    ns.replaceRange(inode, 0, length, List.of(new Extent(0, pool.get(k % pool.size()), k, length)), ns.now());
  }

  /** Writers hold it shared for each step; the test holds it exclusively to keep the tree still. */
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  private final AtomicLong steps = new AtomicLong();

  private Thread worker(String name, long seed, Body body) {
    Thread t = new Thread(() -> {
      Random random = new Random(seed);
      try {
        while (!stop.get()) {
          // Now and then a pause: a snapshot's window must also see few changes, not only many
          // (with many, every directory is touched directly and a missed ancestor goes unnoticed).
          if (random.nextInt(4) == 0) {
            Thread.sleep(random.nextInt(4));
          }
          gate.readLock().lock();
          try {
            body.step(random);
            steps.incrementAndGet();
          } catch (FileSystemException expected) {
            // a name another step took meanwhile
          } finally {
            gate.readLock().unlock();
          }
        }
      } catch (Throwable e) {
        failures.add(e);
      }
    }, name);
    t.start();
    return t;
  }

  @FunctionalInterface
  interface Body {
    void step(Random random) throws Exception;
  }

  /** Moves files between directories, changes their bytes and xattrs. */
  private void moverStep(Random random) throws Exception {
    int k = random.nextInt(MOVERS);
    int what = random.nextInt(10);
    if (what < 6) {
      long to = dirs.get(random.nextInt(dirs.size()));
      ns.rename(moverDir[k], name("m" + k), to, name("m" + k));
      moverDir[k] = to;
    } else if (what < 8) {
      writePooled(movers[k], random.nextInt(40));
    } else {
      ns.setXattr(movers[k], "user.n".getBytes(StandardCharsets.UTF_8), bytes(8, random.nextLong()), XattrMode.EITHER);
    }
  }

  /** Adds and removes names of hard-linked files, changes them through any name, moves a subtree. */
  private void linkerStep(Random random) throws Exception {
    int k = random.nextInt(LINKED);
    int what = random.nextInt(12);
    long dir = dirs.get(random.nextInt(dirs.size()));
    Name extra = name("h" + k + "-" + random.nextInt(4));
    if (what < 4) {
      ns.link(linked[k], dir, extra);
    } else if (what < 7) {
      ns.unlink(dir, extra);
    } else if (what < 8) {
      writePooled(linked[k], random.nextInt(40));
    } else if (what < 9) {
      ns.setAttributes(linked[k], AttributeChange.permissions(random.nextInt(0777)));
    } else if (what < 10) {
      ns.setAttributes(dir, new AttributeChange(null, null, random.nextInt(100), null, null));
    } else if (what < 11) {
      // y moves between x and top/a, with z and whatever files are in them.
      long y = dirs.get(6);
      boolean underX = ns.lookup(dirs.get(5), name("y")).isPresent();
      ns.rename(underX ? dirs.get(5) : dirs.get(2), name("y"), underX ? dirs.get(2) : dirs.get(5), name("y"));
      assertTrue(ns.getattr(y).isDirectory());
    } else {
      long f = ns.mknod(dir, name("tmp" + random.nextInt(3)), FILE, 0, 0, 0).number();
      ns.truncate(f, random.nextInt(10_000));
      if (random.nextBoolean()) {
        ns.unlink(dir, ns.list(dir, null, 1000).stream().filter(e -> e.inode() == f).findFirst().orElseThrow().name());
      }
    }
  }

  /** Appends the log through a FileWriter, whose commits come from the pipeline's threads. */
  private long logEnd;

  private void appenderStep(Random random) throws Exception {
    if (logEnd >= log.length) {
      Thread.sleep(5);
      return;
    }
    FileWriter w = new FileWriter(logInode, logEnd, ns, kit.pipeline);
    int n = (int) Math.min(log.length - logEnd, 1 + random.nextInt(60_000));
    w.write(logEnd, ByteBuffer.wrap(log, (int) logEnd, n));
    w.flush();
    logEnd += n;
  }

  @Test
  void snapshotsTakenDuringWritesAreConsistentAndTheNextQuietOneIsExact() throws Exception {
    runRounds(14, List.of(worker("movers", 1, this::moverStep), worker("linker", 2, this::linkerStep),
        worker("appender", 3, this::appenderStep)));
    assertTrue(logEnd > 0, "the appender ran");
  }

  /**
   * Changes deep down only (in top/a/b), at a slow pace: the snapshot's window sees a change below
   * directories that nothing touches directly, which must stay uncached all the way to the root.
   */
  @Test
  void aChangeDeepDownDuringASnapshotKeepsItsAncestorsUncached() throws Exception {
    long b = dirs.get(3);
    runRounds(8, List.of(worker("deep", 4, random -> {
      Thread.sleep(2);
      Name n = name("deep" + random.nextInt(3));
      if (ns.lookup(b, n).isPresent()) {
        ns.unlink(b, n);
      } else {
        ns.setXattr(ns.mknod(b, n, FILE, 0, 0, 0).number(), "user.x".getBytes(StandardCharsets.UTF_8),
            bytes(4, random.nextLong()), XattrMode.EITHER);
      }
    })));
  }

  private void runRounds(int rounds, List<Thread> threads) throws Exception {
    try {
      long duringSnapshots = 0;
      for (int round = 0; round < rounds && failures.isEmpty(); round++) {
        // Let the writers change some directories first, so that the snapshot has trees to write
        // (those are what it caches) while more changes come in.
        long resumed = steps.get();
        while (steps.get() < resumed + 3 + round % 4 * 5 && failures.isEmpty()) {
          Thread.sleep(1);
        }
        long stepsBefore = steps.get();
        SnapshotRecord s = kit.snapshot("c" + round);
        // Still at once, before a later write could repair (by invalidating) a tree cached stale.
        gate.writeLock().lock();
        try {
          duringSnapshots += steps.get() - stepsBefore;
          assertConsistent(s, "round " + round + ", snapshot taken during writes");
          // The next snapshot reuses what the concurrent one cached, and must be exact.
          SnapshotRecord quiet = kit.snapshot("q" + round);
          kit.assertSnapshotIsLive(quiet, "round " + round + ", first snapshot with the writers paused");
          assertConsistent(quiet, "round " + round + ", quiet");
          if (round % 3 == 2) {
            Map<Long, String> cached = kit.cachedTrees();
            kit.clearTreeCache();
            SnapshotRecord full = kit.snapshot("f" + round);
            assertEquals(quiet.root().tree(), full.root().tree(), "incremental and full serialization agree");
            assertEquals(cached, kit.cachedTrees(), "every cached tree equals the one serialized anew");
          }
        } finally {
          gate.writeLock().unlock();
        }
      }
      assertTrue(duringSnapshots > 2 * rounds, "writers ran while snapshots were taken: " + duringSnapshots + " steps");
    } finally {
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError("a writer failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** The invariants every single operation of the writers keeps, checked over the snapshot. */
  private void assertConsistent(SnapshotRecord s, String context) throws Exception {
    Map<String, Integer> moverNames = new HashMap<>();
    Map<Long, Integer> namesOf = new HashMap<>();
    Map<Long, String> bodyOf = new HashMap<>();
    Map<Long, Integer> nlinkOf = new HashMap<>();
    long bytesTotal = 0;
    long filesTotal = 0;
    long dirsTotal = 0;
    Deque<TreeEntry> todo = new ArrayDeque<>();
    todo.push(s.root());
    while (!todo.isEmpty()) {
      TreeEntry dir = todo.pop();
      int subdirs = 0;
      for (TreeEntry e : kit.snapshotList(dir)) {
        String n = e.name().toString();
        if (e.isDirectory()) {
          subdirs++;
          dirsTotal++;
          todo.push(e);
          continue;
        }
        filesTotal++;
        bytesTotal += e.isRegularFile() ? e.inode().size() : 0;
        if (n.matches("m\\d+")) {
          moverNames.merge(n, 1, Integer::sum);
        }
        long ino = e.inode().number();
        namesOf.merge(ino, 1, Integer::sum);
        nlinkOf.put(ino, e.inode().nlink());
        byte[] encoded = TreeCodec.encodeEntry(e);
        String body = HexFormat.of().formatHex(Arrays.copyOfRange(encoded, 1 + e.name().bytes().length, encoded.length));
        String before = bodyOf.putIfAbsent(ino, body);
        if (before != null && !before.equals(body)) {
          fail(context + ": two names of inode " + ino + " show different states of it");
        }
        if (e.isRegularFile()) {
          List<Extent> extents = kit.reader.extents(e, 0, Long.MAX_VALUE / 2);
          if (!extents.isEmpty()) {
            assertTrue(extents.get(extents.size() - 1).end() <= e.inode().size(), context + ": extents past the size");
          }
          if (ino == logInode) {
            byte[] got = kit.snapshotBytes(e, 1 << 20);
            assertArrayEquals(Arrays.copyOf(log, got.length), got, context + ": the log is a prefix of what was appended");
          }
        }
      }
      assertEquals(2 + subdirs, dir.inode().nlink(), context + ": nlink of directory " + dir.name());
    }
    for (int k = 0; k < MOVERS; k++) {
      assertEquals(1, moverNames.getOrDefault("m" + k, 0), context + ": mover m" + k + " appears once");
    }
    for (Map.Entry<Long, Integer> e : namesOf.entrySet()) {
      assertEquals(nlinkOf.get(e.getKey()), e.getValue(), context + ": names of inode " + e.getKey() + " vs nlink");
    }
    assertEquals(8 - 1, dirsTotal, context + ": directories");
    assertEquals(bytesTotal, s.bytes(), context + ": record bytes");
    assertEquals(filesTotal, s.files(), context + ": record files");
    assertEquals(dirsTotal, s.directories(), context + ": record directories");
  }
}
