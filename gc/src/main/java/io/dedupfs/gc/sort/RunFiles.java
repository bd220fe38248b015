package io.dedupfs.gc.sort;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The run files of one sort, in a private directory that is created under the temporary directory
 * at the first spill, so that input which fits in memory writes nothing. A run file is raw sorted
 * keys with no header: it is not a persisted format and never outlives its sort.
 */
final class RunFiles implements Closeable {
  /** Names of the run directories start so, so that leftovers can be found. */
  static final String PREFIX = "dedupfs-sort-";

  private final Path parent;
  private Path directory;
  private int created;

  RunFiles(Path parent) {
    this.parent = parent;
  }

  /** The path of a new run file, not yet created. */
  Path next() throws IOException {
    if (directory == null) {
      directory = Files.createTempDirectory(parent, PREFIX);
    }
    return directory.resolve(String.format("run-%06d", created++));
  }

  void delete(Path run) throws IOException {
    Files.deleteIfExists(run);
  }

  /** Deletes every run file and the directory. */
  @Override
  public void close() throws IOException {
    if (directory == null) {
      return;
    }
    try (DirectoryStream<Path> runs = Files.newDirectoryStream(directory)) {
      for (Path run : runs) {
        Files.delete(run);
      }
    }
    Files.delete(directory);
    directory = null;
  }
}
