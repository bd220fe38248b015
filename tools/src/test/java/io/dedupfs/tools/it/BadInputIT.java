package io.dedupfs.tools.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the command line refuses, each with one line on stderr and exit code 1, changing nothing:
 * a repository of a newer format, a repository mounted already, a mountpoint that is missing, not
 * a directory or not empty, and a repository path where there is none.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BadInputIT {
  @TempDir Path dir;
  @AutoClose Mounted fs;

  /** Runs dedupfs expecting a refusal: exit 1 and one line on stderr, which is returned. */
  private static String refused(String... args) throws Exception {
    Mounted.Output out = Mounted.dedupfsApart(args);
    assertEquals(1, out.exit(), String.join(" ", args) + ": " + out);
    assertEquals(1, out.stderr().lines().count(), String.join(" ", args) + ": one line on stderr: " + out);
    assertTrue(out.stderr().startsWith("dedupfs: "), out.toString());
    return out.stderr();
  }

  private static boolean isMounted(Path dir) throws Exception {
    return Mounted.run("mountpoint", "-q", dir.toString()).exit() == 0;
  }

  @Test
  void aRepositoryOfANewerFormatIsRefusedNamingBothVersions() throws Exception {
    Path repo = dir.resolve("repo");
    assertEquals(0, Mounted.dedupfs("init", repo.toString()).exit());
    // FORMAT.md §3: the version is the big-endian u16 after the 8-byte magic.
    try (RandomAccessFile config = new RandomAccessFile(repo.resolve("config").toFile(), "rw")) {
      config.seek(8);
      config.writeShort(3);
    }
    byte[] before = Files.readAllBytes(repo.resolve("config"));
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    for (List<String> command : List.of(List.of("check", repo.toString()), List.of("mount", repo.toString(), mnt.toString()))) {
      String error = refused(command.toArray(String[]::new));
      assertTrue(error.contains("version 3") && error.contains("versions 1 to 2"), "names the versions: " + error);
    }
    assertFalse(isMounted(mnt));
    assertArrayEquals(before, Files.readAllBytes(repo.resolve("config")), "the config is left as it was");
  }

  @Test
  void aSecondMountOfTheSameRepositoryIsRefusedNamingTheHolder() throws Exception {
    fs = Mounted.fresh(dir);
    Path second = Files.createDirectories(dir.resolve("second"));
    String error = refused("mount", fs.repository.toString(), second.toString());
    assertTrue(error.contains("pid=" + fs.pid()) && error.contains("host=" + InetAddress.getLocalHost().getHostName()),
        "names the process holding it: " + error);
    assertFalse(isMounted(second));
    Files.writeString(fs.mountpoint.resolve("still"), "works");
    assertEquals("works", Files.readString(fs.mountpoint.resolve("still")), "the first mount is unaffected");
  }

  @Test
  void aMountpointThatIsMissingNotADirectoryOrNotEmptyIsRefused() throws Exception {
    Path repo = dir.resolve("repo");
    assertEquals(0, Mounted.dedupfs("init", repo.toString()).exit());
    Path missing = dir.resolve("missing");
    assertTrue(refused("mount", repo.toString(), missing.toString()).contains("does not exist"));
    assertFalse(Files.exists(missing), "a given mountpoint is not created");
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertTrue(refused("mount", repo.toString(), file.toString()).contains("not a directory"));
    Path full = Files.createDirectories(dir.resolve("full"));
    Files.writeString(full.resolve("inside"), "hidden by a mount");
    String error = refused("mount", repo.toString(), full.toString());
    assertTrue(error.contains("not empty") && error.contains("-o nonempty"), error);
    assertFalse(isMounted(full));

    Mounted.Result over = Mounted.dedupfs("mount", repo.toString(), full.toString(), "-o", "nonempty");
    assertEquals(0, over.exit(), "-o nonempty mounts over the files: " + over.output());
    try {
      assertTrue(isMounted(full));
      assertFalse(Files.exists(full.resolve("inside")), "the directory's own files are hidden while mounted");
    } finally {
      assertEquals(0, Mounted.dedupfs("umount", full.toString()).exit());
    }
    assertEquals("hidden by a mount", Files.readString(full.resolve("inside")));
  }

  @Test
  void aRepositoryPathWithNoRepositoryIsRefusedAndNothingIsCreated() throws Exception {
    Path missing = dir.resolve("no-such-repo");
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    String repo = missing.toString();
    List<List<String>> commands = List.of(
        List.of("mount", repo, mnt.toString()),
        List.of("check", repo),
        List.of("gc", repo),
        List.of("stats", repo),
        List.of("prune", repo, "--keep-last", "1"),
        List.of("snapshot", "create", repo),
        List.of("snapshot", "list", repo),
        List.of("snapshot", "delete", repo, "s"));
    for (List<String> command : commands) {
      String error = refused(command.toArray(String[]::new));
      assertTrue(error.contains(repo) && error.contains("no repository"), command + ": " + error);
      assertFalse(Files.exists(missing), command + " created " + missing);
    }
    // An empty directory is no repository either, and stays empty.
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertTrue(refused("check", empty.toString()).contains("not a dedupfs repository"));
    try (var entries = Files.list(empty)) {
      assertEquals(0, entries.count(), "nothing was created in " + empty);
    }
  }
}
