package io.dedupfs.tools.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The crash harness's snapshots: {@code mkdir MOUNT/.snapshots/sN} every 0.3 to 1.5 s while the
 * rest of the workload goes on, {@code rmdir} of the oldest beyond {@link #KEEP}, and what the
 * filesystem owes for them. A snapshot whose mkdir returned exists until its rmdir returns, and
 * never again after; what it holds, read right after it was taken, never changes; and it holds
 * exactly what the harness knew of the live tree throughout its mkdir (files fsync'ed and not
 * written meanwhile, a tree rsync finished copying).
 */
final class SnapshotTaker {
  static final int KEEP = 2;
  private static final long TREE_WAIT_MILLIS = 3000;
  private static final int DEPARTURES_SHOWN = 5;

  private final Path snapshots;
  private final List<KnownContent> known;
  private final KnownContent tree;
  /** Oldest first: those whose mkdir returned and whose rmdir did not. */
  private final List<Taken> kept = new ArrayList<>();
  private final Set<String> deleted = new HashSet<>();
  /** Names whose mkdir or rmdir was under way when the kill came: either outcome is right. */
  private String creating;
  private String deleting;
  private int next = 1;
  /** Snapshots read against what was known when they were taken, over all rounds; and with a known rsync'ed tree. */
  int checkedAgainstKnown;
  int holdingKnownTree;
  long expectedEntries;

  /** A snapshot, what it must hold, and what it was found to hold once read. */
  private static final class Taken {
    final String name;
    final Map<String, TreeManifest.Entry> expected;
    SortedMap<String, TreeManifest.Entry> manifest;

    Taken(String name, Map<String, TreeManifest.Entry> expected) {
      this.name = name;
      this.expected = expected;
    }
  }

  /** {@code known}: what the harness knows of the live tree, {@code tree} among it the rsync'ed tree. */
  SnapshotTaker(Path mountpoint, List<KnownContent> known, KnownContent tree) {
    this.snapshots = mountpoint.resolve(".snapshots");
    this.known = known;
    this.tree = tree;
  }

  /**
   * Snapshots deleted and taken until {@code round} is killed; {@code gc} hears of each deletion.
   * Every other snapshot first waits up to {@link #TREE_WAIT_MILLIS} for a moment when rsync has
   * finished, so that many hold a whole known tree.
   */
  void run(CrashRound round, SplittableRandom r, GcLoop gc) throws IOException, InterruptedException {
    while (!round.killed()) {
      round.pause(r.nextLong(300, 1500));
      // Deleted first, so that rounds killed before they get far delete some too.
      while (kept.size() >= KEEP) {
        deleting = kept.get(0).name;
        Path doomed = snapshots.resolve(deleting);
        round.phases().during(Phase.SNAPSHOT, () -> Files.delete(doomed));
        deleted.add(kept.remove(0).name);
        deleting = null;
        gc.snapshotDeleted();
      }
      if (r.nextBoolean()) {
        awaitKnownTree(round);
      }
      Taken t = take(round.phases());
      kept.add(t);
      creating = null;
      read(t, round);
    }
  }

  private void awaitKnownTree(CrashRound round) throws InterruptedException {
    for (long waited = 0; waited < TREE_WAIT_MILLIS && tree.entries().isEmpty() && !round.killed(); waited += 10) {
      round.pause(10);
    }
  }

  /** mkdir of a new snapshot; what it must hold is what stayed known from before it to after. */
  private Taken take(Phase.Tracker phases) throws IOException, InterruptedException {
    Map<KnownContent, Long> versions = new HashMap<>();
    Map<KnownContent, Map<String, TreeManifest.Entry>> before = new HashMap<>();
    for (KnownContent k : known) {
      versions.put(k, k.version());
      before.put(k, k.entries());
    }
    creating = "s" + next++;
    Path snapshot = snapshots.resolve(creating);
    phases.during(Phase.SNAPSHOT, () -> Files.createDirectory(snapshot));
    Map<String, TreeManifest.Entry> expected = new HashMap<>();
    for (KnownContent k : known) {
      long v = versions.get(k);
      if (v % 2 == 0 && k.version() == v) {
        expected.putAll(before.get(k));
      }
    }
    return new Taken(creating, expected);
  }

  /** Reads a snapshot for the first time: it must hold what was expected; from now on, what was found. */
  private void read(Taken t, CrashRound round) throws IOException {
    t.manifest = TreeManifest.read(snapshots.resolve(t.name), "");
    List<String> wrong = TreeManifest.departures(t.expected, t.manifest, DEPARTURES_SHOWN);
    if (!wrong.isEmpty()) {
      round.fail("snapshot " + t.name + " does not hold the tree as it was when taken: " + wrong);
    }
    checkedAgainstKnown++;
    holdingKnownTree += t.expected.containsKey(RsyncLoop.TREE) ? 1 : 0;
    expectedEntries += t.expected.size();
  }

  /**
   * After a kill and a new mount: every snapshot owed is there and unchanged, no deleted one is
   * back, and nothing else is there. Those taken but not read yet are read now.
   */
  void verifyAfterKill(CrashRound round) throws IOException {
    Set<String> present;
    try (Stream<Path> list = Files.list(snapshots)) {
      present = new HashSet<>(list.map(p -> p.getFileName().toString()).toList());
    }
    if (deleting != null && !present.contains(deleting)) {
      deleted.add(kept.remove(0).name);
    }
    if (creating != null && present.contains(creating)) {
      // Its mkdir never returned: when it was taken is not known, nor what it must hold.
      kept.add(new Taken(creating, Map.of()));
    }
    creating = null;
    deleting = null;
    for (Iterator<Taken> i = kept.iterator(); i.hasNext(); ) {
      Taken t = i.next();
      if (!present.remove(t.name)) {
        round.fail("snapshot " + t.name + " is gone, though its mkdir returned and no rmdir did");
        i.remove();
      } else if (t.manifest == null) {
        read(t, round);
        round.verifiedSnapshot(bytes(t.manifest));
      } else {
        SortedMap<String, TreeManifest.Entry> now = TreeManifest.read(snapshots.resolve(t.name), "");
        List<String> changed = TreeManifest.departures(t.manifest, now, DEPARTURES_SHOWN);
        if (!changed.isEmpty()) {
          round.fail("snapshot " + t.name + " changed: " + changed);
          t.manifest = now;
        }
        round.verifiedSnapshot(bytes(now));
      }
    }
    for (String name : present) {
      round.fail("snapshot " + name + " is there, though " + (deleted.contains(name) ? "its rmdir returned" : "it was never taken"));
    }
  }

  private static long bytes(Map<String, TreeManifest.Entry> manifest) {
    return manifest.values().stream().filter(TreeManifest.Entry::isRegularFile).mapToLong(TreeManifest.Entry::size).sum();
  }
}
