package io.dedupfs.tools.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A repository mounted through the real command line ({@code dedupfs.jar} built by the package
 * phase): {@code mount} in the background, {@code umount}, or {@code kill -9} of the filesystem
 * process. For integration tests; needs root and /dev/fuse, as CI has.
 */
public final class Mounted implements AutoCloseable {
  static final Path JAR = Path.of("target/dedupfs.jar").toAbsolutePath();
  private static final Pattern PROCESS = Pattern.compile("\\(process (\\d+),");

  public final Path repository;
  public final Path mountpoint;
  private long pid;
  private boolean mounted;

  private Mounted(Path repository, Path mountpoint) {
    this.repository = repository;
    this.mountpoint = mountpoint;
  }

  /** A new repository in {@code dir}/repo, mounted at {@code dir}/mnt. */
  public static Mounted fresh(Path dir, String... mountOptions) throws Exception {
    Path repo = dir.resolve("repo");
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    Result init = dedupfs("init", repo.toString());
    assertEquals(0, init.exit, init.output);
    return existing(repo, mnt, mountOptions);
  }

  /** The repository {@code repository}, mounted at {@code mountpoint} (created if missing). */
  public static Mounted existing(Path repository, Path mountpoint, String... mountOptions) throws Exception {
    Mounted m = new Mounted(repository, Files.createDirectories(mountpoint));
    m.mount(mountOptions);
    return m;
  }

  /** Mounts (again), in the background, as a user would. */
  public void mount(String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("mount", repository.toString(), mountpoint.toString(), "--memory", "64M"));
    args.addAll(List.of(options));
    Result r = dedupfs(args.toArray(String[]::new));
    assertEquals(0, r.exit, r.output);
    Matcher m = PROCESS.matcher(r.output);
    assertTrue(m.find(), r.output);
    pid = Long.parseLong(m.group(1));
    mounted = true;
  }

  /** dedupfs umount: returns once everything is durable and the process has exited. */
  public void unmount() throws Exception {
    Result r = dedupfs("umount", mountpoint.toString());
    assertEquals(0, r.exit, r.output);
    assertTrue(ProcessHandle.of(pid).isEmpty() || !ProcessHandle.of(pid).get().isAlive(), "process " + pid + " still alive");
    mounted = false;
  }

  /** kill -9 of the filesystem process, then the dead mount detached, as an administrator would. */
  public void kill9() throws Exception {
    killProcess();
    detach();
  }

  /**
   * kill -9 of the filesystem process; returns once it is gone. The dead mount stays attached,
   * so that whatever still uses it gets ENOTCONN rather than the empty directory beneath.
   */
  public void killProcess() {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
  }

  /** Detaches the mount of a killed process (fusermount -u -z), as an administrator would. */
  public void detach() throws Exception {
    run("fusermount", "-u", "-z", mountpoint.toString());
    mounted = false;
  }

  public long pid() {
    return pid;
  }

  @Override
  public void close() throws Exception {
    if (mounted) {
      Result r = dedupfs("umount", mountpoint.toString());
      if (r.exit != 0) {
        kill9();
      }
      mounted = false;
    }
  }

  /** A finished command: exit code and stdout and stderr together. */
  public record Result(int exit, String output) {}

  /** A finished command whose stdout and stderr were kept apart, for output that scripts parse. */
  public record Output(int exit, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
    }
  }

  /** Runs {@code dedupfs ARGS...} from the jar, stdout and stderr together. */
  public static Result dedupfs(String... args) throws Exception {
    return run(dedupfsCommand(args));
  }

  /** Runs {@code dedupfs ARGS...} from the jar, stdout and stderr apart. */
  public static Output dedupfsApart(String... args) throws Exception {
    return runApart(dedupfsCommand(args));
  }

  static String[] dedupfsCommand(String... args) {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx256m", "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-jar", JAR.toString()));
    cmd.addAll(List.of(args));
    return cmd.toArray(String[]::new);
  }

  /** Runs a command to the end (at most 10 minutes). */
  public static Result run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    return new Result(finish(p, cmd), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs a command to the end (at most 10 minutes), stdout and stderr apart. */
  public static Output runApart(String... cmd) throws IOException, InterruptedException {
    // stderr to a file, so that neither pipe can fill while the other is read.
    Path stderr = Files.createTempFile("dedupfs-it", ".stderr");
    try {
      Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
      byte[] out = p.getInputStream().readAllBytes();
      int exit = finish(p, cmd);
      return new Output(exit, new String(out, StandardCharsets.UTF_8),
          new String(Files.readAllBytes(stderr), StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(stderr);
    }
  }

  /** Waits for a started command (at most 10 minutes) and returns its exit code. */
  private static int finish(Process p, String... cmd) throws InterruptedException {
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", cmd));
    }
    return p.exitValue();
  }

  /** Runs a shell script, failing the test with its output if it fails; returns its output. */
  public static String sh(String script) throws IOException, InterruptedException {
    Result r = run("bash", "-euo", "pipefail", "-c", script);
    assertEquals(0, r.exit, "script failed:\n" + script + "\n--- output:\n" + r.output);
    return r.output;
  }
}
