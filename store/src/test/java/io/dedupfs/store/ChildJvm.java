package io.dedupfs.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A second JVM running a main class from the test classpath, for tests that need another process
 * (repository lock) or a process to kill (crash safety). Its stdout lines are collected by a
 * reader thread; stderr goes to a file so a failing test can show it.
 */
public final class ChildJvm implements AutoCloseable {
  private static final String EOF = "\u0000EOF";

  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> allLines = new CopyOnWriteArrayList<>();
  private final Path stderr;

  private ChildJvm(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          allLines.add(line);
          lines.add(line);
        }
      } catch (IOException e) {
        // the process died; EOF below tells the waiters
      } finally {
        lines.add(EOF);
      }
    }, "child-jvm-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code java -cp <our classpath> mainClass args...}. */
  public static ChildJvm start(Class<?> mainClass, Path stderrFile, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Xshare:auto");
    // lmdbjava reaches into java.nio internals; the test JVM gets the same flags from the build
    command.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
    command.add("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectError(stderrFile.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.PIPE);
    return new ChildJvm(pb.start(), stderrFile);
  }

  public Process process() {
    return process;
  }

  public long pid() {
    return process.pid();
  }

  /**
   * The next stdout line, waiting up to {@code timeoutMillis}; fails the test with the child's
   * stderr if the child exits or times out first.
   */
  public String nextLine(long timeoutMillis) throws InterruptedException {
    String line = lines.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    if (line == null) {
      throw new AssertionError("child printed nothing for " + timeoutMillis + " ms; stderr:\n" + stderrText()
          + "\nthread dump of the child:\n" + threadDump());
    }
    if (line.equals(EOF)) {
      lines.add(EOF);
      process.waitFor(5, TimeUnit.SECONDS);
      throw new AssertionError("child exited (" + (process.isAlive() ? "alive" : "exit " + process.exitValue())
          + ") before printing the expected line; stdout so far: " + allLines + "\nstderr:\n" + stderrText());
    }
    return line;
  }

  /** Skips lines until one matches, returning it. */
  public String awaitLine(Predicate<String> match, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        throw new AssertionError("child printed no matching line within " + timeoutMillis + " ms; stdout: " + allLines
            + "\nstderr:\n" + stderrText());
      }
      String line = nextLine(left);
      if (match.test(line)) {
        return line;
      }
    }
  }

  /** Every line printed so far (read by the reader thread). */
  public List<String> linesSoFar() {
    return List.copyOf(allLines);
  }

  /** Waits until the stdout reader has seen the end of the stream (after the process died). */
  public List<String> allLinesAfterExit(long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      String l = lines.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
      if (l == null || l.equals(EOF)) {
        lines.add(EOF);
        break;
      }
    }
    return List.copyOf(allLines);
  }

  /** The child's threads as jstack shows them, for a child that seems stuck. */
  public String threadDump() {
    if (!process.isAlive()) {
      return "(child not alive)";
    }
    try {
      Process jstack = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstack").toString(),
          Long.toString(process.pid())).redirectErrorStream(true).start();
      byte[] out = jstack.getInputStream().readAllBytes();
      jstack.waitFor(20, TimeUnit.SECONDS);
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException | InterruptedException e) {
      return "(no thread dump: " + e + ")";
    }
  }

  public String stderrText() {
    try {
      return java.nio.file.Files.readString(stderr);
    } catch (IOException e) {
      return "(stderr unreadable: " + e + ")";
    }
  }

  /** SIGKILL and wait for death. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("child " + process.pid() + " did not die after SIGKILL");
    }
  }

  /** Kills the child if it still runs; an interrupt while waiting for it is kept for the caller. */
  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
