package io.dedupfs.tools;

import io.dedupfs.store.io.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * A class-data-sharing archive of dedupfs.jar: the classes a mount and the everyday commands load
 * ({@code class-data.lst}, made by {@code tools/class-list.sh}), parsed and verified once, so that
 * each JVM maps them instead. {@code run-jar.bash} hands it to the JVM when it lies beside the jar
 * as {@code dedupfs.jsa} and is newer; a JVM that cannot use it (another build of Java, a changed
 * jar) ignores it without a word. Measured here: {@code dedupfs mount} 1.88 → 1.38 s, {@code
 * dedupfs --version} 0.53 → 0.39 s (medians of 5).
 */
final class ClassDataArchive {
  private static final String CLASS_LIST = "class-data.lst";

  private ClassDataArchive() {}

  /** The archive's place beside {@code jar}, where run-jar.bash looks for it. */
  static Path besides(Path jar) {
    String name = jar.getFileName().toString();
    return jar.resolveSibling(name.substring(0, name.length() - ".jar".length()) + ".jsa");
  }

  /**
   * Dumps the archive of {@code jar} with this JVM (the one launchers name) into {@code
   * workDirectory}; empty if it could not (its output is then in {@code dump.log} there). The
   * caller moves it into place.
   */
  static Optional<Path> dump(Path jar, Path workDirectory) throws IOException, InterruptedException {
    Path list = workDirectory.resolve(CLASS_LIST);
    try (InputStream in = ClassDataArchive.class.getResourceAsStream(CLASS_LIST)) {
      if (in == null) {
        throw new IOException(CLASS_LIST + " is missing from the jar");
      }
      Files.copy(in, list, StandardCopyOption.REPLACE_EXISTING);
    }
    Path archive = workDirectory.resolve("dedupfs.jsa");
    // -cp, not -jar: the archive records the class path, and `java -jar J` has J as its class path.
    Process dump = new ProcessBuilder(LauncherScripts.runningJava().toString(), "-Xshare:dump", "-XX:SharedClassListFile=" + list,
        "-XX:SharedArchiveFile=" + archive, "-cp", jar.toString())
        .redirectErrorStream(true)
        .redirectOutput(workDirectory.resolve("dump.log").toFile())
        .start();
    return dump.waitFor() == 0 && Files.isRegularFile(archive) ? Optional.of(archive) : Optional.empty();
  }

  /**
   * {@code ClassDataArchive JAR}: puts the archive of JAR beside it, for the development launcher
   * after a build. Exits 1, saying why, if the JVM could not make one; commands then start slower.
   */
  public static void main(String[] args) throws InterruptedException {
    Path jar = Path.of(args[0]).toAbsolutePath();
    Path target = besides(jar);
    String failure;
    try {
      failure = placeBeside(jar, target);
    } catch (IOException e) {
      failure = e.toString();
    }
    if (failure != null) {
      System.err.println("dedupfs: could not make the class-data archive " + target + " (commands start slower): "
          + failure);
      System.exit(1);
    }
  }

  /** Dumps the archive of {@code jar} and moves it to {@code target}; null, or why the JVM could not. */
  private static String placeBeside(Path jar, Path target) throws IOException, InterruptedException {
    Path work = Files.createTempDirectory(target.getParent(), ".dedupfs-jsa-");
    try {
      Optional<Path> archive = dump(jar, work);
      if (archive.isEmpty()) {
        return lastLine(work.resolve("dump.log"));
      }
      Files.move(archive.get(), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return null;
    } finally {
      FileTrees.delete(work);
    }
  }

  private static String lastLine(Path log) throws IOException {
    return Files.readAllLines(log).stream().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("no output");
  }
}
