package io.dedupfs.fs.fuse;

import io.dedupfs.store.namespace.Inode;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Pointer;

/**
 * How long the kernel may keep the attributes of each reply: directories and the read-only
 * snapshot view for {@link #CACHED_SECONDS}, every other inode not at all.
 *
 * <p>Why per inode: libfuse's path API gives each name of a file its own kernel inode, so cached
 * attributes of one name of a hard-linked file would hide a write or a new link made through
 * another (DESIGN §5; measured: after {@code ln A B}, {@code stat A} showed one link for the whole
 * timeout). A file can gain a second name at any time, so no regular file, symlink or device is
 * cached. A directory has exactly one name, and the kernel drops its cached attributes itself
 * whenever an entry in it changes; the snapshot view never changes. Caching directories is what
 * matters: with {@code default_permissions} the kernel checks every directory of every path it
 * walks, and with nothing cached each check was a GETATTR request — 570,000 of them for two
 * {@code rsync -a} runs of 11,860 files.
 *
 * <p>How: libfuse 2.9 has one mount-wide {@code attr_timeout} in its {@code struct fuse_config},
 * and reads it for the reply right after our getattr (or fgetattr) callback returns — every reply
 * that carries attributes, lookups and creations included, is made that way. The loop is
 * single-threaded ({@link FuseMount}), so setting the field in getattr sets the timeout of exactly
 * that reply. The field is found once, at init, by a signature: an {@code entry_timeout} of
 * {@link #ENTRY_TIMEOUT_SIGNATURE} seconds (one nanosecond over the second we mean; no other field
 * holds that double) followed by three zero timeouts and, further on, {@code use_ino} set. If the
 * signature is not found exactly once (another libfuse), nothing is written and nothing is cached:
 * correct, only slower.
 */
final class AttributeTimeouts {
  static final double CACHED_SECONDS = 1.0;
  /** The {@code entry_timeout} option's value: its bits mark the configuration in memory. */
  static final String ENTRY_TIMEOUT_SIGNATURE = "1.000000001";
  /** Offsets from {@code entry_timeout} in libfuse 2.9's struct fuse_config. */
  private static final int NEGATIVE_TIMEOUT = 8;
  private static final int ATTR_TIMEOUT = 16;
  private static final int AC_ATTR_TIMEOUT = 24;
  private static final int USE_INO = 52;
  /** Where entry_timeout may lie in struct fuse (it is at 160 in 2.9.9, whose struct has 344 bytes). */
  private static final int SCAN_END = 256;

  /** The attr_timeout field, or null when it was not found. */
  private final Pointer attrTimeout;

  private AttributeTimeouts(Pointer attrTimeout) {
    this.attrTimeout = attrTimeout;
  }

  /** Not located: every reply keeps the mount-wide timeout of 0. */
  static AttributeTimeouts none() {
    return new AttributeTimeouts(null);
  }

  /** Finds attr_timeout in libfuse's {@code struct fuse} at {@code fuse} (fuse_get_context()->fuse). */
  static AttributeTimeouts locate(Pointer fuse) {
    if (fuse == null) {
      return none();
    }
    long signature = Double.doubleToRawLongBits(Double.parseDouble(ENTRY_TIMEOUT_SIGNATURE));
    List<Long> found = new ArrayList<>();
    for (long offset = 0; offset < SCAN_END; offset += Long.BYTES) {
      if (fuse.getLong(offset) == signature && fuse.getLong(offset + NEGATIVE_TIMEOUT) == 0
          && fuse.getLong(offset + ATTR_TIMEOUT) == 0 && fuse.getLong(offset + AC_ATTR_TIMEOUT) == 0
          && fuse.getInt(offset + USE_INO) == 1) {
        found.add(offset);
      }
    }
    return found.size() == 1 ? new AttributeTimeouts(fuse.slice(found.get(0) + ATTR_TIMEOUT)) : none();
  }

  boolean located() {
    return attrTimeout != null;
  }

  /** Sets the timeout of the reply about to carry {@code inode}'s attributes. */
  void beforeReply(Inode inode, boolean immutable) {
    if (attrTimeout != null) {
      attrTimeout.putDouble(0, inode.isDirectory() || immutable ? CACHED_SECONDS : 0);
    }
  }
}
