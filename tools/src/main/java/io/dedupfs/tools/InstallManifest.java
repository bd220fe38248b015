package io.dedupfs.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@code dedupfs install} put on the machine: the files it wrote and the directories it had
 * to create for them, one path a line (directories end in '/'), kept in a file so that {@code
 * dedupfs uninstall} removes exactly those and leaves the rest of the prefix as it was. A new
 * install over an old one keeps the old entries, so directories the first install created still
 * go at uninstall.
 */
final class InstallManifest {
  private static final String DIRECTORY_MARK = "/";
  static final String EXECUTABLE = "rwxr-xr-x";
  static final String READABLE = "rw-r--r--";

  private final Path file;
  private final Set<Path> files = new LinkedHashSet<>();
  /** In the order they were created: parents before children. */
  private final Set<Path> directories = new LinkedHashSet<>();

  private InstallManifest(Path file) {
    this.file = file;
  }

  /** The manifest in {@code file}, or an empty one if there is none yet. */
  static InstallManifest at(Path file) throws IOException {
    InstallManifest manifest = new InstallManifest(file);
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.endsWith(DIRECTORY_MARK) && line.length() > 1) {
          manifest.directories.add(Path.of(line.substring(0, line.length() - 1)));
        } else if (!line.isEmpty()) {
          manifest.files.add(Path.of(line));
        }
      }
    }
    return manifest;
  }

  boolean isEmpty() {
    return files.isEmpty() && directories.isEmpty();
  }

  /** Writes {@code content} to {@code target}, replacing it whole (a reader never sees half a file). */
  void write(Path target, byte[] content, String permissions) throws IOException {
    createParents(target);
    Path next = target.resolveSibling(target.getFileName() + ".dedupfs-new");
    try {
      Files.write(next, content);
      Files.setPosixFilePermissions(next, PosixFilePermissions.fromString(permissions));
      Files.move(next, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(next);
    }
    files.add(target);
  }

  /** Copies {@code source} to {@code target}; nothing to copy when they are the same file (an installed dedupfs reinstalling itself). */
  void copy(Path source, Path target, String permissions) throws IOException {
    if (Files.exists(target) && Files.isSameFile(source, target)) {
      files.add(target);
      return;
    }
    write(target, Files.readAllBytes(source), permissions);
  }

  /** Writes the manifest itself, creating its directory if needed. */
  void save() throws IOException {
    createParents(file);
    List<String> lines = new ArrayList<>();
    directories.forEach(d -> lines.add(d + DIRECTORY_MARK));
    files.forEach(f -> lines.add(f.toString()));
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  /**
   * Removes every file listed, the manifest, then every directory listed that is now empty,
   * children first. Returns what it left: listed directories that hold something else now.
   */
  List<Path> removeAll() throws IOException {
    for (Path f : files) {
      Files.deleteIfExists(f);
    }
    Files.deleteIfExists(file);
    List<Path> kept = new ArrayList<>();
    List<Path> childrenFirst = new ArrayList<>(directories);
    childrenFirst.sort((a, b) -> b.getNameCount() - a.getNameCount());
    for (Path d : childrenFirst) {
      try {
        Files.deleteIfExists(d);
      } catch (DirectoryNotEmptyException e) {
        kept.add(d);
      }
    }
    return kept;
  }

  Set<Path> files() {
    return files;
  }

  private void createParents(Path target) throws IOException {
    List<Path> missing = new ArrayList<>();
    for (Path d = target.getParent(); d != null && !Files.isDirectory(d); d = d.getParent()) {
      missing.add(0, d);
    }
    for (Path d : missing) {
      Files.createDirectory(d);
      directories.add(d);
    }
  }
}
