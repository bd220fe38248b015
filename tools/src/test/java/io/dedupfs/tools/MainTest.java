package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedOut;
  private PrintStream savedErr;

  @BeforeEach
  void captureStreams() {
    savedOut = System.out;
    savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreStreams() {
    System.setOut(savedOut);
    System.setErr(savedErr);
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void versionAndHelpExitZero() {
    assertEquals(0, Main.run("--version"));
    assertTrue(stdout().startsWith("dedupfs "), stdout());
    assertEquals(0, Main.run("--help"));
    assertTrue(stdout().contains("init") && stdout().contains("bench"), stdout());
  }

  @Test
  void usageErrorsExitTwo() {
    assertEquals(Main.EXIT_USAGE, Main.run("no-such-command"));
    assertEquals(Main.EXIT_USAGE, Main.run("init"));
    assertEquals(Main.EXIT_USAGE, Main.run("bench", "ingest", "--memory", "lots", "/tmp"));
    assertTrue(stderr().contains("not a size"), stderr());
  }

  @Test
  void badGlobalOptionsAreUsageErrors() {
    assertEquals(Main.EXIT_USAGE, Main.run("--log-level", "loud", "stats", "/tmp"));
    assertTrue(stderr().contains("--log-level") && stderr().contains("Usage:"), stderr());
    assertEquals(Main.EXIT_USAGE, Main.run("stats", "/tmp", "--no-such-option"));
  }

  @Test
  void aFailureIsOneLineOnStderrAndExitOne(@TempDir Path dir) {
    assertEquals(Main.EXIT_ERROR, Main.run("stats", dir.resolve("missing").toString()));
    assertEquals("", stdout());
    String message = stderr().strip();
    assertTrue(message.startsWith("dedupfs: ") && message.contains("missing"), message);
    assertEquals(1, message.lines().count(), "one line: " + message);
  }

  @Test
  void quietLeavesOutNotesButNotData(@TempDir Path dir) {
    Path repo = dir.resolve("repo");
    assertEquals(0, Main.run("--quiet", "init", repo.toString()), stderr());
    assertEquals(0, Main.run("snapshot", "create", repo.toString(), "first", "-q"), stderr());
    assertEquals(0, Main.run("snapshot", "delete", repo.toString(), "first", "--quiet"), stderr());
    assertEquals(0, Main.run("-q", "gc", repo.toString()), stderr());
    assertEquals("created snapshot first (number 1, 0 files, 0 B)\n", stdout(),
        "the new snapshot's name is data; the rest are notes");

    out.reset();
    assertEquals(0, Main.run("-q", "snapshot", "create", repo.toString(), "second", "--json"), stderr());
    assertEquals(0, Main.run("-q", "prune", repo.toString(), "--keep-last", "1", "--dry-run"), stderr());
    assertEquals(0, Main.run("-q", "gc", repo.toString(), "--json"), stderr());
    List<String> lines = stdout().lines().toList();
    assertEquals(4, lines.size(), stdout());
    assertTrue(lines.get(0).startsWith("{\"number\":2,\"name\":\"second\""), lines.get(0));
    assertEquals("keep    second  (last 1)", lines.get(1));
    assertTrue(lines.get(2).startsWith("would free 0 chunks"), lines.get(2));
    assertTrue(lines.get(3).startsWith("{\"chunksFreed\":0,"), lines.get(3));
    assertEquals("", stderr());
  }

  @Test
  void pruneJsonHasEachVerdictAndTheFigures(@TempDir Path dir) {
    Path repo = dir.resolve("repo");
    assertEquals(0, Main.run("init", repo.toString()), stderr());
    assertEquals(0, Main.run("snapshot", "create", repo.toString(), "old"), stderr());
    assertEquals(0, Main.run("snapshot", "create", repo.toString(), "new"), stderr());
    out.reset();
    assertEquals(0, Main.run("prune", repo.toString(), "--keep-last", "1", "--json"), stderr());
    String json = stdout().strip();
    assertTrue(json.startsWith("{\"snapshots\":[{\"number\":2,\"name\":\"new\",\"keep\":true,\"reasons\":[\"last 1\"]},"
        + "{\"number\":1,\"name\":\"old\",\"keep\":false,\"reasons\":[]}],\"collection\":{\"chunksFreed\":"), json);
    assertEquals(1, stdout().lines().count(), "one line: " + stdout());
  }

  @Test
  void initCreatesARepositoryAndRefusesASecondOne(@TempDir Path dir) throws Exception {
    Path repo = dir.resolve("repo");
    assertEquals(0, Main.run("init", repo.toString(), "--chunk-size", "64K,256K,1M", "--compression", "zstd:5"));
    assertTrue(Files.isRegularFile(repo.resolve("config")));
    assertTrue(stdout().contains("65536/262144/1048576") && stdout().contains("zstd:5"), stdout());

    assertEquals(Main.EXIT_ERROR, Main.run("init", repo.toString()));
    String message = stderr().strip();
    assertTrue(message.startsWith("dedupfs: ") && message.contains("not empty"), message);
    assertEquals(1, message.lines().count(), "one line: " + message);
  }

  @Test
  void invalidInitOptionsAreOneLineErrors(@TempDir Path dir) {
    assertEquals(Main.EXIT_ERROR, Main.run("init", dir.resolve("a").toString(), "--chunk-size", "1M,1M,4M"));
    assertEquals(Main.EXIT_ERROR, Main.run("init", dir.resolve("b").toString(), "--compression", "lz4"));
    assertTrue(stderr().contains("chunk sizes must satisfy") && stderr().contains("zstd:LEVEL or none"), stderr());
    assertTrue(Files.notExists(dir.resolve("a").resolve("config")));
  }

  @Test
  void benchIngestStoresDuplicatesOnceAndReportsFigures(@TempDir Path dir) throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    byte[] block = new byte[3 << 20];
    new Random(7).nextBytes(block);
    Files.write(data.resolve("a.bin"), block);
    Files.write(data.resolve("copy-of-a.bin"), block);
    Files.writeString(data.resolve("small.txt"), "hello\n");
    Path repo = dir.resolve("repo");

    assertEquals(0, Main.run("bench", "ingest", "--repo", repo.toString(), "--memory", "32M", "--chunk-size",
        "16K,64K,256K", data.toString()), stderr());
    String first = stdout();
    assertTrue(first.contains("ingested   3 files"), first);
    assertTrue(first.contains("throughput") && first.contains("peak RssAnon"), first);
    assertTrue(first.contains("seal+fsync") && first.contains("index commit"), first);
    long newBytes = figure(first, "new");
    assertTrue(newBytes >= 3 << 20 && newBytes < 3 * (1 << 20) + 1024, "each unique byte stored once: " + first);

    out.reset();
    assertEquals(0, Main.run("bench", "ingest", "--repo", repo.toString(), "--memory", "32M", data.toString()), stderr());
    assertEquals(0, figure(stdout(), "new"), "a second run over the same data stores nothing: " + stdout());
  }

  @Test
  void benchIngestOfAMissingPathFailsClearly(@TempDir Path dir) {
    assertEquals(Main.EXIT_ERROR, Main.run("bench", "ingest", dir.resolve("missing").toString()));
    assertTrue(stderr().contains("missing") && stderr().contains("no such file"), stderr());
  }

  /** The byte count after "new ... chunks, " on the bench's line starting with {@code label}. */
  private static long figure(String output, String label) {
    String line = output.lines().filter(l -> l.startsWith(label + " ")).findFirst().orElseThrow();
    String human = line.substring(line.indexOf("chunks, ") + 8).trim();
    String[] parts = human.split(" ");
    double v = Double.parseDouble(parts[0]);
    int shift = switch (parts[1]) {
      case "B" -> 0;
      case "KiB" -> 10;
      case "MiB" -> 20;
      case "GiB" -> 30;
      default -> throw new IllegalArgumentException(human);
    };
    return (long) (v * (1L << shift));
  }
}
