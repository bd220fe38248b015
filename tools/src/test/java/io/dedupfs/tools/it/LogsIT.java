package io.dedupfs.tools.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem process's log: in the repository, naming no file of the mount unless at debug
 * level, and rotated so that it stays bounded.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LogsIT {
  private static final String FILE_NAME = "private-name-4711";
  /** A small rotation size, so that a few thousand debug lines rotate the log several times. */
  private static final int FILE_SIZE = 16 << 10;

  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void atTheDefaultLevelTheLogNamesNoFileOfTheMount() throws Exception {
    fs = Mounted.fresh(dir);
    useNames(fs.mountpoint);
    fs.unmount();
    String log = log(fs.repository);
    assertTrue(log.contains(" INFO ") && log.contains("mounted " + fs.repository), log);
    assertFalse(log.contains(FILE_NAME), log);
  }

  @Test
  void atDebugLevelItDoes() throws Exception {
    fs = Mounted.fresh(dir, "--log-level", "debug");
    useNames(fs.mountpoint);
    fs.unmount();
    String log = log(fs.repository);
    assertTrue(log.contains(FILE_NAME), log);
  }

  @Test
  void theLogIsRotatedAndBounded() throws Exception {
    Path repo = dir.resolve("repo");
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    assertEquals(0, Mounted.dedupfs("init", repo.toString()).exit());
    List<String> mount = new ArrayList<>(List.of(Mounted.dedupfsCommand("--log-level", "debug", "mount", repo.toString(),
        mnt.toString(), "--memory", "64M")));
    // FilesystemProcess passes the JVM's options on to the filesystem process.
    mount.add(1, "-Ddedupfs.log.fileSize=" + FILE_SIZE);
    Mounted.Result mounted = Mounted.run(mount.toArray(String[]::new));
    assertEquals(0, mounted.exit(), mounted.output());
    try {
      for (int i = 0; i < 3000; i++) {
        // Each a lookup answered ENOENT: a debug line.
        assertFalse(Files.exists(mnt.resolve("missing-" + i)));
      }
    } finally {
      Mounted.Result umount = Mounted.dedupfs("umount", mnt.toString());
      assertEquals(0, umount.exit(), umount.output());
    }
    Map<String, Long> sizes = new TreeMap<>();
    try (Stream<Path> files = Files.list(repo)) {
      for (Path f : (Iterable<Path>) files.filter(f -> f.getFileName().toString().startsWith("dedupfs.log"))::iterator) {
        sizes.put(f.getFileName().toString(), Files.size(f));
      }
    }
    assertEquals(List.of("dedupfs.log", "dedupfs.log.1", "dedupfs.log.2", "dedupfs.log.3"), List.copyOf(sizes.keySet()),
        "the log and three older ones: " + sizes);
    for (var file : sizes.entrySet()) {
      // Rotation comes before the line that would pass the size: at most one line over.
      assertTrue(file.getValue() <= FILE_SIZE + 1024, "within a line of " + FILE_SIZE + " bytes: " + sizes);
    }
    assertTrue(log(repo).contains("unmounted"), "the newest file has the last lines");
  }

  /** Creates {@value #FILE_NAME} in the mount and looks up a name that is not there. */
  private static void useNames(Path mnt) throws Exception {
    Files.writeString(mnt.resolve(FILE_NAME), "data");
    assertFalse(Files.exists(mnt.resolve("missing-" + FILE_NAME)));
  }

  private static String log(Path repo) throws Exception {
    return Files.readString(repo.resolve("dedupfs.log"), StandardCharsets.ISO_8859_1);
  }
}
