package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.io.FileTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * dedupfs check --repair through the command line: a lost index rebuilt unmounted, after which the
 * snapshots hold what was written and the newest one is the live tree; then, mounted, a repair
 * through the control socket that finds nothing to repair.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RepairIT {
  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void aLostIndexIsRebuiltFromThePacksAndSnapshots() throws Exception {
    fs = Mounted.fresh(dir);
    Path src = Files.createDirectories(dir.resolve("src"));
    Path expected = Files.createDirectories(dir.resolve("expected"));
    for (int s = 1; s <= 2; s++) {
      sh("cd '" + src + "' && mkdir -p d" + s + " && for i in $(seq 1 8); do head -c $((RANDOM % 300000 + 1000)) /dev/urandom"
          + " > d" + s + "/f$i; done && ln -f d" + s + "/f1 d" + s + "/link");
      sh("rsync -aH '" + src + "/' '" + fs.mountpoint + "/tree/' && mkdir '" + fs.mountpoint + "/.snapshots/s" + s
          + "' && cp -a '" + src + "' '" + expected + "/s" + s + "'");
    }
    fs.unmount();
    FileTrees.delete(fs.repository.resolve("index"));

    Mounted.Result refused = Mounted.dedupfs("check", fs.repository.toString());
    assertEquals(1, refused.exit(), refused.output());
    assertTrue(refused.output().contains("check --repair"), refused.output());
    Mounted.Result repaired = Mounted.dedupfs("check", fs.repository.toString(), "--repair", "--json");
    assertEquals(0, repaired.exit(), repaired.output());
    assertTrue(repaired.output().contains("\"clean\":true") && repaired.output().contains("index was missing"),
        repaired.output());
    Mounted.Result check = Mounted.dedupfs("check", fs.repository.toString(), "--read-data");
    assertEquals(0, check.exit(), check.output());

    fs.mount();
    for (int s = 1; s <= 2; s++) {
      assertEquals("", BackupTree.differences(fs.mountpoint.resolve(".snapshots/s" + s + "/tree"), expected.resolve("s" + s)),
          "snapshot s" + s + " as written");
    }
    assertEquals("", BackupTree.differences(fs.mountpoint.resolve("tree"), expected.resolve("s2")),
        "the live tree is the newest snapshot");
    Mounted.Result mounted = Mounted.dedupfs("check", fs.repository.toString(), "--repair");
    assertEquals(0, mounted.exit(), mounted.output());
    assertTrue(mounted.output().contains("no problem") && !mounted.output().contains("repaired:"), mounted.output());
  }
}
