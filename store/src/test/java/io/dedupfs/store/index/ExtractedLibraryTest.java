package io.dedupfs.store.index;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExtractedLibraryTest {
  @TempDir Path tmp;

  /** What killed processes left behind: LMDB's library, extracted to a temporary file and never deleted. */
  @Test
  void theExtractedLibraryIsGoneOnceAnIndexIsOpen() throws Exception {
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index"), new byte[16], 1 << 24, IndexSealing.NONE)) {
      List<String> mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
          .filter(line -> line.contains(ExtractedLibrary.PREFIX))
          .toList();
      assertFalse(mapped.isEmpty(), "LMDB is loaded from the file lmdbjava extracted");
      for (String line : mapped) {
        assertTrue(line.endsWith("(deleted)") && !Files.exists(Path.of(line.substring(line.indexOf('/')).replace(" (deleted)", ""))),
            "still on disk: " + line);
      }
    }
  }
}
