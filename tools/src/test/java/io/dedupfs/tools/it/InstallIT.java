package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.dedupfs;
import static io.dedupfs.tools.it.Mounted.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dedupfs install} into a temporary prefix, then mount(8) and umount(8) as an administrator
 * or an fstab line would use them, then {@code dedupfs uninstall}. The mount helper has to be in
 * /sbin for mount(8) to find it, so this writes /sbin/mount.fuse.dedupfs and removes it however
 * the test ends; it refuses to run over one installed for real.
 */
class InstallIT {
  private static final Path MOUNT_HELPER = Path.of("/sbin/mount.fuse.dedupfs");
  private static final Pattern PROCESS = Pattern.compile("\\(process (\\d+),");

  @TempDir Path dir;
  private Path prefix;
  private Path mnt;

  @BeforeEach
  void noRealInstallInTheWay() throws Exception {
    assertFalse(Files.exists(MOUNT_HELPER), MOUNT_HELPER + " is installed on this machine; this test would replace it");
    prefix = Files.createDirectories(dir.resolve("prefix"));
    // Something already under the prefix, which uninstall must leave alone.
    Files.writeString(Files.createDirectories(prefix.resolve("share/man/man1")).resolve("other.1"), "not dedupfs's");
    mnt = Files.createDirectories(dir.resolve("mnt"));
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (run("mountpoint", "-q", mnt.toString()).exit() == 0) {
      run("umount", "-l", mnt.toString());
    }
    Files.deleteIfExists(MOUNT_HELPER);
  }

  @Test
  void installedMountHelperMountsThroughMountAndUmount() throws Exception {
    List<String> before = listing(prefix);
    Mounted.Result install = dedupfs("install", "--prefix", prefix.toString());
    assertEquals(0, install.exit(), install.output());
    assertTrue(Files.isExecutable(MOUNT_HELPER), install.output());
    Path dedupfs = prefix.resolve("bin/dedupfs");
    assertTrue(Files.exists(prefix.resolve("share/man/man1/dedupfs-mount.1")), listing(prefix).toString());
    assertTrue(Files.readString(prefix.resolve("share/bash-completion/completions/dedupfs")).contains("complete"));
    // The installed launcher hands the class-data archive to the JVM, which maps our classes from it.
    assertTrue(Files.isRegularFile(prefix.resolve("lib/dedupfs/dedupfs.jsa")), install.output());
    Mounted.Result loaded = run("env", "DEDUPFS_JAVA_OPTS=-Xmx256m -Xlog:class+load=info", dedupfs.toString(), "--version");
    assertTrue(loaded.output().contains("io.dedupfs.tools.Main source: shared objects file"),
        loaded.output().lines().filter(l -> l.contains("io.dedupfs.tools.Main")).toList().toString());

    Path repo = dir.resolve("repo");
    assertEquals(0, run(dedupfs.toString(), "init", repo.toString()).exit());
    long pid = mount(repo);
    Files.writeString(mnt.resolve("hello.txt"), "written through mount -t fuse.dedupfs\n");
    unmountAndAwaitExit(pid);
    Mounted.Result check = run(dedupfs.toString(), "check", repo.toString());
    assertEquals(0, check.exit(), check.output());

    unmountAndAwaitExit(mount(repo), () -> assertEquals("written through mount -t fuse.dedupfs\n",
        Files.readString(mnt.resolve("hello.txt"))));

    Mounted.Result uninstall = run(dedupfs.toString(), "uninstall", "--prefix", prefix.toString());
    assertEquals(0, uninstall.exit(), uninstall.output());
    assertFalse(Files.exists(MOUNT_HELPER));
    assertEquals(before, listing(prefix));
  }

  /** mount(8) with dedupfs's own option and ones only mount(8) knows, as an fstab line has them. */
  private long mount(Path repo) throws Exception {
    Mounted.Result r = run("mount", "-t", "fuse.dedupfs", repo.toString(), mnt.toString(), "-o", "memory=64M,defaults,_netdev");
    assertEquals(0, r.exit(), r.output());
    Matcher m = PROCESS.matcher(r.output());
    assertTrue(m.find(), r.output());
    return Long.parseLong(m.group(1));
  }

  private void unmountAndAwaitExit(long pid) throws Exception {
    unmountAndAwaitExit(pid, () -> {});
  }

  /** Runs {@code whileMounted}, then umount(8); the filesystem process must commit and exit by itself. */
  private void unmountAndAwaitExit(long pid, Step whileMounted) throws Exception {
    whileMounted.run();
    Mounted.Result umount = run("umount", mnt.toString());
    assertEquals(0, umount.exit(), umount.output());
    var process = ProcessHandle.of(pid);
    if (process.isPresent()) {
      process.get().onExit().get(30, TimeUnit.SECONDS);
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private static List<String> listing(Path root) throws Exception {
    try (Stream<Path> paths = Files.walk(root)) {
      return paths.map(p -> root.relativize(p) + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
    }
  }
}
