package io.dedupfs.store.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.AttributeChange;
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
