package io.dedupfs.store.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.crypto.KdfParameters;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Model-based test: the same random operations are applied to the namespace and to a real
 * directory of this machine's filesystem (the oracle). After every step both must have succeeded
 * or failed with the same errno, and the trees must agree on names, types, link counts, symlink
 * targets and which names share an inode. The seed is printed on failure.
 */
class NamespaceModelTest {
  private static final String[] NAMES = {"a", "b", "c", "d", "dir é"};
  private static final int STEPS = 1500;

  @TempDir Path tmp;
  private Path oracle;
  private Namespace ns;

  /** Plain, and encrypted: then names are tokens in the keys and everything else is sealed (FORMAT.md §12.4). */
  @ParameterizedTest(name = "encrypted: {0}")
  @ValueSource(booleans = {false, true})
  void randomOperationsAgreeWithALocalFilesystem(boolean encrypted) throws Exception {
    long seed = Long.getLong("namespace.seed", System.nanoTime());
    Random random = new Random(seed);
    oracle = Files.createDirectory(tmp.resolve("oracle"));
    Repository.OpenOptions options = new Repository.OpenOptions(ChunkIndex.DEFAULT_MAP_SIZE,
        "passphrase"::toCharArray, new KdfParameters(64, 1, 1));
    try (Repository repo = Repository.init(tmp.resolve("repo"),
        RepositoryConfig.create(ChunkerParameters.DEFAULT, Compression.DEFAULT, encrypted), options)) {
      ns = Namespace.open(repo.index(), Clock.systemUTC());
      for (int step = 0; step < STEPS; step++) {
        String op = step(random);
        String context = "seed " + seed + " (rerun with -Dnamespace.seed=" + seed + "), step " + step + ": " + op;
        compareTrees(context);
      }
      // The same tree after reopening the repository.
      repo.close();
      try (Repository reopened = Repository.open(tmp.resolve("repo"), options)) {
        ns = Namespace.open(reopened.index(), Clock.systemUTC());
        compareTrees("seed " + seed + ", after reopening");
      }
    }
  }

  /** Runs one random operation on both sides; returns a description. */
  private String step(Random random) throws Exception {
    List<String> dirs = new ArrayList<>();
    List<String> all = new ArrayList<>();
    collect("", dirs, all);
    String parent = dirs.get(random.nextInt(dirs.size()));
    String name = NAMES[random.nextInt(NAMES.length)];
    String fresh = join(parent, name);
    String existing = all.isEmpty() ? fresh : all.get(random.nextInt(all.size()));
    int kind = random.nextInt(100);
    if (kind < 15) {
      return both("mkdir " + fresh, () -> Files.createDirectory(oracle.resolve(fresh)),
          () -> ns.mknod(resolve(parent), Name.of(name), Mode.S_IFDIR | 0755, 0, 0, 0));
    } else if (kind < 30) {
      return both("create " + fresh, () -> Files.createFile(oracle.resolve(fresh)),
          () -> ns.mknod(resolve(parent), Name.of(name), Mode.S_IFREG | 0644, 0, 0, 0));
    } else if (kind < 37) {
      String target = "../t" + random.nextInt(5);
      return both("symlink " + fresh + " -> " + target, () -> Files.createSymbolicLink(oracle.resolve(fresh), Path.of(target)),
          () -> ns.symlink(resolve(parent), Name.of(name), target.getBytes(StandardCharsets.UTF_8), 0, 0));
    } else if (kind < 47) {
      return both("link " + existing + " as " + fresh, () -> Files.createLink(oracle.resolve(fresh), oracle.resolve(existing)),
          () -> ns.link(resolve(existing), resolve(parent), Name.of(name)));
    } else if (kind < 60) {
      if (Files.isDirectory(oracle.resolve(existing), LinkOption.NOFOLLOW_LINKS)) {
        return both("rmdir " + existing, () -> Files.delete(oracle.resolve(existing)),
            () -> ns.rmdir(resolve(parentOf(existing)), Name.of(nameOf(existing))));
      }
      return both("unlink " + existing, () -> Files.delete(oracle.resolve(existing)),
          () -> ns.unlink(resolve(parentOf(existing)), Name.of(nameOf(existing))));
    } else if (kind < 92) {
      return both("rename " + existing + " to " + fresh,
          () -> Files.move(oracle.resolve(existing), oracle.resolve(fresh), StandardCopyOption.ATOMIC_MOVE),
          () -> ns.rename(resolve(parentOf(existing)), Name.of(nameOf(existing)), resolve(parent), Name.of(name)));
    } else {
      if (Files.isSymbolicLink(oracle.resolve(existing))) {
        return "skip chmod of a symlink";
      }
      int perms = random.nextBoolean() ? 0700 : 0755;
      return both("chmod " + Integer.toOctalString(perms) + " " + existing,
          () -> Files.setPosixFilePermissions(oracle.resolve(existing),
              PosixFilePermissions.fromString(perms == 0700 ? "rwx------" : "rwxr-xr-x")),
          () -> ns.setAttributes(resolve(existing), AttributeChange.permissions(perms)));
    }
  }

