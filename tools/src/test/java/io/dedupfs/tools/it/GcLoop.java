package io.dedupfs.tools.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The crash harness's collections: {@code dedupfs gc --json REPO}, as a user runs it beside the
 * mount, soon after snapshots were deleted. The mounted process collects; {@link Phase#GC} is
 * marked while the command is connected to its control socket (seen in /proc/net/unix, where the
 * socket's accepted connections carry its path), not while the command's own JVM starts, and
 * {@link Phase#REWRITE} once {@link PackDeletions} sees the collection delete a pack file.
 * Counts what the completed collections did, over all rounds.
 */
final class GcLoop {
  private static final Pattern FIGURE = Pattern.compile("\"(\\w+)\":(\\d+)");

  private final Path repository;
  private final String socket;
  private final AtomicInteger deletions = new AtomicInteger();
  int runs;
  int completed;
  long chunksFreed;
  long packsDeleted;
  long packsRewritten;

  GcLoop(Path repository) {
    this.repository = repository;
    this.socket = repository.toAbsolutePath().normalize().resolve("control.sock").toString();
  }

  void snapshotDeleted() {
    deletions.incrementAndGet();
  }

  /**
   * A collection up to half a second after each batch of deletions, until {@code round} is
   * killed; one after the other in a round aimed at collections, so that the kill need not wait
   * for a deletion.
   */
  void run(CrashRound round, SplittableRandom r) throws IOException, InterruptedException {
    while (!round.killed()) {
      if (deletions.getAndSet(0) == 0 && round.target != Phase.GC && round.target != Phase.REWRITE) {
        round.pause(20);
        continue;
      }
      round.pause(r.nextLong(500));
      if (!collect(round)) {
        return;
      }
    }
  }

  /** One {@code dedupfs gc}; false if the kill ended it. */
  private boolean collect(CrashRound round) throws IOException, InterruptedException {
    runs++;
    Path output = Files.createTempFile("crash-gc", ".out");
    try {
      Process gc = new ProcessBuilder(Mounted.dedupfsCommand("gc", repository.toString(), "--json"))
          .redirectErrorStream(true).redirectOutput(output.toFile()).start();
      follow(gc, round);
      String out = Files.readString(output, StandardCharsets.UTF_8);
      if (gc.exitValue() != 0) {
        if (!round.killed()) {
          round.fail("dedupfs gc exited " + gc.exitValue() + ": " + out.strip());
        }
        return false;
      }
      completed++;
      tally(out);
      return true;
    } finally {
      Files.delete(output);
    }
  }

  /**
   * Marks {@link Phase#GC} while {@code gc} is connected, {@link Phase#REWRITE} from the first
   * pack file deleted meanwhile; returns once {@code gc} has exited, at once after the kill.
   */
  private void follow(Process gc, CrashRound round) throws IOException, InterruptedException {
    Phase.Span collecting = null;
    Phase.Span rewriting = null;
    PackDeletions deletions = null;
    try {
      while (gc.isAlive() && !round.killed()) {
        boolean connected = controlConnections() > 0;
        if (connected && collecting == null) {
          collecting = round.phases().enter(Phase.GC);
          deletions = new PackDeletions(repository);
        } else if (connected && rewriting == null && deletions.seen()) {
          rewriting = round.phases().enter(Phase.REWRITE);
        } else if (!connected && collecting != null) {
          break;
        }
        Thread.sleep(2);
      }
    } finally {
      if (rewriting != null) {
        rewriting.end();
      }
      if (collecting != null) {
        collecting.end();
      }
      if (deletions != null) {
        deletions.close();
      }
    }
    if (round.killed()) {
      // It may still be starting its JVM; it would only fail to connect.
      gc.destroyForcibly();
    }
    gc.waitFor();
  }

  /** Connections accepted on the control socket: the lines with its path, but for the listening one. */
  private int controlConnections() throws IOException {
    try (Stream<String> lines = Files.lines(Path.of("/proc/net/unix"))) {
      return (int) lines.filter(l -> l.endsWith(" " + socket)).count() - 1;
    }
  }

  private void tally(String json) {
    Matcher m = FIGURE.matcher(json);
    while (m.find()) {
      long n = Long.parseLong(m.group(2));
      switch (m.group(1)) {
        case "chunksFreed" -> chunksFreed += n;
        case "packsDeleted" -> packsDeleted += n;
        case "packsRewritten" -> packsRewritten += n;
        default -> { }
      }
    }
  }
}
