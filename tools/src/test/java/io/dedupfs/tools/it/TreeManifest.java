package io.dedupfs.tools.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What a tree holds, read through the filesystem: per path below the root, its kind, mode,
 * owner, size, mtime and content (SHA-256 of a file, target of a symlink). Two readings of an
 * unchanged tree are equal; a reading can also be held against what is known of a tree, where
 * some fields are unknown.
 */
final class TreeManifest {
  /** A field of an {@link Entry} that is not known, in what a tree is expected to hold. */
  static final long ANY = -1;
  private static final int S_IFMT = 0170000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFLNK = 0120000;

  /**
   * One path's attributes; {@code content} is the SHA-256 of a regular file, the target of a
   * symlink, empty otherwise. In an expected entry numbers may be {@link #ANY}.
   */
  record Entry(long mode, long uid, long gid, long size, long mtimeNanos, String content) {
    /** A regular file known only by its length and SHA-256. */
    static Entry file(Data.Digest digest) {
      return new Entry(ANY, ANY, ANY, digest.length(), ANY, digest.sha256());
    }

    boolean isDirectory() {
      return mode != ANY && (mode & S_IFMT) == S_IFDIR;
    }

    boolean isRegularFile() {
      return mode != ANY && (mode & S_IFMT) == S_IFREG;
    }

    /** Whether this entry, as read, is what {@code expected} says (its unknown fields aside). */
    boolean matches(Entry expected) {
      return agrees(expected.mode, mode) && agrees(expected.uid, uid) && agrees(expected.gid, gid)
          && agrees(expected.size, size) && agrees(expected.mtimeNanos, mtimeNanos) && expected.content.equals(content);
    }

    /** The same entry, its size unknown: a directory's size is the filesystem's own. */
    Entry withoutDirectorySize() {
      return isDirectory() ? new Entry(mode, uid, gid, ANY, mtimeNanos, content) : this;
    }

    private static boolean agrees(long expected, long actual) {
      return expected == ANY || expected == actual;
    }
  }

  private TreeManifest() {}

  /**
   * Reads every path below {@code root} (which is itself {@code prefix}) and every file's bytes;
   * keys are {@code prefix/relative path}. Any I/O error, EIO included, is thrown.
   */
  static SortedMap<String, Entry> read(Path root, String prefix) throws IOException {
    SortedMap<String, Entry> entries = new TreeMap<>();
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.toList();
    }
    for (Path p : paths) {
      String relative = root.relativize(p).toString();
      entries.put(relative.isEmpty() ? prefix : prefix.isEmpty() ? relative : prefix + "/" + relative, entry(p));
    }
    return entries;
  }

  private static Entry entry(Path p) throws IOException {
    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) a.get("mode");
    long mtime = ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
    String content = switch (mode & S_IFMT) {
      case S_IFREG -> Data.digest(p).sha256();
      case S_IFLNK -> Files.readSymbolicLink(p).toString();
      default -> "";
    };
    return new Entry(mode, (Integer) a.get("uid"), (Integer) a.get("gid"), (Long) a.get("size"), mtime, content);
  }

  /**
   * How {@code actual} departs from {@code expected}, a line per path (at most {@code most}):
   * entries missing, different, or, below a directory that is expected, present but not expected.
   */
  static List<String> departures(Map<String, Entry> expected, Map<String, Entry> actual, int most) {
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, Entry> e : expected.entrySet()) {
      Entry found = actual.get(e.getKey());
      if (found == null) {
        lines.add(e.getKey() + ": missing, expected " + e.getValue());
      } else if (!found.matches(e.getValue())) {
        lines.add(e.getKey() + ": " + found + ", expected " + e.getValue());
      }
    }
    for (String path : actual.keySet()) {
      int slash = path.lastIndexOf('/');
      Entry parent = slash < 0 ? null : expected.get(path.substring(0, slash));
      if (parent != null && parent.isDirectory() && !expected.containsKey(path)) {
        lines.add(path + ": not expected in " + path.substring(0, slash));
      }
    }
    return lines.subList(0, Math.min(most, lines.size()));
  }
}
