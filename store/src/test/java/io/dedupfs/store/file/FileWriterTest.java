package io.dedupfs.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.AttributeChange;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileWriterTest {
  @TempDir Path tmp;
  private Repository repo;
  private IngestPipeline pipeline;
  private ChunkReader chunks;
  private Namespace ns;
  private FileReader reader;

  @BeforeEach
  void open() throws Exception {
    repo = Repository.init(tmp.resolve("repo"),
        RepositoryConfig.create(new ChunkerParameters(1024, 4096, 16384), Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    pipeline = new IngestPipeline(repo, new IngestSettings(16 << 20, 2, Duration.ofMillis(100), 4), Clock.systemUTC());
    chunks = ChunkReader.of(repo);
    ns = Namespace.open(repo.index(), Clock.systemUTC());
    reader = new FileReader(ns, chunks, 1 << 20);
  }

  @AfterEach
  void close() throws Exception {
    pipeline.close();
    chunks.close();
    repo.close();
  }

  private long newFile(String name) throws Exception {
    return ns.mknod(Namespace.ROOT, Name.of(name), Mode.S_IFREG | 0644, 0, 0, 0).number();
  }

  private static ByteBuffer bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return ByteBuffer.wrap(b);
  }

  @Test
  void aLongSequentialWriteCommitsAsItGoesWithoutFsync() throws Exception {
    long f = newFile("long");
    FileWriter writer = new FileWriter(f, 0, ns, pipeline, 64 << 10);
    writer.write(0, bytes(300 << 10, 1));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (ns.getattr(f).size() < (256 << 10) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(256 << 10, ns.getattr(f).size(), "the runs ended at each 64 KiB boundary are committed");
    writer.flush();
    ByteBuffer back = ByteBuffer.allocate(300 << 10);
    assertEquals(300 << 10, reader.read(f, 0, back));
    assertEquals(bytes(300 << 10, 1), back.flip());
  }

  @Test
  void timesSetAfterAWriteSurviveItsCommitAndALaterWriteMovesThem() throws Exception {
    long f = newFile("times");
    FileWriter writer = new FileWriter(f, 0, ns, pipeline);
    writer.write(0, bytes(10_000, 2));
    writer.setAttributes(AttributeChange.times(41L, 42L));
    writer.flush();
    assertEquals(42L, ns.getattr(f).mtimeNanos(), "cp -p, rsync -t and tar set times after writing");
    assertEquals(10_000, ns.getattr(f).size());

    writer.write(10_000, bytes(10, 3));
    writer.flush();
    assertNotEquals(42L, ns.getattr(f).mtimeNanos(), "a write after the change sets mtime again");
  }

  @Test
  void truncateIsOrderedWithConcurrentWrites() throws Exception {
    for (int round = 0; round < 30; round++) {
      long f = newFile("t" + round);
      FileWriter writer = new FileWriter(f, 0, ns, pipeline);
      writer.write(0, bytes(5000, round));
      CountDownLatch start = new CountDownLatch(1);
      Thread truncating = new Thread(() -> {
        try {
          start.await();
          writer.truncate(0);
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      truncating.start();
      start.countDown();
      writer.write(10_000, bytes(100, 99));
      truncating.join();
      writer.flush();
      long size = ns.getattr(f).size();
      assertEquals(writer.pendingEnd(), size, "round " + round + ": the size the writer reports is the committed one");
      assertTrue(size == 0 || size == 10_100, "round " + round + ": one order or the other, got " + size);
      if (size == 10_100) {
        ByteBuffer back = ByteBuffer.allocate(10_100);
        reader.read(f, 0, back);
        for (int i = 0; i < 10_000; i++) {
          assertEquals(0, back.get(i), "round " + round + ": truncated bytes read as zeros at " + i);
        }
        assertEquals(bytes(100, 99), back.position(10_000).limit(10_100).slice());
      }
    }
  }

  @Test
  void attributeChangesShowAtOnceAndReachTheIndexWithTheWrites() throws Exception {
    long f = newFile("attributes");
    FileWriter writer = new FileWriter(f, 0, ns, pipeline);
    writer.setAttributes(AttributeChange.permissions(0600));
    writer.write(0, bytes(5000, 5));
    writer.settle();
    // As rsync does after closing its temporary file, whose data is still on its way.
    writer.setAttributes(new AttributeChange(null, 7, 8, null, null));
    writer.setAttributes(AttributeChange.permissions(0640));
    Inode shown = writer.view(ns.getattr(f));
    assertEquals(Mode.S_IFREG | 0640, shown.mode());
    assertEquals(7, shown.uid());
    assertEquals(8, shown.gid());
    assertEquals(5000, shown.size());

    writer.flush();
    Inode stored = ns.getattr(f);
    assertEquals(Mode.S_IFREG | 0640, stored.mode(), "the last chmod wins");
    assertEquals(7, stored.uid());
    assertEquals(8, stored.gid());
    assertEquals(5000, stored.size());
    assertTrue(writer.isSettled());
    assertEquals(stored, writer.view(stored), "a settled writer shows what the index has");
  }

  @Test
  void anMtimeSetBeforeAWriteGivesWayToItAndOneSetAfterStays() throws Exception {
    long f = newFile("order");
    FileWriter writer = new FileWriter(f, 0, ns, pipeline);
    writer.setAttributes(AttributeChange.times(1L, 2L));
    writer.write(0, bytes(100, 6));
    assertNotEquals(2L, writer.view(ns.getattr(f)).mtimeNanos(), "shown: the write came later");
    writer.flush();
    assertNotEquals(2L, ns.getattr(f).mtimeNanos());
    assertEquals(1L, ns.getattr(f).atimeNanos(), "the atime set is kept");
    assertEquals(ns.getattr(f).mtimeNanos(), writer.view(ns.getattr(f)).mtimeNanos());

    writer.setAttributes(AttributeChange.times(null, 3L));
    assertEquals(3L, writer.view(ns.getattr(f)).mtimeNanos());
    writer.flush();
    assertEquals(3L, ns.getattr(f).mtimeNanos());
  }

  @Test
  void aChangeHeldByAnIdleWriterReachesTheIndexOnceItIsOldEnough() throws Exception {
    long f = newFile("idle");
    FileWriter writer = new FileWriter(f, 0, ns, pipeline);
    writer.setAttributes(AttributeChange.permissions(0604));
    assertFalse(writer.isSettled(), "a held change keeps the writer from retiring");
    writer.endRunIfOlderThan(Long.MAX_VALUE);
    assertEquals(Mode.S_IFREG | 0644, ns.getattr(f).mode(), "held, not yet handed over");
    assertEquals(Mode.S_IFREG | 0604, writer.view(ns.getattr(f)).mode());
    writer.endRunIfOlderThan(0);
    assertEquals(Mode.S_IFREG | 0604, ns.getattr(f).mode(), "the periodic write-back hands it over");
    assertTrue(writer.isSettled());
  }

  @Test
  void readsRefuseNegativeOffsetsAndStopAtTheEnd() throws Exception {
    long f = newFile("r");
    FileWriter writer = new FileWriter(f, 0, ns, pipeline);
    writer.write(0, bytes(100, 4));
    writer.flush();
    assertThrows(FileSystemException.class, () -> reader.read(f, -1, ByteBuffer.allocate(10)));
    assertEquals(0, reader.read(f, 100, ByteBuffer.allocate(10)));
    assertEquals(40, reader.read(f, 60, ByteBuffer.allocate(1000)));
  }
}
