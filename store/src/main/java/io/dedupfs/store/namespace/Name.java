package io.dedupfs.store.namespace;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A directory entry's name: 1–255 bytes, no '/' and no NUL, not "." or "..". Any bytes Linux
 * allows, invalid UTF-8 included; never decoded as text except for messages.
 */
public final class Name implements Comparable<Name> {
  public static final int MAX_LENGTH = 255;
  private final byte[] bytes;

  private Name(byte[] bytes) {
    this.bytes = bytes;
  }

  public static Name of(byte[] bytes) {
    if (bytes.length == 0 || bytes.length > MAX_LENGTH) {
      throw new IllegalArgumentException("a name has 1.." + MAX_LENGTH + " bytes, got " + bytes.length);
    }
    for (byte b : bytes) {
      if (b == '/' || b == 0) {
        throw new IllegalArgumentException("a name cannot contain '/' or NUL");
      }
    }
    if ((bytes.length == 1 && bytes[0] == '.') || (bytes.length == 2 && bytes[0] == '.' && bytes[1] == '.')) {
      throw new IllegalArgumentException("'.' and '..' are not names of entries");
    }
    return new Name(bytes.clone());
  }

  public static Name of(String name) {
    return of(name.getBytes(StandardCharsets.UTF_8));
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  int length() {
    return bytes.length;
  }

  void copyTo(byte[] dst, int offset) {
    System.arraycopy(bytes, 0, dst, offset, bytes.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Name n && Arrays.equals(bytes, n.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(Name o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  /** For messages only: invalid UTF-8 shows as replacement characters. */
  @Override
  public String toString() {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
