package io.dedupfs.store.namespace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.util.Arrays;

/**
 * The access ACL ({@code system.posix_acl_access}) and the mode bits it shares with the inode, as
 * Linux keeps them in step: setting the ACL sets the owner, group and other bits (the group bits
 * from the mask entry if there is one), and chmod rewrites those entries of the ACL. The value is
 * the kernel's xattr format: a little-endian u32 version (2), then entries of u16 tag, u16
 * permissions, u32 id.
 */
final class PosixAcl {
  static final byte[] ACCESS_XATTR = "system.posix_acl_access".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 2;
  private static final int HEADER = 4;
  private static final int ENTRY = 8;
  private static final int USER_OBJ = 0x01;
  private static final int GROUP_OBJ = 0x04;
  private static final int MASK = 0x10;
  private static final int OTHER = 0x20;

  private PosixAcl() {}

  static boolean isAccessAcl(byte[] xattrName) {
    return Arrays.equals(xattrName, ACCESS_XATTR);
  }

  /** The rwx bits for owner, group and others that the ACL implies (0..0777). */
  static int permissionBits(byte[] acl) throws FileSystemException {
    ByteBuffer b = entries(acl);
    int user = -1;
    int group = -1;
    int mask = -1;
    int other = -1;
    while (b.remaining() >= ENTRY) {
      int tag = b.getShort() & 0xffff;
      int perm = b.getShort() & 7;
      b.getInt();
      switch (tag) {
        case USER_OBJ -> user = perm;
        case GROUP_OBJ -> group = perm;
        case MASK -> mask = perm;
        case OTHER -> other = perm;
        default -> { }
      }
    }
    if (user < 0 || group < 0 || other < 0) {
      throw invalid();
    }
    return user << 6 | (mask >= 0 ? mask : group) << 3 | other;
  }

  /** The ACL with its owner, group-class (mask, else group) and other entries set from {@code mode}. */
  static byte[] withMode(byte[] acl, int mode) throws FileSystemException {
    byte[] out = acl.clone();
    ByteBuffer b = entries(out);
    boolean hasMask = false;
    for (int at = HEADER; at + ENTRY <= out.length; at += ENTRY) {
      hasMask |= (b.getShort(at) & 0xffff) == MASK;
    }
    for (int at = HEADER; at + ENTRY <= out.length; at += ENTRY) {
      int tag = b.getShort(at) & 0xffff;
      int shift = tag == USER_OBJ ? 6 : tag == OTHER ? 0 : tag == MASK || (tag == GROUP_OBJ && !hasMask) ? 3 : -1;
      if (shift >= 0) {
        b.putShort(at + 2, (short) ((mode >> shift) & 7));
      }
    }
    return out;
  }

  private static ByteBuffer entries(byte[] acl) throws FileSystemException {
    if (acl.length < HEADER || (acl.length - HEADER) % ENTRY != 0) {
      throw invalid();
    }
    ByteBuffer b = ByteBuffer.wrap(acl).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt() != VERSION) {
      throw invalid();
    }
    return b;
  }

  private static FileSystemException invalid() {
    return new FileSystemException("system.posix_acl_access", null, Namespace.INVALID_ARGUMENT);
  }
}
