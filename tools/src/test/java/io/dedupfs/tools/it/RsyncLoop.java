package io.dedupfs.tools.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The crash harness's backup: {@code rsync -a --delete} of one of a few real trees (slices of
 * /usr/share) into {@code MOUNT/tree}, again and again: mostly the same slice, which then copies
 * only what a kill cut short, so that it often finishes within a round; one time in four any
 * slice, so that what the previous one stored becomes garbage once the snapshots holding it are
 * deleted. Between a finished rsync and the next, {@code MOUNT/tree} is known to be that slice.
 */
final class RsyncLoop implements KnownContent {
  /**
   * Directories of 1.5 to 3.5 MB, 20 to 600 entries (alsa and groff with symlinks), small enough
   * that an rsync often finishes within a round; those that exist are used.
   */
  private static final List<String> CANDIDATES = List.of("/usr/share/alsa", "/usr/share/groff", "/usr/share/perl5",
      "/usr/share/i18n/charmaps", "/usr/share/iso-codes", "/usr/share/info");
  static final String TREE = "tree";

  private final Path mountpoint;
  private final List<Path> slices;
  private final Map<Path, SortedMap<String, TreeManifest.Entry>> manifests = new HashMap<>();
  private final AtomicLong version = new AtomicLong();
  /** The slice {@code MOUNT/tree} holds while the version is even; null when not known. */
  private volatile Path known;
  private Path last;

  RsyncLoop(Path mountpoint) throws IOException {
    this.mountpoint = mountpoint;
    this.slices = CANDIDATES.stream().map(Path::of).filter(Files::isDirectory).toList();
    if (slices.size() < 2) {
      throw new IllegalStateException("the crash harness copies in at least two of " + CANDIDATES + "; found " + slices);
    }
    for (Path s : slices) {
      // As the mount will show them: a directory's size is the filesystem's own.
      SortedMap<String, TreeManifest.Entry> m = new TreeMap<>();
      TreeManifest.read(s, TREE).forEach((path, e) -> m.put(path, e.withoutDirectorySize()));
      manifests.put(s, m);
    }
  }

  /** rsync runs with pauses of up to 2 s between them, until {@code round} is killed. */
  void run(CrashRound round, SplittableRandom r) throws IOException, InterruptedException {
    while (!round.killed()) {
      round.pause(r.nextLong(200, 2000));
      Path slice = last != null && r.nextInt(4) != 0 ? last : slices.get(r.nextInt(slices.size()));
      last = slice;
      version.incrementAndGet();
      known = null;
      Process rsync = new ProcessBuilder("rsync", "-a", "--delete", slice + "/", mountpoint.resolve(TREE) + "/")
          .redirectErrorStream(true).start();
      StringBuilder output = new StringBuilder();
      round.phases().during(Phase.INGEST, () -> {
        output.append(new String(rsync.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        rsync.waitFor();
      });
      if (rsync.exitValue() != 0) {
        // The kill ends it with an error, which is no failure.
        if (!round.killed()) {
          round.fail("rsync of " + slice + " exited " + rsync.exitValue() + ": " + output.toString().strip());
        }
        return;
      }
      known = slice;
      version.incrementAndGet();
    }
  }

  /** After a kill: what rsync left in {@code MOUNT/tree} is not known any more. */
  void killed() {
    known = null;
    if (version.get() % 2 == 1) {
      version.incrementAndGet();
    }
  }

  @Override
  public long version() {
    return version.get();
  }

  @Override
  public Map<String, TreeManifest.Entry> entries() {
    Path slice = known;
    return slice == null ? Map.of() : manifests.get(slice);
  }
}
