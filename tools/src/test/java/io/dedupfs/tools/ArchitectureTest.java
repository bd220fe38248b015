package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the layering of STYLE.md: store imports nothing of ours; fs and gc only store; and each
 * foreign library has one owning package.
 */
class ArchitectureTest {
  private static final Path ROOT = Path.of("..");

  /** Module → packages of ours it may not import. */
  private static final Map<String, List<String>> FORBIDDEN_LAYERS = Map.of(
      "store", List.of("io.dedupfs.fs", "io.dedupfs.gc", "io.dedupfs.tools"),
      "fs", List.of("io.dedupfs.gc", "io.dedupfs.tools"),
      "gc", List.of("io.dedupfs.fs", "io.dedupfs.tools"));

  /** Foreign library package → the one package prefix allowed to import it. */
  private static final Map<String, String> LIBRARY_OWNERS = Map.of(
      "org.lmdbjava", "store/src/main/java/io/dedupfs/store/index/",
      "com.github.luben.zstd", "store/src/main/java/io/dedupfs/store/compress/",
      "org.bouncycastle", "store/src/main/java/io/dedupfs/store/crypto/",
      "jnr.ffi", "fs/src/main/java/io/dedupfs/fs/fuse/",
      "jnr.constants", "fs/src/main/java/io/dedupfs/fs/fuse/");

  @Test
  void modulesImportOnlyTheLayersBelowThem() throws IOException {
    List<String> violations = new ArrayList<>();
    for (var layer : FORBIDDEN_LAYERS.entrySet()) {
      for (Path file : sources(layer.getKey())) {
        for (String imported : imports(file)) {
          if (layer.getValue().stream().anyMatch(imported::startsWith)) {
            violations.add(ROOT.relativize(file) + " imports " + imported);
          }
        }
      }
    }
    assertTrue(violations.isEmpty(), String.join("\n", violations));
  }

  @Test
  void eachForeignLibraryHasOneOwningPackage() throws IOException {
    List<String> violations = new ArrayList<>();
    int scanned = 0;
    for (String module : List.of("store", "fs", "gc", "tools")) {
      for (Path file : sources(module)) {
        scanned++;
        String relative = ROOT.relativize(file).toString().replace('\\', '/');
        for (String imported : imports(file)) {
          for (var owner : LIBRARY_OWNERS.entrySet()) {
            if (imported.startsWith(owner.getKey()) && !relative.startsWith(owner.getValue())) {
              violations.add(relative + " imports " + imported + " (only " + owner.getValue() + " may)");
            }
          }
        }
      }
    }
    assertTrue(scanned > 20, "found the sources: " + scanned);
    assertTrue(violations.isEmpty(), String.join("\n", violations));
  }

  private static List<Path> sources(String module) throws IOException {
    Path dir = ROOT.resolve(module).resolve("src/main/java");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  private static List<String> imports(Path file) throws IOException {
    List<String> result = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String t = line.strip();
      if (t.startsWith("import ")) {
        result.add(t.substring(7).replace("static ", "").replace(";", "").strip());
      }
    }
    return result;
  }
}
