package io.dedupfs.tools;

import java.nio.file.Path;

/**
 * Where {@code dedupfs mount} puts things when not told: the repository under the XDG data
 * directory ({@code ~/.local/share/dedupfs/repo}) and the mountpoint {@code ~/dedupfs}.
 */
final class Locations {
  private Locations() {}

  static Path defaultRepository() {
    String xdg = System.getenv("XDG_DATA_HOME");
    Path data = xdg != null && !xdg.isBlank() ? Path.of(xdg) : home().resolve(".local/share");
    return data.resolve("dedupfs/repo");
  }

  static Path defaultMountpoint() {
    return home().resolve("dedupfs");
  }

  /** The filesystem process's log, in the repository; the older ones beside it as dedupfs.log.1, .2... */
  static Path logOf(Path repository) {
    return repository.resolve("dedupfs.log");
  }

  /** The filesystem process's stderr: what it says before its log is set up. Replaced at each mount. */
  static Path stderrOf(Path repository) {
    return repository.resolve("dedupfs.stderr");
  }

  /** $HOME, as a shell's {@code ~}; the JVM's user.home (from the password file) only without it. */
  private static Path home() {
    String home = System.getenv("HOME");
    return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"));
  }
}
