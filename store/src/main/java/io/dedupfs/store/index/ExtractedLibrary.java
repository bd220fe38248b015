package io.dedupfs.store.index;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Deletes the copy of LMDB's shared library that lmdbjava extracts into the temporary directory
 * once it is loaded. lmdbjava only asks for it to be deleted when the JVM exits normally, so every
 * killed or crashed process left one (330 KB) behind: 800 of them had piled up in /tmp here after
 * the crash tests. A loaded library stays mapped after its file is gone, as jffi and zstd-jni do
 * with theirs.
 */
final class ExtractedLibrary {
  static final String PREFIX = "lmdbjava-native-library-";

  private ExtractedLibrary() {}

  /** Deletes the extracted files this process has mapped: call once LMDB is loaded. */
  static void deleteLoaded() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int at = line.indexOf('/');
        if (at < 0 || line.endsWith("(deleted)")) {
          continue;
        }
        Path file = Path.of(line.substring(at));
        if (file.getFileName().toString().startsWith(PREFIX)) {
          Files.deleteIfExists(file);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or the file went already: at worst it stays until the JVM exits, as before.
    }
  }
}
