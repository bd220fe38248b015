package io.dedupfs.tools;

import java.util.Locale;
import picocli.CommandLine;

/**
 * Parses sizes such as {@code 4096}, {@code 64K}, {@code 256M}, {@code 1G} (binary units; a
 * trailing iB or B is allowed), and shows sizes the same way.
 */
public final class SizeConverter implements CommandLine.ITypeConverter<Long> {
  @Override
  public Long convert(String value) {
    return parse(value);
  }

  public static long parse(String value) {
    String v = value.trim().toUpperCase(Locale.ROOT);
    if (v.endsWith("IB")) {
      v = v.substring(0, v.length() - 2);
    } else if (v.endsWith("B")) {
      v = v.substring(0, v.length() - 1);
    }
    int shift = 0;
    if (!v.isEmpty()) {
      switch (v.charAt(v.length() - 1)) {
        case 'K' -> shift = 10;
        case 'M' -> shift = 20;
        case 'G' -> shift = 30;
        case 'T' -> shift = 40;
        default -> shift = 0;
      }
    }
    String digits = shift == 0 ? v : v.substring(0, v.length() - 1);
    try {
      long n = Long.parseLong(digits);
      if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
        throw new NumberFormatException();
      }
      return n << shift;
    } catch (NumberFormatException e) {
      throw new CommandLine.TypeConversionException("not a size: '" + value + "' (examples: 4096, 64K, 256M, 1G)");
    }
  }

  /** {@code bytes} for a person: {@code 512 B}, {@code 1.2 GiB}; a negative count is {@code n/a}. */
  public static String human(long bytes) {
    if (bytes < 0) {
      return "n/a";
    }
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  }
}
