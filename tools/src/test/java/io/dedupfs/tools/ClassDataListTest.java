package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The class list archived for class data sharing names our classes as they are: one renamed or
 * removed since tools/class-list.sh last ran would load the slow way without anyone noticing.
 */
class ClassDataListTest {
  @Test
  void everyDedupfsClassListedExists() throws IOException {
    List<String> ours = listed().stream().filter(name -> name.startsWith("io/dedupfs/")).toList();
    assertTrue(ours.size() > 200, "the list holds the mount's classes: " + ours.size());
    List<String> missing = ours.stream().filter(name -> !exists(name)).toList();
    assertEquals(List.of(), missing, "run tools/class-list.sh (as root) to list the classes anew");
  }

  @Test
  void theMountsCoreClassesAreListed() throws IOException {
    List<String> listed = listed();
    for (Class<?> c : List.of(io.dedupfs.fs.fuse.FuseAdapter.class, io.dedupfs.store.ingest.IngestPipeline.class,
        io.dedupfs.store.index.ChunkIndex.class, MountCommand.class)) {
      assertTrue(listed.contains(c.getName().replace('.', '/')), c.getName());
    }
  }

  private static List<String> listed() throws IOException {
    try (InputStream in = ClassDataArchive.class.getResourceAsStream("class-data.lst")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .filter(line -> !line.startsWith("#") && !line.startsWith("@"))
          .toList();
    }
  }

  private static boolean exists(String name) {
    return ClassDataListTest.class.getClassLoader().getResource(name + ".class") != null;
  }
}
