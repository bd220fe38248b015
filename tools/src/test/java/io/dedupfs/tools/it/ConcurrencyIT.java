package io.dedupfs.tools.it;

import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several threads using one mount at once, through the real command line. The filesystem takes
 * requests on one thread and commits on the ingest pipeline's, so this is where ordering and
 * locking mistakes between the two show.
 *
 * <ul>
 *   <li>Writers: threads each append a large file in pieces of random size while another thread
 *       keeps reading the files as they grow, and each writer reads some of its pieces straight
 *       back. A file being written must read back exactly what was written so far, from any
 *       descriptor, although most of it is still pending in the pipeline. Every file must then read
 *       back whole (SHA-256 of what was written), before and after a remount.
 *   <li>Metadata: threads each create, mkdir, rename, link, unlink, rmdir and chmod in a
 *       directory of their own. The tree must end as a model of the same operations says (names,
 *       types, modes, contents, hard links), before and after a remount.
 * </ul>
 *
 * Seeds are printed; {@code -Dit.seed=N} repeats a run's data and choices, though not its timing.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConcurrencyIT {
  private static final int WRITERS = 4;
  private static final long FILE_SIZE = 40L << 20;
  /** How much of the newest bytes the reader checks each pass: the part most likely still pending. */
  private static final int TAIL = 2 << 20;
  private static final int WINDOW = 1 << 20;
  private static final int METADATA_THREADS = 4;
  private static final int METADATA_OPS = 300;

  @TempDir Path tmp;
  private Mounted m;

  @AfterEach
  void unmount() throws Exception {
    if (m != null) {
      m.close();
    }
  }

  @Test
  void writersAndAReaderAtOnce() throws Exception {
    long seed = Long.getLong("it.seed", System.nanoTime());
    System.out.println("[ConcurrencyIT] writers: -Dit.seed=" + seed);
    m = Mounted.fresh(tmp);
    Path[] files = new Path[WRITERS];
    AtomicLong[] written = new AtomicLong[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
      files[i] = m.mountpoint.resolve("writer" + i + ".bin");
      written[i] = new AtomicLong();
    }
    AtomicBoolean writing = new AtomicBoolean(true);
    String[] hashes = new String[WRITERS];
    int passes;
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS + 1);
    try {
      List<Future<String>> writers = new ArrayList<>();
      for (int i = 0; i < WRITERS; i++) {
        int n = i;
        writers.add(pool.submit(() -> write(files[n], new Data(seed + n), written[n], new SplittableRandom(seed ^ n))));
      }
      Future<Integer> reader = pool.submit(() -> readWhileWritten(files, seed, written, writing, new SplittableRandom(~seed)));
      for (int i = 0; i < WRITERS; i++) {
        hashes[i] = writers.get(i).get();
      }
      writing.set(false);
      passes = reader.get();
    } finally {
      writing.set(false);
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("[ConcurrencyIT] %d writers wrote %s each in %.1f s; the reader checked %d times meanwhile%n", WRITERS,
        Data.size(FILE_SIZE), seconds, passes);
    assertTrue(passes > 0, "the reader never saw a file while it was written");

    assertFilesAre(files, hashes, "after writing");
    m.unmount();
    // For the reader of the log: the data went through compression and deduplication.
    long packs;
    try (Stream<Path> walk = Files.walk(m.repository.resolve("packs"))) {
      packs = walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    System.out.printf("[ConcurrencyIT] packs hold %s for the %s written%n", Data.size(packs), Data.size(WRITERS * FILE_SIZE));
    m.mount();
    assertFilesAre(files, hashes, "after a remount");
  }

  /** Appends a whole file, now and then reading a piece back through the same descriptor; returns its SHA-256. */
  private static String write(Path file, Data content, AtomicLong written, SplittableRandom sizes) throws IOException {
    MessageDigest md = Data.sha256();
    int[] pieces = {0};
    try (FileChannel ch = FileChannel.open(file, CREATE_NEW, WRITE, READ)) {
      content.append(ch, FILE_SIZE, sizes, (piece, n, end) -> {
        md.update(piece, 0, n);
        written.set(end);
        if (++pieces[0] % 8 == 0) {
          Data.assertRange(ch, content, end - n, n, file.getFileName() + " read back through its writer");
        }
      });
    }
    return Data.hex(md.digest());
  }

  /**
   * Until the writers are done, opens their files in turn and checks the newest bytes written and
   * a random window before them; returns how many times it did.
   */
  private static int readWhileWritten(Path[] files, long seed, AtomicLong[] written, AtomicBoolean writing,
      SplittableRandom r) throws IOException, InterruptedException {
    Data[] contents = new Data[files.length];
    for (int i = 0; i < files.length; i++) {
      contents[i] = new Data(seed + i);
    }
    int passes = 0;
    for (int turn = 0; writing.get(); turn++) {
      int i = turn % files.length;
      // Only what a finished write(2) handed over: bytes of a write still in progress may or may not show.
      long end = written[i].get();
      if (end == 0) {
        Thread.sleep(5);
        continue;
      }
      String what = files[i].getFileName() + " read by another thread while written, " + Data.size(end) + " written";
      try (FileChannel ch = FileChannel.open(files[i], READ)) {
        long tail = Math.max(0, end - TAIL);
        Data.assertRange(ch, contents[i], tail, (int) (end - tail), what);
        long at = r.nextLong(end);
        Data.assertRange(ch, contents[i], at, (int) Math.min(WINDOW, end - at), what);
        long size = ch.size();
        assertTrue(size >= end, () -> what + ": size " + size);
      }
      passes++;
    }
    return passes;
  }

  private static void assertFilesAre(Path[] files, String[] hashes, String when) throws IOException {
    for (int i = 0; i < files.length; i++) {
      assertEquals(new Data.Digest(FILE_SIZE, hashes[i]), Data.digest(files[i]), files[i].getFileName() + " " + when);
    }
  }

  @Test
  void metadataChangesInParallelDirectories() throws Exception {
    long seed = Long.getLong("it.seed", System.nanoTime());
    System.out.println("[ConcurrencyIT] metadata: -Dit.seed=" + seed);
    m = Mounted.fresh(tmp);
    List<Tree> trees = new ArrayList<>();
    for (int i = 0; i < METADATA_THREADS; i++) {
      trees.add(new Tree(Files.createDirectory(m.mountpoint.resolve("t" + i)), new SplittableRandom(seed + i)));
    }
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(METADATA_THREADS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (Tree t : trees) {
        done.add(pool.submit(() -> {
          t.run(METADATA_OPS);
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    System.out.printf("[ConcurrencyIT] %d threads did %d operations each in %.1f s; %s%n", METADATA_THREADS, METADATA_OPS,
        (System.nanoTime() - start) / 1e9, trees.stream().map(Tree::summary).collect(Collectors.joining("; ")));

    for (Tree t : trees) {
      t.assertMatches("after the operations");
    }
    m.unmount();
    m.mount();
    for (Tree t : trees) {
      t.assertMatches("after a remount");
    }
  }

  /**
   * One thread's directory and the model of what it holds: relative path to node, where the names
   * of one file share one node. Names are never reused except as the target of a rename onto an
   * existing file, so each operation's expected effect is plain.
   */
  private static final class Tree {
    private static final List<String> FILE_MODES = List.of("rw-------", "rw-r--r--", "rw-r-----", "rwxr-xr-x", "r--------");
    private static final List<String> DIR_MODES = List.of("rwx------", "rwxr-xr-x", "rwxr-x---");

    /** A file or directory of the model. */
    private static final class Node {
      final boolean directory;
      Set<PosixFilePermission> permissions;
      byte[] content;

      Node(boolean directory) {
        this.directory = directory;
      }
    }

    private final Path root;
    private final SplittableRandom r;
    private final TreeMap<String, Node> nodes = new TreeMap<>();
    private final Map<String, Integer> counts = new TreeMap<>();
    private int nextName;

    Tree(Path root, SplittableRandom r) {
      this.root = root;
      this.r = r;
    }

    void run(int operations) throws IOException {
      for (int i = 0; i < operations; i++) {
        int k = r.nextInt(100);
        String op = k < 25 ? "create" : k < 35 ? "mkdir" : k < 55 ? "rename" : k < 67 ? "unlink" : k < 80 ? "link"
            : k < 95 ? "chmod" : "rmdir";
        try {
          if (!apply(op)) {
            op = "create";
            apply(op);
          }
        } catch (IOException e) {
          throw new AssertionError(root.getFileName() + " operation " + i + " (" + op + "): " + e, e);
        }
        counts.merge(op, 1, Integer::sum);
      }
    }

    /** Does one operation to the tree and the model alike; false if the tree has nothing it applies to. */
    private boolean apply(String op) throws IOException {
      switch (op) {
        case "create" -> {
          String name = child(randomDirectory(), "f");
          Node file = new Node(false);
          file.content = new byte[r.nextInt(8 << 10)];
          r.nextBytes(file.content);
          Files.write(path(name), file.content, CREATE_NEW, WRITE);
          // Set explicitly, so the mode does not depend on the test's umask.
          chmod(name, file);
          nodes.put(name, file);
        }
        case "mkdir" -> {
          String name = child(randomDirectory(), "d");
          Node dir = new Node(true);
          Files.createDirectory(path(name));
          chmod(name, dir);
          nodes.put(name, dir);
        }
        case "rename" -> {
          String from = random(nodes.keySet().stream());
          if (from == null) {
            return false;
          }
          Node moved = nodes.get(from);
          String onto = moved.directory || r.nextInt(3) > 0 ? null : randomFile();
          String to = onto != null ? onto : child(randomDirectoryOutside(from), moved.directory ? "d" : "f");
          // ATOMIC_MOVE is a plain rename(2), which replaces an existing file.
          Files.move(path(from), path(to), StandardCopyOption.ATOMIC_MOVE);
          if (nodes.get(to) != moved) {
            // rename(2) of two names of one file does nothing.
            for (String key : new ArrayList<>(nodes.subMap(from, true, from + "/\uffff", true).keySet())) {
              if (key.equals(from) || key.startsWith(from + "/")) {
                nodes.put(to + key.substring(from.length()), nodes.remove(key));
              }
            }
          }
        }
        case "unlink" -> {
          String name = randomFile();
          if (name == null) {
            return false;
          }
          Files.delete(path(name));
          nodes.remove(name);
        }
        case "link" -> {
          String existing = randomFile();
          if (existing == null) {
            return false;
          }
          String name = child(randomDirectory(), "f");
          Files.createLink(path(name), path(existing));
          nodes.put(name, nodes.get(existing));
        }
        case "chmod" -> {
          String name = random(nodes.keySet().stream());
          if (name == null) {
            return false;
          }
          chmod(name, nodes.get(name));
        }
        case "rmdir" -> {
          String name = random(nodes.keySet().stream().filter(n -> nodes.get(n).directory && children(n).isEmpty()));
          if (name == null) {
            return false;
          }
          Files.delete(path(name));
          nodes.remove(name);
        }
        default -> throw new IllegalArgumentException(op);
      }
      return true;
    }

    private void chmod(String name, Node node) throws IOException {
      List<String> modes = node.directory ? DIR_MODES : FILE_MODES;
      node.permissions = PosixFilePermissions.fromString(modes.get(r.nextInt(modes.size())));
      Files.setPosixFilePermissions(path(name), node.permissions);
    }

    private String child(String directory, String prefix) {
      String name = prefix + nextName++;
      return directory.isEmpty() ? name : directory + "/" + name;
    }

    /** A directory of the tree, its root ("") included. */
    private String randomDirectory() {
      return randomDirectoryOutside(null);
    }

    /** A directory that is not {@code name} nor under it: where {@code name} may move. */
    private String randomDirectoryOutside(String name) {
      String dir = random(nodes.keySet().stream().filter(n -> nodes.get(n).directory
          && (name == null || !(n.equals(name) || n.startsWith(name + "/")))));
      return dir == null || r.nextInt(4) == 0 ? "" : dir;
    }

    private String randomFile() {
      return random(nodes.keySet().stream().filter(n -> !nodes.get(n).directory));
    }

    private String random(Stream<String> names) {
      List<String> all = names.toList();
      return all.isEmpty() ? null : all.get(r.nextInt(all.size()));
    }

    private List<String> children(String directory) {
      return nodes.keySet().stream().filter(n -> n.startsWith(directory + "/") && n.indexOf('/', directory.length() + 1) < 0)
          .toList();
    }

    private Path path(String name) {
      return root.resolve(name);
    }

    String summary() {
      return root.getFileName() + " " + counts + ", " + nodes.size() + " names at the end";
    }

    /** Compares the mounted tree with the model: the same names, types, modes and contents, one inode per model file. */
    void assertMatches(String when) throws IOException {
      String where = root.getFileName() + " " + when + ": ";
      List<String> actual;
      try (Stream<Path> walk = Files.walk(root)) {
        actual = walk.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()).sorted().toList();
      }
      assertEquals(List.copyOf(nodes.keySet()), actual, where + "names");
      Map<Node, Long> inodes = new IdentityHashMap<>();
      Map<Long, String> seen = new HashMap<>();
      Map<Node, Integer> names = new IdentityHashMap<>();
      nodes.values().forEach(n -> names.merge(n, 1, Integer::sum));
      for (Map.Entry<String, Node> e : nodes.entrySet()) {
        String name = e.getKey();
        Node node = e.getValue();
        Path p = path(name);
        Map<String, Object> attrs = Files.readAttributes(p, "unix:ino,nlink", LinkOption.NOFOLLOW_LINKS);
        assertEquals(node.directory, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS), where + name + " is a directory");
        assertEquals(PosixFilePermissions.toString(node.permissions),
            PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)), where + name + " mode");
        long ino = (Long) attrs.get("ino");
        int nlink = (Integer) attrs.get("nlink");
        if (node.directory) {
          long subdirectories = children(name).stream().filter(c -> nodes.get(c).directory).count();
          assertEquals(2 + subdirectories, nlink, where + name + " nlink (a directory: 2 + its subdirectories)");
        } else {
          assertArrayEquals(node.content, Files.readAllBytes(p), where + name + " content");
          assertEquals(names.get(node), nlink, where + name + " nlink");
        }
        Long expected = inodes.putIfAbsent(node, ino);
        assertEquals(expected == null ? ino : expected, ino, where + name + " is a hard link of another name's file");
        String other = seen.putIfAbsent(ino, name);
        assertTrue(other == null || nodes.get(other) == node, where + name + " and " + other + " share inode " + ino);
      }
    }
  }
}
