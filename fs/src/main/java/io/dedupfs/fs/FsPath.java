package io.dedupfs.fs;

import io.dedupfs.store.namespace.Name;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.List;

/**
 * An absolute path inside the mount as the kernel hands it over: bytes, '/'-separated, never
 * decoded as text. The root is the empty list of names.
 */
public record FsPath(List<Name> names) {
  public static final FsPath ROOT = new FsPath(List.of());
  static final String NAME_TOO_LONG = "File name too long";

  public FsPath {
    names = List.copyOf(names);
  }

  /** Parses {@code /a/b/c}; empty components (doubled or trailing slashes) are skipped. */
  public static FsPath parse(byte[] path) throws FileSystemException {
    List<Name> names = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= path.length; i++) {
      if (i == path.length || path[i] == '/') {
        if (i > start) {
          names.add(name(path, start, i));
        }
        start = i + 1;
      }
    }
    return new FsPath(names);
  }

  private static Name name(byte[] path, int from, int to) throws FileSystemException {
    if (to - from > Name.MAX_LENGTH) {
      throw new FileSystemException(printable(path), null, NAME_TOO_LONG);
    }
    byte[] bytes = java.util.Arrays.copyOfRange(path, from, to);
    try {
      return Name.of(bytes);
    } catch (IllegalArgumentException e) {
      // "." and ".." never reach a filesystem: the kernel resolves them.
      throw new FileSystemException(printable(path), null, "Invalid argument");
    }
  }

  public boolean isRoot() {
    return names.isEmpty();
  }

  /** The directory holding the last name; the root's parent is the root. */
  public FsPath parent() {
    return isRoot() ? this : new FsPath(names.subList(0, names.size() - 1));
  }

  /** The last name. */
  public Name name() {
    if (isRoot()) {
      throw new IllegalStateException("the root has no name");
    }
    return names.get(names.size() - 1);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Name n : names) {
      b.append('/').append(n);
    }
    return b.length() == 0 ? "/" : b.toString();
  }

  private static String printable(byte[] path) {
    return new String(path, java.nio.charset.StandardCharsets.UTF_8);
  }
}
