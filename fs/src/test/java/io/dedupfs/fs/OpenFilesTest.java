package io.dedupfs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file's attributes read from the index while its last writer commits and retires: the state
 * read before that commit must not be shown, nor a new writer built on it. The reads here close
 * the file and wait for its writer to retire before they return, the widest the race can open.
 */
class OpenFilesTest {
  @TempDir Path tmp;
  private Repository repo;
  private IngestPipeline pipeline;
  private Namespace namespace;
  private OpenFiles files;
  private long file;

  @BeforeEach
  void open() throws Exception {
    repo = Repository.init(tmp.resolve("repo"),
        RepositoryConfig.create(new ChunkerParameters(1024, 4096, 16384), Compression.DEFAULT),
        Repository.OpenOptions.DEFAULT);
    pipeline = new IngestPipeline(repo, new IngestSettings(16 << 20, 2, Duration.ofMillis(50), 4), Clock.systemUTC());
    namespace = Namespace.open(repo.index(), Clock.systemUTC());
    files = new OpenFiles(namespace, pipeline);
    file = namespace.mknod(Namespace.ROOT, Name.of("f"), Mode.S_IFREG | 0644, 0, 0, 0).number();
  }

  @AfterEach
  void close() throws Exception {
    pipeline.close();
    repo.close();
  }

  @Test
  void attributesReadAsTheLastWriterRetiresShowItsWrites() throws Exception {
    long handle = writtenAndStillOpen("a\nb\n");
    assertEquals(4, files.shown(readThenRetire(handle)).size());
  }

  @Test
  void aFileOpenedAsTheLastWriterRetiresIsOpenOnItsWrites() throws Exception {
    long first = writtenAndStillOpen("a\nb\n");
    long second = files.open(readThenRetire(first));
    assertEquals(4, files.writer(second).pendingEnd());
    files.release(second);
  }

  /**
   * Reads the file's committed attributes, then, the first time only, closes {@code handle} and
   * waits until its writer has committed and gone before returning them.
   */
  private OpenFiles.CommittedRead<Inode> readThenRetire(long handle) {
    return () -> {
      Inode committed = namespace.getattr(file);
      if (!files.all().isEmpty()) {
        closeAndAwaitRetirement(handle);
      }
      return committed;
    };
  }

  private long writtenAndStillOpen(String content) throws Exception {
    long handle = files.open(() -> namespace.getattr(file));
    files.writer(handle).write(0, ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII)));
    assertEquals(0, namespace.getattr(file).size(), "nothing is committed before the file is closed");
    return handle;
  }

  /** Closes the file's only handle and waits until its writer has committed and gone. */
  private void closeAndAwaitRetirement(long handle) throws IOException {
    try {
      files.release(handle);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!files.all().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    } catch (InterruptedException e) {
      throw new InterruptedIOException();
    }
    assertTrue(files.all().isEmpty(), "the writer retired");
  }
}
