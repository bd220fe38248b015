package io.dedupfs.tools.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An encrypted repository through the command line: made with init --encrypt, mounted with the
 * passphrase handed over a pipe to the filesystem process, checked, refused with a wrong
 * passphrase without a byte changing, opened with a new passphrase after change-passphrase, and
 * its index rebuilt by check --repair from what is sealed.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EncryptionIT {
  private static final Path SOURCE = Path.of("/usr/share/doc");

  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void anEncryptedRepositoryWorksEndToEndAndOnlyWithItsPassphrase() throws Exception {
    Path repo = dir.resolve("repo");
    Path mnt = dir.resolve("mnt");
    String first = Files.writeString(dir.resolve("first"), "first passphrase\n").toString();
    String second = Files.writeString(dir.resolve("second"), "second passphrase\n").toString();
    String wrong = Files.writeString(dir.resolve("wrong"), "wrong passphrase\n").toString();

    Mounted.Result init = Mounted.dedupfs("init", "--encrypt", "--passphrase-file", first, repo.toString());
    assertEquals(0, init.exit(), init.output());
    assertTrue(init.output().contains("created encrypted repository"), init.output());

    fs = Mounted.existing(repo, mnt, "--passphrase-file", first);
    Mounted.sh("rsync -a " + SOURCE + "/ " + mnt + "/doc/ && mkdir " + mnt + "/.snapshots/s1");
    Mounted.sh("diff -r --no-dereference " + SOURCE + " " + mnt + "/.snapshots/s1/doc");
    fs.unmount();
    assertEquals(0, Mounted.dedupfs("check", "--read-data", "--passphrase-file", first, repo.toString()).exit());

    TreeMap<String, String> before = state(repo);
    for (String[] command : new String[][] {
        {"check", "--passphrase-file", wrong, repo.toString()},
        {"snapshot", "list", "--passphrase-file", wrong, repo.toString()},
        {"mount", "--passphrase-file", wrong, repo.toString(), mnt.toString()}}) {
      Mounted.Output out = Mounted.dedupfsApart(command);
      assertEquals(1, out.exit(), String.join(" ", command) + ": " + out);
      assertTrue(out.stderr().contains("wrong passphrase") && out.stderr().lines().count() == 1,
          "one line saying why: " + out);
    }
    assertTrue(Mounted.run("mountpoint", "-q", mnt.toString()).exit() != 0, "a refused mount mounts nothing");
    assertEquals(before, state(repo), "a refused passphrase changed the repository");

    Mounted.Result change = Mounted.dedupfs("key", "change-passphrase", "--passphrase-file", first,
        "--new-passphrase-file", second, repo.toString());
    assertEquals(0, change.exit(), change.output());
    assertEquals(1, Mounted.dedupfs("check", "--passphrase-file", first, repo.toString()).exit(),
        "the old passphrase no longer opens it");
    fs = Mounted.existing(repo, mnt, "--passphrase-file", second);
    Mounted.sh("diff -r --no-dereference " + SOURCE + " " + mnt + "/doc && diff -r --no-dereference " + SOURCE + " " + mnt + "/.snapshots/s1/doc");
    fs.unmount();

    // The index lost: rebuilt from the sealed packs and records, the live tree from the snapshot.
    Mounted.sh("rm -r " + repo + "/index");
    Mounted.Result repair = Mounted.dedupfs("check", "--repair", "--passphrase-file", second, repo.toString());
    assertEquals(0, repair.exit(), repair.output());
    fs = Mounted.existing(repo, mnt, "--passphrase-file", second);
    Mounted.sh("diff -r --no-dereference " + SOURCE + " " + mnt + "/doc && diff -r --no-dereference " + SOURCE + " " + mnt + "/.snapshots/s1/doc");
  }

  /**
   * Every file of the repository with its size and SHA-256, but the logs (dedupfs.log*,
   * dedupfs.stderr): a refused mount's filesystem process writes its failure there.
   */
  private static TreeMap<String, String> state(Path root) throws Exception {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        if (!f.getFileName().toString().startsWith("dedupfs.")) {
          byte[] bytes = Files.readAllBytes(f);
          out.put(root.relativize(f).toString(),
              bytes.length + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
        }
      }
    }
    return out;
  }
}
