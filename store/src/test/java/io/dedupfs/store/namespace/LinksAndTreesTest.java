package io.dedupfs.store.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.index.IndexTransaction;
import io.dedupfs.store.index.Table;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bookkeeping behind snapshots (FORMAT.md §6.1, §10.4): {@code links} names, for every
 * non-directory, the directories holding its names; a change drops the {@code trees} entries of
 * the directories above it, and tells a watching snapshot every directory up to the root.
 */
class LinksAndTreesTest {
  private static final int FILE = Mode.S_IFREG | 0644;
  private static final int DIR = Mode.S_IFDIR | 0755;
  private static final String[] NAMES = {"a", "b", "c", "d"};

  @TempDir Path tmp;
  private Repository repo;
  private Namespace ns;
  private ChunkId chunk;

  @BeforeEach
  void open() throws Exception {
    repo = Repository.init(tmp.resolve("repo"), RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    ns = Namespace.open(repo.index(), Clock.systemUTC());
    // Extents may name a chunk the index does not hold for what these tests look at.
    chunk = ChunkHasher.sha256().idOf("x".getBytes(StandardCharsets.UTF_8));
  }

  @AfterEach
  void close() throws Exception {
    repo.close();
  }

  private long mkdir(long parent, String name) throws Exception {
    return ns.mknod(parent, Name.of(name), DIR, 0, 0, 0).number();
  }

  private long mkfile(long parent, String name) throws Exception {
    return ns.mknod(parent, Name.of(name), FILE, 0, 0, 0).number();
  }

  // ---------------------------------------------------------------- table readers

  /** The {@code links} table: "inode>directory" → count. */
  private Map<String, Integer> links() throws Exception {
    return repo.index().read(tx -> {
      Map<String, Integer> out = new TreeMap<>();
      for (IndexTransaction.Entry e : tx.scanFrom(Table.LINKS, new byte[] {0}, new byte[] {0}, Integer.MAX_VALUE)) {
        assertEquals(16, e.key().length);
        out.put(ByteBuffer.wrap(e.key()).getLong(0) + ">" + NamespaceCodec.linkDirectory(e.key()),
            NamespaceCodec.decodeCount(e.value()));
      }
      return out;
    });
  }

  /** What {@code links} must hold, from a walk of the tree; also checks the counts add up to nlink. */
  private Map<String, Integer> expectedLinks(List<Long> dirsOut) throws Exception {
    Map<String, Integer> out = new TreeMap<>();
    Map<Long, Integer> names = new HashMap<>();
    List<Long> todo = new ArrayList<>(List.of(Namespace.ROOT));
    while (!todo.isEmpty()) {
      long d = todo.remove(todo.size() - 1);
      dirsOut.add(d);
      for (DirEntry e : ns.list(d, null, 10_000)) {
        if (e.type() == Mode.S_IFDIR) {
          todo.add(e.inode());
        } else {
          out.merge(e.inode() + ">" + d, 1, Integer::sum);
          names.merge(e.inode(), 1, Integer::sum);
        }
      }
    }
    for (Map.Entry<Long, Integer> n : names.entrySet()) {
      assertEquals(ns.getattr(n.getKey()).nlink(), n.getValue(), "nlink of " + n.getKey());
    }
    return out;
  }

  private Set<Long> cached() throws Exception {
    return repo.index().read(tx -> {
      Set<Long> out = new TreeSet<>();
      for (IndexTransaction.Entry e : tx.scanFrom(Table.TREES, new byte[] {0}, new byte[] {0}, Integer.MAX_VALUE)) {
        out.add(ByteBuffer.wrap(e.key()).getLong());
        NamespaceCodec.decodeCachedTree(0, e.value());
      }
      return out;
    });
  }

  private static CachedTree dummyTree(long d) {
    return new CachedTree(ChunkHasher.sha256().idOf(("tree " + d).getBytes(StandardCharsets.UTF_8)), d, 2 * d, 3 * d);
  }

  /** Caches a (made up) tree for every directory, as a snapshot with nothing changing meanwhile would. */
  private void cacheAll() throws Exception {
    List<Long> dirs = new ArrayList<>();
    expectedLinks(dirs);
    Map<Long, CachedTree> trees = new HashMap<>();
    dirs.forEach(d -> trees.put(d, dummyTree(d)));
    ns.cacheTrees(trees, new ChangeWatch());
    assertEquals(new TreeSet<>(dirs), cached());
  }

  // ---------------------------------------------------------------- links

  @Test
  void linksCountTheNamesOfEveryNonDirectoryPerDirectory() throws Exception {
    long seed = Long.getLong("links.seed", System.nanoTime());
    Random random = new Random(seed);
    for (int step = 0; step < 1500; step++) {
      List<Long> dirs = new ArrayList<>();
      expectedLinks(dirs);
      long dir = dirs.get(random.nextInt(dirs.size()));
      long dir2 = dirs.get(random.nextInt(dirs.size()));
      Name n = Name.of(NAMES[random.nextInt(NAMES.length)]);
      Name n2 = Name.of(NAMES[random.nextInt(NAMES.length)]);
      List<DirEntry> entries = ns.list(dir, null, 100);
      DirEntry e = entries.isEmpty() ? null : entries.get(random.nextInt(entries.size()));
      int kind = random.nextInt(100);
      try {
        if (kind < 12) {
          ns.mknod(dir, n, DIR, 0, 0, 0);
        } else if (kind < 25) {
          ns.mknod(dir, n, random.nextBoolean() ? FILE : Mode.S_IFIFO | 0600, 0, 0, 0);
        } else if (kind < 30) {
          ns.symlink(dir, n, "t".getBytes(StandardCharsets.UTF_8), 0, 0);
        } else if (kind < 50 && e != null) {
          ns.link(e.inode(), dir2, n2);
        } else if (kind < 65 && e != null) {
          if (e.type() == Mode.S_IFDIR) {
            ns.rmdir(dir, e.name());
          } else {
            ns.unlink(dir, e.name());
          }
        } else if (e != null) {
          ns.rename(dir, e.name(), dir2, n2);
        }
      } catch (FileSystemException expected) {
        // EEXIST, ENOENT, ENOTEMPTY, EINVAL...: nothing changed
      }
      assertEquals(expectedLinks(new ArrayList<>()), links(), "seed " + seed + " (-Dlinks.seed), step " + step);
    }
  }

  @Test
  void linksGoWithTheirInodeAndSurviveReopening() throws Exception {
    long d1 = mkdir(Namespace.ROOT, "d1");
    long d2 = mkdir(Namespace.ROOT, "d2");
    long f = mkfile(d1, "f");
    ns.link(f, d1, Name.of("g"));
    ns.link(f, d2, Name.of("h"));
    assertEquals(Map.of(f + ">" + d1, 2, f + ">" + d2, 1), links());
    ns.rename(d1, Name.of("f"), d1, Name.of("g"));   // same inode: nothing happens
    assertEquals(Map.of(f + ">" + d1, 2, f + ">" + d2, 1), links());
    ns.rename(d1, Name.of("g"), d2, Name.of("g"));
    assertEquals(Map.of(f + ">" + d1, 1, f + ">" + d2, 2), links());
    repo.close();
    repo = Repository.open(tmp.resolve("repo"), Repository.OpenOptions.DEFAULT);
    ns = Namespace.open(repo.index(), Clock.systemUTC());
    assertEquals(Map.of(f + ">" + d1, 1, f + ">" + d2, 2), links());
    long other = mkfile(d2, "other");
    ns.rename(d1, Name.of("f"), d2, Name.of("other"));   // replaces "other", whose inode goes
    assertEquals(Map.of(f + ">" + d2, 3), links());
    assertTrue(links().keySet().stream().noneMatch(k -> k.startsWith(other + ">")));
    for (String n : List.of("g", "h", "other")) {
      ns.unlink(d2, Name.of(n));
    }
    assertEquals(Map.of(), links());
  }

  // ---------------------------------------------------------------- trees

  /** root/a/a1/a2, root/b/b1, root/c; file f in a1 with a second name in b1. */
  private final Map<String, Long> t = new HashMap<>();

  private void buildTree() throws Exception {
    t.put("/", Namespace.ROOT);
    t.put("a", mkdir(Namespace.ROOT, "a"));
    t.put("a1", mkdir(t.get("a"), "a1"));
    t.put("a2", mkdir(t.get("a1"), "a2"));
    t.put("b", mkdir(Namespace.ROOT, "b"));
    t.put("b1", mkdir(t.get("b"), "b1"));
    t.put("c", mkdir(Namespace.ROOT, "c"));
    t.put("f", mkfile(t.get("a1"), "f"));
    ns.link(t.get("f"), t.get("b1"), Name.of("f2"));
    t.put("g", mkfile(t.get("c"), "g"));
  }

  /** After {@code change}, the named directories have lost their trees and the others kept them. */
  private void assertDrops(String what, Change change, List<String> dropped, List<String> kept) throws Exception {
    cacheAll();
    change.run();
    Set<Long> now = cached();
    for (String d : dropped) {
      assertFalse(now.contains(t.get(d)), what + ": the tree of " + d + " must go");
    }
    for (String d : kept) {
      assertTrue(now.contains(t.get(d)), what + ": the tree of " + d + " must stay");
    }
    assertInvariant(what);
  }

  @FunctionalInterface
  interface Change {
    void run() throws Exception;
  }

  /** When a directory has no tree, none of its ancestors has one; no tree of a directory that is gone. */
  private void assertInvariant(String what) throws Exception {
    Set<Long> c = cached();
    for (long d : c) {
      Inode i;
      try {
        i = ns.getattr(d);
      } catch (java.nio.file.NoSuchFileException e) {
        fail(what + ": a tree is cached for deleted inode " + d);
        return;
      }
      assertTrue(i.isDirectory());
    }
    List<Long> dirs = new ArrayList<>();
    expectedLinks(dirs);
    for (long d : dirs) {
      if (!c.contains(d)) {
        for (long up = d; up != Namespace.ROOT; ) {
          up = ns.getattr(up).parent();
          assertFalse(c.contains(up), what + ": " + d + " has no tree but its ancestor " + up + " has one");
        }
      }
    }
  }

  @Test
  void aChangeDropsTheTreesAboveItAndNoOthers() throws Exception {
    buildTree();
    List<String> fDirs = List.of("a1", "a", "b1", "b", "/");
    assertDrops("write to f", () -> ns.replaceRange(t.get("f"), 0, 10, List.of(new Extent(0, chunk, 0, 1)), 5L),
        fDirs, List.of("a2", "c"));
    assertDrops("truncate f", () -> ns.truncate(t.get("f"), 3), fDirs, List.of("a2", "c"));
    assertDrops("xattr on f", () -> ns.setXattr(t.get("f"), "user.x".getBytes(StandardCharsets.UTF_8), new byte[1],
        XattrMode.EITHER), fDirs, List.of("a2", "c"));
    assertDrops("xattr removed from f", () -> ns.removeXattr(t.get("f"), "user.x".getBytes(StandardCharsets.UTF_8)),
        fDirs, List.of("a2", "c"));
    assertDrops("chmod f", () -> ns.setAttributes(t.get("f"), AttributeChange.permissions(0600)), fDirs,
        List.of("a2", "c"));
    assertDrops("chmod a2", () -> ns.setAttributes(t.get("a2"), AttributeChange.permissions(0700)),
        List.of("a1", "a", "/"), List.of("b", "b1", "c"));
    assertDrops("mknod in c", () -> mkfile(t.get("c"), "new"), List.of("c", "/"), List.of("a", "a1", "a2", "b", "b1"));
    assertDrops("symlink in b1", () -> ns.symlink(t.get("b1"), Name.of("s"), new byte[] {'x'}, 0, 0),
        List.of("b1", "b", "/"), List.of("a", "a1", "a2", "c"));
    assertDrops("rename a file within c", () -> ns.rename(t.get("c"), Name.of("g"), t.get("c"), Name.of("g2")),
        List.of("c", "/"), List.of("a", "a1", "a2", "b", "b1"));
    assertDrops("move a2 to c", () -> ns.rename(t.get("a1"), Name.of("a2"), t.get("c"), Name.of("a2")),
        List.of("a1", "a", "c", "/"), List.of("b", "b1"));
    assertDrops("a change in a2, now below c", () -> mkfile(t.get("a2"), "z"), List.of("a2", "c", "/"),
        List.of("a", "a1", "b", "b1"));
    assertDrops("second name of f in c", () -> ns.link(t.get("f"), t.get("c"), Name.of("f3")),
        List.of("c", "a1", "a", "b1", "b", "/"), List.of("a2"));
    assertDrops("unlink one name of f", () -> ns.unlink(t.get("b1"), Name.of("f2")),
        List.of("b1", "b", "a1", "a", "c", "/"), List.of("a2"));
    assertDrops("write to f after its name in b1 went", () -> ns.truncate(t.get("f"), 100),
        List.of("a1", "a", "c", "/"), List.of("a2", "b", "b1"));
    assertDrops("rmdir a2", () -> {
      ns.unlink(t.get("a2"), Name.of("z"));
      ns.rmdir(t.get("c"), Name.of("a2"));
    }, List.of("c", "/"), List.of("a", "a1", "b", "b1"));
    assertDrops("chmod the root", () -> ns.setAttributes(Namespace.ROOT, AttributeChange.permissions(0700)),
        List.of("/"), List.of("a", "a1", "b", "b1", "c"));
  }

  @Test
  void withoutAWatchTheWalkStopsAtTheFirstDirectoryWithoutATree() throws Exception {
    buildTree();
    cacheAll();
    mkfile(t.get("a1"), "x");   // a1, a and the root lose their trees
    // Put a tree back on a (as a snapshot that saw a1 change would not, but a broken one might):
    // the next change in a1 must not reach it, as a1 has none. This shows the early stop.
    ns.cacheTrees(Map.of(t.get("a"), dummyTree(t.get("a"))), new ChangeWatch());
    mkfile(t.get("a1"), "y");
    assertTrue(cached().contains(t.get("a")), "stopped at a1, which had no tree");
  }

  // ---------------------------------------------------------------- watching

  @Test
  void aWatchHearsOfEveryDirectoryUpToTheRootEvenWithoutTrees() throws Exception {
    buildTree();
    assertEquals(Set.of(), cached());
    ChangeWatch w = new ChangeWatch();
    ns.startWatching(w);
    assertThrows(IllegalStateException.class, () -> ns.startWatching(new ChangeWatch()));
    ns.truncate(t.get("f"), 1);
    for (String d : List.of("a1", "a", "b1", "b", "/")) {
      assertTrue(w.sawChange(t.get(d)), d);
    }
    for (String d : List.of("a2", "c")) {
      assertFalse(w.sawChange(t.get(d)), d);
    }
    ns.stopWatching(w);
    mkfile(t.get("c"), "after");
    assertFalse(w.sawChange(t.get("c")), "nothing is heard after stopping");
    ns.startWatching(new ChangeWatch());   // free again
  }

  /**
   * The protocol of a snapshot (FORMAT.md §10.4): watch, read, then cache what was read except
   * what changed meanwhile. A change committed by another thread while the read is open must keep
   * its directory and every ancestor out of the cache, whether or not they had trees before.
   */
  @Test
  void treesReadBeforeAConcurrentChangeAreNotCached() throws Exception {
    buildTree();
    // Some trees from an earlier snapshot: a2 (below the change) and c (beside it).
    ns.cacheTrees(Map.of(t.get("a2"), dummyTree(t.get("a2")), t.get("c"), dummyTree(t.get("c"))), new ChangeWatch());
    assertInvariant("before");
    ChangeWatch w = new ChangeWatch();
    ns.startWatching(w);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    List<Long> seen = ns.readTree(source -> {
      List<Long> read = new ArrayList<>();
      read.add(source.inode(t.get("a1")).number());
      Thread writer = new Thread(() -> {
        try {
          mkfile(t.get("a2"), "during");   // a2 had a tree: the walk passes through it
          ns.setAttributes(t.get("b1"), AttributeChange.permissions(0700));
        } catch (Throwable e) {
          failed.set(e);
        }
      });
      writer.start();
      try {
        writer.join();
      } catch (InterruptedException e) {
        throw new java.io.InterruptedIOException();
      }
      // This read still sees the tree as it was.
      read.add((long) source.entries(t.get("a2"), null, 10).size());
      return read;
    });
    assertEquals(null, failed.get());
    assertEquals(0L, seen.get(1), "the read transaction does not see the concurrent change");
    Map<Long, CachedTree> serialized = new HashMap<>();
    for (String d : List.of("/", "a", "a1", "b", "b1")) {   // those without a tree when read
      serialized.put(t.get(d), dummyTree(t.get(d)));
    }
    ns.cacheTrees(serialized, w);
    ns.stopWatching(w);
    Set<Long> now = cached();
    for (String d : List.of("/", "a", "a1", "a2", "b", "b1")) {
      assertFalse(now.contains(t.get(d)), d + " changed during the read: no tree for it");
    }
    assertTrue(now.contains(t.get("c")), "c did not change");
    assertInvariant("after");
  }

  @Test
  void directoriesDeletedDuringASnapshotAreNotCached() throws Exception {
    buildTree();
    ChangeWatch w = new ChangeWatch();
    ns.startWatching(w);
    long gone = mkdir(t.get("c"), "gone");
    ns.rmdir(t.get("c"), Name.of("gone"));
    ns.cacheTrees(Map.of(gone, dummyTree(gone), t.get("b1"), dummyTree(t.get("b1"))), w);
    ns.stopWatching(w);
    assertEquals(Set.of(t.get("b1")), cached());
  }

  @Test
  void treesStayConsistentUnderRandomOperations() throws Exception {
    long seed = Long.getLong("links.seed", System.nanoTime());
    Random random = new Random(seed);
    buildTree();
    for (int step = 0; step < 600; step++) {
      if (random.nextInt(10) == 0) {
        cacheAll();
      }
      List<Long> dirs = new ArrayList<>();
      expectedLinks(dirs);
      long dir = dirs.get(random.nextInt(dirs.size()));
      long dir2 = dirs.get(random.nextInt(dirs.size()));
      Name n = Name.of(NAMES[random.nextInt(NAMES.length)]);
      List<DirEntry> entries = ns.list(dir, null, 100);
      DirEntry e = entries.isEmpty() ? null : entries.get(random.nextInt(entries.size()));
      try {
        switch (random.nextInt(7)) {
          case 0 -> ns.mknod(dir, n, DIR, 0, 0, 0);
          case 1 -> ns.mknod(dir, n, FILE, 0, 0, 0);
          case 2 -> {
            if (e != null) {
              ns.link(e.inode(), dir2, n);
            }
          }
          case 3 -> {
            if (e != null) {
              ns.rename(dir, e.name(), dir2, n);
            }
          }
          case 4 -> {
            if (e != null && e.type() != Mode.S_IFDIR) {
              ns.unlink(dir, e.name());
            } else if (e != null) {
              ns.rmdir(dir, e.name());
            }
          }
          case 5 -> {
            if (e != null) {
              ns.setAttributes(e.inode(), AttributeChange.permissions(random.nextInt(0777)));
            }
          }
          default -> {
            if (e != null && e.type() == Mode.S_IFREG) {
              ns.truncate(e.inode(), random.nextInt(100));
            }
          }
        }
      } catch (FileSystemException expected) {
        // nothing changed
      }
      assertInvariant("seed " + seed + " (-Dlinks.seed), step " + step);
    }
  }
}