  private interface Action {
    void run() throws Exception;
  }

  private String both(String description, Action onOracle, Action onNamespace) {
    String expected = outcome(onOracle);
    String actual = outcome(onNamespace);
    assertEquals(expected, actual, description + ": the namespace must fail (or not) like the local filesystem");
    return description + " -> " + expected;
  }

  private static String outcome(Action action) {
    try {
      action.run();
      return "ok";
    } catch (Exception e) {
      return errno(e);
    }
  }

  /** The errno an exception stands for, as the FUSE edge will map it. */
  static String errno(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "ENOENT";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "EEXIST";
    }
    if (e instanceof DirectoryNotEmptyException) {
      return "ENOTEMPTY";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      String r = f.getReason();
      if (r.contains("Directory not empty")) {
        return "ENOTEMPTY";
      }
      if (r.contains("Is a directory")) {
        return "EISDIR";
      }
      if (r.contains("Not a directory")) {
        return "ENOTDIR";
      }
      if (r.contains("Invalid argument")) {
        return "EINVAL";
      }
      if (r.contains("Operation not permitted")) {
        return "EPERM";
      }
    }
    throw new AssertionError("unexpected exception", e);
  }

  /** Inode of a path of the oracle in the namespace; ENOENT if a component is missing. */
  private long resolve(String path) throws IOException {
    return NamespacePaths.walk(ns, path).number();
  }

  private void collect(String dir, List<String> dirs, List<String> all) throws IOException {
    dirs.add(dir);
    try (Stream<Path> entries = Files.list(oracle.resolve(dir.isEmpty() ? "." : dir))) {
      for (Path p : entries.sorted().toList()) {
        String rel = join(dir, p.getFileName().toString());
        all.add(rel);
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          collect(rel, dirs, all);
        }
      }
    }
  }

  private void compareTrees(String context) throws IOException {
    Map<Object, Long> oracleToNamespace = new HashMap<>();
    compareDirectory("", Namespace.ROOT, oracleToNamespace, context);
  }

  private void compareDirectory(String dir, long inode, Map<Object, Long> inodes, String context) throws IOException {
    TreeMap<String, Path> expected = new TreeMap<>();
    try (Stream<Path> entries = Files.list(oracle.resolve(dir.isEmpty() ? "." : dir))) {
      entries.forEach(p -> expected.put(p.getFileName().toString(), p));
    }
    TreeMap<String, DirEntry> actual = new TreeMap<>();
    for (DirEntry e : ns.list(inode, null, Integer.MAX_VALUE)) {
      actual.put(e.name().toString(), e);
    }
    assertEquals(expected.keySet(), actual.keySet(), context + ": names in /" + dir);
    for (var entry : expected.entrySet()) {
      Path p = entry.getValue();
      DirEntry e = actual.get(entry.getKey());
      Inode i = ns.getattr(e.inode());
      String where = context + ": /" + join(dir, entry.getKey());
      boolean isDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
      boolean isLink = Files.isSymbolicLink(p);
      int expectedType = isDir ? Mode.S_IFDIR : isLink ? Mode.S_IFLNK : Mode.S_IFREG;
      assertEquals(expectedType, i.type(), where + " type");
      assertEquals(expectedType, e.type(), where + " type in its directory entry");
      assertEquals(((Number) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).intValue(), i.nlink(),
          where + " nlink");
      Object oracleInode = Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
      Long known = inodes.putIfAbsent(oracleInode, i.number());
      assertTrue(known == null || known == i.number(), where + ": names sharing an inode must share it here too");
      if (isLink) {
        assertEquals(Files.readSymbolicLink(p).toString(), new String(ns.readlink(i.number()), StandardCharsets.UTF_8),
            where + " symlink target");
      } else if (!isDir) {
        int perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS))
            .equals("rwx------") ? 0700 : -1;
        if (perms == 0700) {
          assertEquals(0700, i.mode() & Mode.PERMISSIONS, where + " permissions");
        }
      }
      if (isDir) {
        assertEquals(Namespace.ROOT == inode ? Namespace.ROOT : inode, i.parent(), where + " parent");
        compareDirectory(join(dir, entry.getKey()), i.number(), inodes, context);
      }
    }
  }

  private static String join(String dir, String name) {
    return dir.isEmpty() ? name : dir + "/" + name;
  }

  private static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  private static String nameOf(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
