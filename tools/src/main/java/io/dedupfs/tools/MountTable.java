package io.dedupfs.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The kernel's table of mounts ({@code /proc/self/mountinfo}), as far as dedupfs needs it. */
final class MountTable {
  static final String FS_TYPE = "fuse.dedupfs";
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  /** One mount: where, what type, and its source (for dedupfs, the repository). */
  record Mount(Path mountpoint, String type, String source) {}

  private MountTable() {}

  static List<Mount> read() throws IOException {
    List<Mount> mounts = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.ISO_8859_1)) {
      // id parent major:minor root mountpoint options [optional fields...] - type source superoptions
      String[] f = line.split(" ");
      int dash = List.of(f).indexOf("-");
      if (dash < 0 || f.length < dash + 3) {
        continue;
      }
      mounts.add(new Mount(Path.of(unescape(f[4])), f[dash + 1], unescape(f[dash + 2])));
    }
    return mounts;
  }

  /** The mount whose mountpoint is {@code path}, if one is. */
  static Optional<Mount> at(Path path) throws IOException {
    Path target = path.toAbsolutePath().normalize();
    Optional<Mount> found = Optional.empty();
    for (Mount m : read()) {
      if (m.mountpoint().equals(target)) {
        found = Optional.of(m); // the last one listed is the one on top
      }
    }
    return found;
  }

  /** The kernel writes space, tab, newline and backslash as octal escapes (\040). */
  static String unescape(String field) {
    StringBuilder b = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        b.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return new String(b.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
