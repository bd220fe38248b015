package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    Path manifestFile = prefix.resolve("lib/dedupfs/installed-files");
    InstallManifest manifest = InstallManifest.at(manifestFile);
    manifest.write(prefix.resolve("share/man/man1/dedupfs.1"), new byte[] {1}, InstallManifest.READABLE);
    manifest.write(prefix.resolve("bin/dedupfs"), new byte[] {2}, InstallManifest.EXECUTABLE);
    manifest.save();
    assertTrue(Files.isExecutable(prefix.resolve("bin/dedupfs")));

    assertEquals(List.of(), InstallManifest.at(manifestFile).removeAll());
    try (var left = Files.walk(prefix)) {
      assertEquals(List.of(prefix, prefix.resolve("share"), prefix.resolve("share/theirs")), left.sorted().toList());
    }
  }

  @Test
  void aSecondInstallKeepsTheDirectoriesTheFirstCreated() throws Exception {
    Path manifestFile = prefix.resolve("lib/dedupfs/installed-files");
    InstallManifest first = InstallManifest.at(manifestFile);
    first.write(prefix.resolve("bin/dedupfs"), new byte[] {1}, InstallManifest.EXECUTABLE);
    first.save();
    InstallManifest second = InstallManifest.at(manifestFile);
    second.write(prefix.resolve("bin/dedupfs"), new byte[] {2}, InstallManifest.EXECUTABLE);
    second.save();

    InstallManifest.at(manifestFile).removeAll();
    assertFalse(Files.exists(prefix.resolve("bin")));
    assertFalse(Files.exists(prefix.resolve("lib")));
  }

  @Test
  void aDirectoryThatGotOtherFilesIsKept() throws Exception {
    Path manifestFile = prefix.resolve("lib/dedupfs/installed-files");
    InstallManifest manifest = InstallManifest.at(manifestFile);
    manifest.write(prefix.resolve("bin/dedupfs"), new byte[] {1}, InstallManifest.EXECUTABLE);
    manifest.save();
    Files.writeString(prefix.resolve("bin/other"), "installed later by someone else");

    assertEquals(List.of(prefix.resolve("bin")), InstallManifest.at(manifestFile).removeAll());
    assertTrue(Files.exists(prefix.resolve("bin/other")));
    assertFalse(Files.exists(prefix.resolve("bin/dedupfs")));
  }
}
