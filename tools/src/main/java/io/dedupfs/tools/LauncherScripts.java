package io.dedupfs.tools;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The two shell scripts {@code dedupfs install} writes: the launcher, which runs the installed
 * jar with the JVM settings of the development launcher (the same {@code run-jar.bash}), and the
 * mount helper that mount(8) runs for type fuse.dedupfs.
 */
final class LauncherScripts {
  private static final String RUN_JAR = "run-jar.bash";

  private LauncherScripts() {}

  /**
   * Runs {@code jar} with {@code java}, the JVM that ran install: mount(8) and systemd run the
   * helper with a PATH of their own, which may find another java or none.
   */
  static String launcher(Path jar, Path java) throws IOException {
    return "#!/usr/bin/env bash\n"
        + "# Written by dedupfs install; dedupfs uninstall removes it.\n"
        + "set -euo pipefail\n"
        + "jar=" + quoted(jar) + "\n"
        + "java=" + quoted(java) + "\n"
        + runJar();
  }

  /** The JVM running this command: the launcher install writes names it, and it makes the class-data archive. */
  static Path runningJava() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }

  /** mount(8) runs it as {@code mount.fuse.dedupfs REPO MOUNTPOINT [-sfnv] [-o OPTIONS]}. */
  static String mountHelper(Path launcher) {
    return "#!/bin/sh\n"
        + "# Written by dedupfs install: mount(8) runs it for type " + MountTable.FS_TYPE + " (mount -t, /etc/fstab).\n"
        + "exec " + quoted(launcher) + " " + MountHelperCommand.NAME + " \"$@\"\n";
  }

  private static String runJar() throws IOException {
    try (InputStream in = LauncherScripts.class.getResourceAsStream(RUN_JAR)) {
      if (in == null) {
        throw new IOException(RUN_JAR + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** A path as one shell word, whatever it holds. */
  private static String quoted(Path path) {
    return "'" + path.toString().replace("'", "'\\''") + "'";
  }
}
