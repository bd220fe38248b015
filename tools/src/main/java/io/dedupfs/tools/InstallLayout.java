package io.dedupfs.tools;

import java.nio.file.Path;

/**
 * Where {@code dedupfs install} puts each file under a prefix (default {@code /usr/local}). The
 * mount helper is the exception: mount(8) looks for {@code mount.fuse.dedupfs} in {@code /sbin}
 * only, so it goes there whatever the prefix.
 */
record InstallLayout(Path prefix, Path sbin) {
  static final String DEFAULT_PREFIX = "/usr/local";
  /** Where mount(8) looks for the helper of a filesystem type ("EXTERNAL HELPERS" in mount(8)). */
  static final Path MOUNT_HELPER_DIRECTORY = Path.of("/sbin");

  static InstallLayout under(Path prefix) {
    return new InstallLayout(prefix.toAbsolutePath().normalize(), MOUNT_HELPER_DIRECTORY);
  }

  Path libraryDirectory() {
    return prefix.resolve("lib/dedupfs");
  }

  Path jar() {
    return libraryDirectory().resolve("dedupfs.jar");
  }

  /** Beside the jar, where the launcher's run-jar.bash looks for it. */
  Path classDataArchive() {
    return ClassDataArchive.besides(jar());
  }

  /** The paths install wrote, so that uninstall removes exactly those. */
  Path manifest() {
    return libraryDirectory().resolve("installed-files");
  }

  Path launcher() {
    return prefix.resolve("bin/dedupfs");
  }

  Path bashCompletion() {
    return prefix.resolve("share/bash-completion/completions/dedupfs");
  }

  Path manSection1() {
    return prefix.resolve("share/man/man1");
  }

  /** mount(8) runs {@code /sbin/mount.fuse.dedupfs REPO MOUNTPOINT -o OPTIONS} for type fuse.dedupfs. */
  Path mountHelper() {
    return sbin.resolve("mount." + MountTable.FS_TYPE);
  }
}
