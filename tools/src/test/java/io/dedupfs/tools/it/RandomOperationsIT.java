package io.dedupfs.tools.it;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-based random test of a mounted dedupfs: thousands of random operations (writes at any
 * offset, past the end too, which leaves holes; truncates that shrink and extend; renames over
 * existing files and across directories; hard links; unlinks; chmod; fsync; reads; a remount every
 * {@value #REMOUNT_EVERY} steps) go both to a real mount and to a plain local directory, the model.
 * After every step the two must agree: an operation that fails on one side fails on the other with
 * the same exception class, a read returns the same bytes, and the trees hold the same names with
 * the same size, bytes, permission bits and link count, hard links grouped alike. Mounts alternate
 * between requests over io_uring (where the kernel offers it) and through /dev/fuse only.
 *
 * <p>Tests of each layer check the cases someone thought of; this looks for the interleavings
 * nobody wrote down, such as a rename over a hard link of a file whose writes are not sealed yet,
 * or a truncate into a hole after a remount. Six names in two directories make operations collide
 * all the time. A failure names the seed, the step and the operations before it; the operations
 * depend only on the seed and the model, so {@code -Ddedupfs.seed=SEED} replays them exactly.
 */
class RandomOperationsIT {
  private static final int OPERATIONS = 3000;
  private static final int REMOUNT_EVERY = 500;
  private static final int HISTORY = 20;
  private static final List<String> NAMES = List.of("a/f", "a/g", "a/h", "b/f", "b/g", "b/h");
  private static final int MAX_WRITE_OFFSET = 300 << 10;
  private static final int MAX_WRITE = 70 << 10;
  private static final int MAX_SIZE = 400 << 10;
  private static final int MAX_READ = 100 << 10;
  /** How many contents the whole-file writes choose from; see {@link #nextOperation}. */
  private static final int SHARED_CONTENTS = 3;
  /** The three ways Files.move renames; see {@link Rename}. */
  private static final List<CopyOption[]> RENAME_OPTIONS =
      List.of(new CopyOption[] {ATOMIC_MOVE}, new CopyOption[] {}, new CopyOption[] {REPLACE_EXISTING});
  private static final int S_IFMT = 0170000;
  private static final int S_IFREG = 0100000;

  @TempDir Path dir;
  private Mounted mounted;

  @AfterEach
  void unmount() throws Exception {
    if (mounted != null) {
      mounted.close();
    }
  }

  @Test
  void mountAgreesWithLocalDirectoryAfterEveryOperation() throws Exception {
    String property = System.getProperty("dedupfs.seed");
    long seed = property == null ? ThreadLocalRandom.current().nextLong() : Long.parseLong(property);
    System.out.println("RandomOperationsIT seed " + seed + " (replay with -Ddedupfs.seed=" + seed + ")");
    Random random = new Random(seed);
    mounted = Mounted.fresh(dir);
    Path mount = mounted.mountpoint;
    Path model = Files.createDirectory(dir.resolve("model"));
    for (Path root : List.of(model, mount)) {
      Files.createDirectory(root.resolve("a"));
      Files.createDirectory(root.resolve("b"));
    }

    Deque<String> history = new ArrayDeque<>();
    int failedOnBoth = 0;
    long start = System.nanoTime();
    for (int step = 1; step <= OPERATIONS; step++) {
      boolean remount = step % REMOUNT_EVERY == 0;
      Operation op = remount ? null : nextOperation(random, model);
      history.addLast(step + ": " + (remount ? "remount" : op));
      if (history.size() > HISTORY) {
        history.removeFirst();
      }
      try {
        if (remount) {
          mounted.unmount();
          // Every other mount serves requests through /dev/fuse only: both ways see the same operations.
          mounted.mount(step / REMOUNT_EVERY % 2 == 1 ? new String[] {"--no-io-uring"} : new String[0]);
        } else if (applyToBoth(op, model, mount)) {
          failedOnBoth++;
        }
        compareTrees(model, mount);
      } catch (Exception | AssertionError e) {
        throw new AssertionError(String.format("seed %d, step %d: %s%nreplay with -Ddedupfs.seed=%d; the last "
            + "operations:%n%s", seed, step, e, seed, String.join("\n", history)), e);
      }
    }
    System.out.printf("RandomOperationsIT: %d operations (%d failed alike on both sides) in %.1f s%n",
        OPERATIONS, failedOnBoth, (System.nanoTime() - start) / 1e9);
  }

  /**
   * The next operation on a random name. Its choices depend on the random stream and on the model
   * only, never on the mount, so that a seed replays the same operations.
   */
  private static Operation nextOperation(Random random, Path model) {
    String name = NAMES.get(random.nextInt(NAMES.size()));
    int dice = random.nextInt(100);
    if (dice < 22) {
      return new Write(name, random.nextInt(MAX_WRITE_OFFSET + 1), 1 + random.nextInt(MAX_WRITE), random.nextLong(),
          false, random.nextInt(5) == 0);
    }
    if (dice < 28) {
      // Whole files with one of a few contents, as a copy would write them: files are often
      // identical, so they share chunks, and a later change to one must leave the others intact.
      int content = 1 + random.nextInt(SHARED_CONTENTS);
      return new Write(name, 0, content * (100 << 10), content, true, random.nextInt(5) == 0);
    }
    if (dice < 38) {
      return random.nextInt(6) == 0
          ? new Truncate(name, 0, true)
          : new Truncate(name, random.nextInt(MAX_SIZE + 1), false);
    }
    if (dice < 50) {
      CopyOption[] options = RENAME_OPTIONS.get(random.nextInt(RENAME_OPTIONS.size()));
      return new Rename(name, NAMES.get(random.nextInt(NAMES.size())), options);
    }
    if (dice < 60) {
      // Most names exist most of the time: a free one makes a link that succeeds.
      List<String> free = NAMES.stream().filter(n -> !Files.exists(model.resolve(n), NOFOLLOW_LINKS)).toList();
      List<String> candidates = free.isEmpty() ? NAMES : free;
      return new Link(candidates.get(random.nextInt(candidates.size())), name);
    }
    if (dice < 72) {
      return new Unlink(name);
    }
    if (dice < 80) {
      return new Chmod(name, random.nextInt(01000));
    }
    if (dice < 88) {
      return new Fsync(name);
    }
    return new Read(name, random.nextInt(MAX_SIZE + 1), 1 + random.nextInt(MAX_READ));
  }

  /** Applies op to both trees and compares the outcomes; true when it failed (alike) on both. */
  private static boolean applyToBoth(Operation op, Path model, Path mount) {
    Outcome expected = Outcome.of(op, model);
    Outcome actual = Outcome.of(op, mount);
    assertEquals(expected.failureClass(), actual.failureClass(),
        () -> "outcome: model " + expected.describe() + ", mount " + actual.describe());
    assertSameBytes(expected.read(), actual.read(), "read");
    return expected.failure() != null;
  }

  private static void compareTrees(Path model, Path mount) throws IOException {
    SortedMap<String, Node> expected = scan(model);
    SortedMap<String, Node> actual = scan(mount);
    assertEquals(expected.keySet(), actual.keySet(), "names");
    for (String name : expected.keySet()) {
      Node e = expected.get(name);
      Node a = actual.get(name);
      assertEquals(Integer.toOctalString(e.mode()), Integer.toOctalString(a.mode()), name + ": mode");
      if (e.isFile()) {
        assertEquals(e.nlink(), a.nlink(), name + ": link count");
        assertEquals(e.size(), a.size(), name + ": size");
        assertSameBytes(e.content(), a.content(), name + ": content");
      }
    }
    assertEquals(linkGroups(expected), linkGroups(actual), "names that are hard links of one file");
  }

  /** Every name under root but root itself, with its stat and, for a regular file, its bytes. */
  private static SortedMap<String, Node> scan(Path root) throws IOException {
    SortedMap<String, Node> nodes = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (p.equals(root)) {
          continue;
        }
        Map<String, Object> stat = Files.readAttributes(p, "unix:mode,nlink,ino,size", NOFOLLOW_LINKS);
        int mode = (Integer) stat.get("mode");
        byte[] content = (mode & S_IFMT) == S_IFREG ? Files.readAllBytes(p) : null;
        nodes.put(root.relativize(p).toString(),
            new Node(mode, (Integer) stat.get("nlink"), (Long) stat.get("ino"), (Long) stat.get("size"), content));
      }
    }
    return nodes;
  }

  /** The regular files' names grouped by inode: inode numbers differ between the trees, groups must not. */
  private static Set<SortedSet<String>> linkGroups(SortedMap<String, Node> nodes) {
    Map<Long, SortedSet<String>> byInode = new TreeMap<>();
    nodes.forEach((name, node) -> {
      if (node.isFile()) {
        byInode.computeIfAbsent(node.inode(), i -> new TreeSet<>()).add(name);
      }
    });
    return new HashSet<>(byInode.values());
  }

  private static void assertSameBytes(byte[] expected, byte[] actual, String what) {
    if (Arrays.equals(expected, actual)) {
      return;
    }
    if (expected == null || actual == null) {
      throw new AssertionError(what + ": model " + (expected == null ? "nothing" : expected.length + " bytes")
          + ", mount " + (actual == null ? "nothing" : actual.length + " bytes"));
    }
    int at = Arrays.mismatch(expected, actual);
    String bytes = at < Math.min(expected.length, actual.length)
        ? String.format(" (model %d, mount %d)", expected[at], actual[at])
        : "";
    throw new AssertionError(String.format("%s: model %d bytes, mount %d bytes, first difference at offset %d%s", what,
        expected.length, actual.length, at, bytes));
  }

  /** One name's stat and, for a regular file, its bytes. */
  private record Node(int mode, int nlink, long inode, long size, byte[] content) {
    boolean isFile() {
      return content != null;
    }
  }

  /** What an operation read (null if it reads nothing), or the exception it threw. */
  private record Outcome(byte[] read, IOException failure) {
    static Outcome of(Operation op, Path root) {
      try {
        return new Outcome(op.apply(root), null);
      } catch (IOException e) {
        return new Outcome(null, e);
      }
    }

    Class<?> failureClass() {
      return failure == null ? null : failure.getClass();
    }

    String describe() {
      return failure == null ? "succeeded" : failure.toString();
    }
  }

  /** One file operation, applied alike under either root. */
  private interface Operation {
    /** Applies this under root; returns the bytes it read, or null if it reads nothing. */
    byte[] apply(Path root) throws IOException;
  }

  /**
   * Positional write of {@code length} bytes generated from {@code content}, so that a write
   * replays from its description; {@code replace} truncates the file first (O_TRUNC).
   */
  private record Write(String name, long offset, int length, long content, boolean replace, boolean fsync)
      implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      byte[] bytes = new byte[length];
      new Random(content).nextBytes(bytes);
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      Set<OpenOption> options = replace ? Set.of(CREATE, WRITE, TRUNCATE_EXISTING) : Set.of(CREATE, WRITE);
      try (FileChannel channel = FileChannel.open(root.resolve(name), options)) {
        while (buffer.hasRemaining()) {
          channel.write(buffer, offset + buffer.position());
        }
        if (fsync) {
          channel.force(true);
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return String.format("write %s at %d, %d bytes of content %d%s%s", name, offset, length, content,
          replace ? ", O_TRUNC" : "", fsync ? ", fsync" : "");
    }
  }

  /** ftruncate(2) to any size, or (onOpen, size 0) an open with O_TRUNC, the kernel's other way to truncate. */
  private record Truncate(String name, long size, boolean onOpen) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      Path p = root.resolve(name);
      if (onOpen) {
        FileChannel.open(p, WRITE, TRUNCATE_EXISTING).close();
        return null;
      }
      // FileChannel.truncate never extends a file, RandomAccessFile.setLength does; but its "rw"
      // creates a missing file, so the channel opened first fails the way the other operations do.
      FileChannel.open(p, WRITE).close();
      try (RandomAccessFile file = new RandomAccessFile(p.toFile(), "rw")) {
        file.setLength(size);
      }
      return null;
    }

    @Override
    public String toString() {
      return onOpen ? "open " + name + " with O_TRUNC" : "truncate " + name + " to " + size;
    }
  }

  /**
   * Files.move with no option fails on an existing target; REPLACE_EXISTING unlinks the target
   * and then renames; ATOMIC_MOVE is rename(2) itself, which replaces the target in one step.
   */
  private record Rename(String from, String to, CopyOption... options) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      Files.move(root.resolve(from), root.resolve(to), options);
      return null;
    }

    @Override
    public String toString() {
      return "rename " + from + " to " + to + (options.length == 0 ? "" : " " + Arrays.toString(options));
    }
  }

  private record Link(String name, String existing) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      Files.createLink(root.resolve(name), root.resolve(existing));
      return null;
    }

    @Override
    public String toString() {
      return "link " + name + " to " + existing;
    }
  }

  private record Unlink(String name) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      Files.delete(root.resolve(name));
      return null;
    }

    @Override
    public String toString() {
      return "unlink " + name;
    }
  }

  private record Chmod(String name, int mode) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
      // PosixFilePermission lists owner read ... others execute, bit 8 down to bit 0.
      for (PosixFilePermission p : PosixFilePermission.values()) {
        if ((mode & (1 << (8 - p.ordinal()))) != 0) {
          permissions.add(p);
        }
      }
      Files.setPosixFilePermissions(root.resolve(name), permissions);
      return null;
    }

    @Override
    public String toString() {
      return String.format("chmod %03o %s", mode, name);
    }
  }

  private record Fsync(String name) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      try (FileChannel channel = FileChannel.open(root.resolve(name), WRITE)) {
        channel.force(true);
      }
      return null;
    }

    @Override
    public String toString() {
      return "fsync " + name;
    }
  }

  private record Read(String name, long offset, int length) implements Operation {
    @Override
    public byte[] apply(Path root) throws IOException {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      try (FileChannel channel = FileChannel.open(root.resolve(name), READ)) {
        while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) >= 0) {
          // a read may return less than asked before the end of the file: read on
        }
      }
      return Arrays.copyOf(buffer.array(), buffer.position());
    }

    @Override
    public String toString() {
      return "read " + name + " at " + offset + ", " + length + " bytes";
    }
  }
}
