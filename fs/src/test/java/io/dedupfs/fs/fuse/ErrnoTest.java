package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.StoreFullException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The faults of DESIGN.md §7 as the kernel sees them: full is ENOSPC, damaged or missing data EIO. */
class ErrnoTest {
  @Test
  void aFullDiskOrIndexIsEnospcHoweverDeepTheCause() {
    // As a file's writer reports a failed background write: the JDK's ENOSPC, wrapped.
    IOException disk = new IOException("No space left on device");
    StoreException write = new StoreException("write to inode 7 failed: " + disk.getMessage(), disk);
    assertEquals(jnr.constants.platform.Errno.ENOSPC.intValue(), Errno.of(write));
    assertEquals(jnr.constants.platform.Errno.ENOSPC.intValue(), Errno.of(new StoreException("could not make written data durable", write)));
    assertEquals(jnr.constants.platform.Errno.ENOSPC.intValue(), Errno.of(new StoreFullException("index is full", null)));
    assertTrue(Errno.isFault(jnr.constants.platform.Errno.ENOSPC.intValue()));
  }

  @Test
  void damagedOrMissingDataIsEio() {
    assertEquals(jnr.constants.platform.Errno.EIO.intValue(), Errno.of(new CorruptDataException("chunk c in pack p: content does not match its id")));
    assertEquals(jnr.constants.platform.Errno.EIO.intValue(), Errno.of(new ChunkNotFoundException("chunk c is not in the index")));
    assertEquals(jnr.constants.platform.Errno.EIO.intValue(), Errno.of(new IllegalStateException("a bug")));
    assertTrue(Errno.isFault(jnr.constants.platform.Errno.EIO.intValue()));
  }
}
