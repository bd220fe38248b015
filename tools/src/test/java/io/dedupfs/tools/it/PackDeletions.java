package io.dedupfs.tools.it;

import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.stream.Stream;

/**
 * Watches a repository's pack files (REPO/packs/HH/N, FORMAT.md §2) for deletion, through inotify.
 * Only a collection deletes pack files, and only in its last step (§11 step 7: after each pack it
 * rewrote, and then the empty ones), so a deletion seen during a collection says that step is
 * under way.
 */
final class PackDeletions implements AutoCloseable {
  private final WatchService watch;
  private boolean seen;

  /** Watches the pack directories there are now: a pack a collection deletes is older than the collection. */
  PackDeletions(Path repository) throws IOException {
    watch = repository.getFileSystem().newWatchService();
    try (Stream<Path> dirs = Files.list(repository.resolve("packs"))) {
      for (Path d : dirs.toList()) {
        d.register(watch, ENTRY_DELETE);
      }
    } catch (IOException e) {
      watch.close();
      throw e;
    }
  }

  /** Whether a pack file has been deleted since this watch began. */
  boolean seen() {
    for (WatchKey k; !seen && (k = watch.poll()) != null; ) {
      seen = !k.pollEvents().isEmpty();
      k.reset();
    }
    return seen;
  }

  @Override
  public void close() throws IOException {
    watch.close();
  }
}
