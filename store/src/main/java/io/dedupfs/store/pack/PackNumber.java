package io.dedupfs.store.pack;

import java.util.HexFormat;

/** The number naming a pack (FORMAT.md §1, §2). Allocated in increasing order, never reused. */
public record PackNumber(long value) implements Comparable<PackNumber> {
  public PackNumber {
    if (value < 0) {
      throw new IllegalArgumentException("pack number must not be negative: " + value);
    }
  }

  /** The file name: the number as 16 lowercase hex digits. */
  public String fileName() {
    return HexFormat.of().toHexDigits(value);
  }

  /** The directory under packs/: the number's lowest byte as two hex digits. */
  public String directoryName() {
    return HexFormat.of().toHexDigits((byte) value);
  }

  public static PackNumber parse(String fileName) {
    if (fileName.length() != 16) {
      throw new IllegalArgumentException("not a pack file name: " + fileName);
    }
    return new PackNumber(HexFormat.fromHexDigitsToLong(fileName));
  }

  @Override
  public int compareTo(PackNumber o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return fileName();
  }
}
