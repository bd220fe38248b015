package io.dedupfs.store.namespace;

import java.io.IOException;
import java.nio.file.NoSuchFileException;

/**
 * Paths for tests of the live tree. {@link Namespace} has no path walk: the kernel looks names up
 * one at a time, and so does {@link #walk}.
 */
public final class NamespacePaths {
  private NamespacePaths() {}

  /**
   * The inode that {@code path} ("a/b/c"; "" is the root) names from the root, by {@link
   * Namespace#lookup} name by name: ENOENT naming {@code path} if a name is missing, ENOTDIR from
   * lookup if one on the way is not a directory.
   */
  public static Inode walk(Namespace ns, String path) throws IOException {
    Inode at = ns.getattr(Namespace.ROOT);
    for (String part : path.split("/")) {
      if (!part.isEmpty()) {
        at = ns.lookup(at.number(), Name.of(part)).orElseThrow(() -> new NoSuchFileException(path));
      }
    }
    return at;
  }
}
