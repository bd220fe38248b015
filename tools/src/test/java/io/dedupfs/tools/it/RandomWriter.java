package io.dedupfs.tools.it;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One writer thread of the crash harness: cycles on its own files until the kill, each cycle one
 * to four writes of 1 byte to 768 KiB at random offsets (holes included) of a random file, then
 * fsync, which {@link SyncedFile} records only once it has returned.
 */
final class RandomWriter {
  private static final long MAX_LENGTH = 3L << 20;
  private static final int MAX_WRITE = 768 << 10;
  /** The writes' bytes come from a stretch of {@link Data} this long, so writes repeat each other's chunks. */
  private static final long SOURCE = 256L << 20;

  private final Path mountpoint;
  private final List<SyncedFile> files;
  private final Data source;

  RandomWriter(Path mountpoint, List<SyncedFile> files, long seed) {
    this.mountpoint = mountpoint;
    this.files = files;
    this.source = new Data(seed);
  }

  /** Write cycles with pauses of up to 200 ms between them, until {@code round} is killed. */
  void run(CrashRound round, SplittableRandom r) throws IOException, InterruptedException {
    while (!round.killed()) {
      cycle(files.get(r.nextInt(files.size())), round.phases(), r);
      round.pause(r.nextLong(200));
    }
  }

  private void cycle(SyncedFile f, Phase.Tracker phases, SplittableRandom r) throws IOException, InterruptedException {
    f.cycleStarts();
    Path p = mountpoint.resolve(f.name);
    Files.createDirectories(p.getParent());
    try (FileChannel ch = FileChannel.open(p, CREATE, WRITE)) {
      phases.during(Phase.INGEST, () -> {
        for (int n = r.nextInt(1, 5); n > 0; n--) {
          long offset = r.nextLong(Math.min(f.length() + (256 << 10), MAX_LENGTH));
          int length = r.nextInt(4) == 0 ? r.nextInt(1, 4097) : r.nextInt(4096, MAX_WRITE + 1);
          byte[] bytes = source.bytes(r.nextLong(SOURCE), length);
          f.writing(offset, bytes);
          ByteBuffer b = ByteBuffer.wrap(bytes);
          while (b.hasRemaining()) {
            ch.write(b, offset + b.position());
          }
        }
      });
      phases.during(Phase.SEAL, () -> ch.force(true));
      f.fsynced();
    }
  }
}
