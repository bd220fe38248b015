package io.dedupfs.bench;

import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.Chunker;
import io.dedupfs.store.chunk.GearTable;
import io.dedupfs.store.compress.ChunkCompressor;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread cost of each CPU stage of ingest over 64 MiB of real files (the first files found
 * under {@code -p source=DIR}, default /usr/lib). Each operation processes the whole sample, so
 * MB/s = 67.1 / (seconds per operation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED"})
public class StageBenchmark {
  private static final int SAMPLE = 64 << 20;
  private static final int CHUNK = 1 << 20;

  @Param("/usr/lib")
  public String source;

  @Param("3")
  public int zstdLevel;

  private ByteBuffer sample;
  private ByteBuffer compressed;
  private Chunker chunker;
  private ChunkHasher hasher;
  private ChunkCompressor compressor;

  @Setup(Level.Trial)
  public void load() throws IOException {
    sample = ByteBuffer.allocateDirect(SAMPLE);
    try (Stream<Path> files = Files.walk(Path.of(source))) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        if (!sample.hasRemaining()) {
          break;
        }
        try (FileChannel in = FileChannel.open(f, StandardOpenOption.READ)) {
          while (sample.hasRemaining() && in.read(sample) > 0) {
            // fill
          }
        } catch (IOException unreadable) {
          // skipped, as a backup would
        }
      }
    }
    sample.flip();
    compressed = ByteBuffer.allocateDirect(CHUNK);
    chunker = new Chunker(ChunkerParameters.DEFAULT, GearTable.fromSeed(1));
    hasher = ChunkHasher.sha256();
    compressor = new ChunkCompressor(new Compression(Compression.Algorithm.ZSTD, zstdLevel));
  }

  @TearDown(Level.Trial)
  public void close() {
    compressor.close();
  }

  /** Finds every chunk boundary in the sample. */
  @Benchmark
  public int chunk() {
    int limit = sample.limit();
    int position = 0;
    int chunks = 0;
    while (position < limit) {
      int cut = chunker.scan(sample, position, limit);
      if (cut == Chunker.NO_CUT) {
        break;
      }
      position += cut;
      chunks++;
    }
    chunker.reset();
    return chunks;
  }

  /** Computes the chunk ids (SHA-256) of the sample in 1 MiB chunks. */
  @Benchmark
  public int hash() {
    int h = 0;
    for (int at = 0; at + CHUNK <= sample.limit(); at += CHUNK) {
      h += hasher.idOf(sample.slice(at, CHUNK)).hashCode();
    }
    return h;
  }

  /** Compresses the sample in 1 MiB chunks. */
  @Benchmark
  public long compress() {
    long stored = 0;
    for (int at = 0; at + CHUNK <= sample.limit(); at += CHUNK) {
      int n = compressor.compressIfSmaller(sample.slice(at, CHUNK), compressed);
      stored += n < 0 ? CHUNK : n;
    }
    return stored;
  }
}
