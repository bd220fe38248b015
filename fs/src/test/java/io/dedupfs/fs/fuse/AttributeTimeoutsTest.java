package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;

/**
 * Finding attr_timeout in a struct fuse laid out as libfuse 2.9.9's (config at 144, entry_timeout
 * at 160), and refusing to write anywhere when the signature is missing or ambiguous.
 */
class AttributeTimeoutsTest {
  private static final int STRUCT_SIZE = 344;
  private static final int ENTRY_TIMEOUT = 160;
  private static final int ATTR_TIMEOUT = ENTRY_TIMEOUT + 16;
  private static final Inode DIRECTORY = inode(Mode.S_IFDIR | 0755, 2);
  private static final Inode FILE = inode(Mode.S_IFREG | 0644, 1);
  private static final Inode LINKED_FILE = inode(Mode.S_IFREG | 0644, 2);

  private static Inode inode(int mode, int nlink) {
    return new Inode(7, mode, 0, 0, nlink, 0, 0, 0, 0, 0, 1);
  }

  /** A struct fuse with the options FuseMount passes: entry_timeout as the signature, use_ino set. */
  private static Pointer structFuse(int entryTimeoutAt) {
    Pointer fuse = Memory.allocateDirect(Runtime.getSystemRuntime(), STRUCT_SIZE, true);
    fuse.putLong(0, 0x5555_0000_1234L); // the session pointer, and other fields, are not zero
    fuse.putLong(8, 0x5555_0000_5678L);
    fuse.putDouble(entryTimeoutAt, Double.parseDouble(AttributeTimeouts.ENTRY_TIMEOUT_SIGNATURE));
    fuse.putInt(entryTimeoutAt + 52, 1);
    return fuse;
  }

  @Test
  void directoriesAndTheSnapshotViewAreCachedFilesNever() {
    Pointer fuse = structFuse(ENTRY_TIMEOUT);
    AttributeTimeouts timeouts = AttributeTimeouts.locate(fuse);
    assertTrue(timeouts.located());

    timeouts.beforeReply(DIRECTORY, false);
    assertEquals(AttributeTimeouts.CACHED_SECONDS, fuse.getDouble(ATTR_TIMEOUT));
    timeouts.beforeReply(FILE, false);
    assertEquals(0.0, fuse.getDouble(ATTR_TIMEOUT));
    timeouts.beforeReply(LINKED_FILE, true);
    assertEquals(AttributeTimeouts.CACHED_SECONDS, fuse.getDouble(ATTR_TIMEOUT));
    timeouts.beforeReply(LINKED_FILE, false);
    assertEquals(0.0, fuse.getDouble(ATTR_TIMEOUT));
    // Nothing else was written: entry_timeout and the fields around the config are as they were.
    assertEquals(Double.parseDouble(AttributeTimeouts.ENTRY_TIMEOUT_SIGNATURE), fuse.getDouble(ENTRY_TIMEOUT));
    assertEquals(0x5555_0000_1234L, fuse.getLong(0));
  }

  @Test
  void withoutTheSignatureNothingIsWritten() {
    Pointer fuse = structFuse(ENTRY_TIMEOUT);
    fuse.putInt(ENTRY_TIMEOUT + 52, 0); // use_ino not set: not our configuration
    AttributeTimeouts timeouts = AttributeTimeouts.locate(fuse);
    assertFalse(timeouts.located());
    timeouts.beforeReply(DIRECTORY, false);
    assertEquals(0.0, fuse.getDouble(ATTR_TIMEOUT));

    assertFalse(AttributeTimeouts.locate(null).located());
  }

  @Test
  void twoCandidatesAreNoAnswer() {
    Pointer fuse = structFuse(ENTRY_TIMEOUT);
    fuse.putDouble(64, Double.parseDouble(AttributeTimeouts.ENTRY_TIMEOUT_SIGNATURE));
    fuse.putInt(64 + 52, 1);
    AttributeTimeouts timeouts = AttributeTimeouts.locate(fuse);
    assertFalse(timeouts.located());
    timeouts.beforeReply(DIRECTORY, false);
    assertEquals(0.0, fuse.getDouble(ATTR_TIMEOUT));
    assertEquals(0.0, fuse.getDouble(64 + 16));
  }
}
