package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstallManifestTest {
  @TempDir Path prefix;

  @Test
  void removesWhatItWroteAndTheDirectoriesItCreatedNothingElse() throws Exception {
    Files.createDirectories(prefix.resolve("share"));
    Files.writeString(prefix.resolve("share/theirs"), "not ours");
    install("share/man/man1/dedupfs.1", 1);
    install("bin/dedupfs", 2);
    assertTrue(Files.isExecutable(prefix.resolve("bin/dedupfs")));

    assertEquals(List.of(), manifest().removeAll());
    try (var left = Files.walk(prefix)) {
      assertEquals(List.of(prefix, prefix.resolve("share"), prefix.resolve("share/theirs")), left.sorted().toList());
    }
  }

  @Test
  void aSecondInstallKeepsTheDirectoriesTheFirstCreated() throws Exception {
    install("bin/dedupfs", 1);
    install("bin/dedupfs", 2);

    manifest().removeAll();
    assertFalse(Files.exists(prefix.resolve("bin")));
    assertFalse(Files.exists(prefix.resolve("lib")));
  }

  @Test
  void aDirectoryThatGotOtherFilesIsKept() throws Exception {
    install("bin/dedupfs", 1);
    Files.writeString(prefix.resolve("bin/other"), "installed later by someone else");

    assertEquals(List.of(prefix.resolve("bin")), manifest().removeAll());
    assertTrue(Files.exists(prefix.resolve("bin/other")));
    assertFalse(Files.exists(prefix.resolve("bin/dedupfs")));
  }

  /** One install run that writes one file. */
  private void install(String path, int content) throws IOException {
    InstallManifest manifest = manifest();
    manifest.write(prefix.resolve(path), new byte[] {(byte) content}, InstallManifest.EXECUTABLE);
    manifest.save();
  }

  private InstallManifest manifest() throws IOException {
    return InstallManifest.at(prefix.resolve("lib/dedupfs/installed-files"));
  }
}
