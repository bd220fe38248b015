package io.dedupfs.tools;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Starts the filesystem process of a background mount: the same JVM and class path running
 * {@code mount --foreground}, in a session of its own (so closing the terminal does not end it),
 * logging to the repository's rotated log. It reports on its stdout, one line, whether the mount is
 * live or why it failed; this waits for that line. Its stderr, where whatever comes before logging
 * is set up goes (the JVM's own errors, a class that fails to load), is kept apart in
 * {@link Locations#stderrOf}: logback rotates the log by renaming it, which an inherited file
 * descriptor would not follow.
 */
final class FilesystemProcess {
  static final String READY = "ready";
  static final String FAILED = "failed: ";
  private static final Path SETSID = Path.of("/usr/bin/setsid");

  private final Path repository;
  private final Path mountpoint;
  private final long memory;
  /** Whether requests may come over io_uring (mount's --no-io-uring not given). */
  private final boolean ioUring;
  private final List<String> fuseOptions;
  /** The passphrase of an encrypted repository, or null. */
  private final char[] passphrase;
  /** The --log-level given to mount, or null. */
  private final LogLevel logLevel;

  FilesystemProcess(Path repository, Path mountpoint, long memory, boolean ioUring, List<String> fuseOptions,
      char[] passphrase, LogLevel logLevel) {
    this.repository = repository;
    this.mountpoint = mountpoint;
    this.memory = memory;
    this.ioUring = ioUring;
    this.fuseOptions = fuseOptions;
    this.passphrase = passphrase;
    this.logLevel = logLevel;
  }

  /** Starts it and returns its pid once the mount is live; throws with its reason if it fails. */
  long start() throws IOException, InterruptedException {
    Path stderr = Locations.stderrOf(repository);
    // A passphrase goes through a pipe: the command line and the environment of a process can be
    // read by others, so the long-lived process does not inherit one from the environment either.
    ProcessBuilder builder = new ProcessBuilder(command())
        .redirectInput(passphrase == null ? ProcessBuilder.Redirect.from(new File("/dev/null")) : ProcessBuilder.Redirect.PIPE)
        .redirectError(stderr.toFile());
    builder.environment().remove(PassphraseOption.ENVIRONMENT);
    builder.environment().remove(KeyCommand.NEW_ENVIRONMENT);
    Process process = builder.start();
    if (passphrase != null) {
      try (Writer in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8)) {
        in.write(passphrase);
        in.write('\n');
      } finally {
        Arrays.fill(passphrase, '\0');
      }
    }
    String line;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      // Lines the JVM itself prints (a flight recording's "Started recording", for one) come first.
      do {
        line = out.readLine();
      } while (line != null && !READY.equals(line) && !line.startsWith(FAILED));
    }
    if (READY.equals(line)) {
      return process.pid();
    }
    if (line != null && line.startsWith(FAILED)) {
      process.waitFor();
      throw new IOException(line.substring(FAILED.length()));
    }
    int code = process.waitFor();
    throw new IOException("the filesystem process exited with code " + code + " before the mount was live"
        + lastLine(stderr).map(last -> ": " + last).orElse("") + " (see " + stderr + ")");
  }

  /** The last line of {@code file} that is not blank: a failure's message comes last. */
  private static Optional<String> lastLine(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (!lines.get(i).isBlank()) {
        return Optional.of(lines.get(i).strip());
      }
    }
    return Optional.empty();
  }

  private List<String> command() {
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(SETSID)) {
      cmd.add(SETSID.toString());
    }
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    if (logLevel != null) {
      cmd.addAll(List.of("--log-level", logLevel.name()));
    }
    cmd.addAll(List.of("mount", repository.toString(), mountpoint.toString(), "--memory", Long.toString(memory),
        "--foreground", "--report-ready", "--log-file", Locations.logOf(repository).toString()));
    if (passphrase != null) {
      cmd.add("--passphrase-stdin");
    }
    if (!ioUring) {
      cmd.add("--no-io-uring");
    }
    for (String option : fuseOptions) {
      cmd.add("-o");
      cmd.add(option);
    }
    return cmd;
  }
}
