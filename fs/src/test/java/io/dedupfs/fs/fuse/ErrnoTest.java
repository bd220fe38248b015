package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.StoreFullException;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.ErrorCodes;

/** The faults of DESIGN.md §7 as the kernel sees them: full is ENOSPC, damaged or missing data EIO. */
class ErrnoTest {
  @Test
  void aFullDiskOrIndexIsEnospcHoweverDeepTheCause() {
    // As a file's writer reports a failed background write: the JDK's ENOSPC, wrapped.
    IOException disk = new IOException("No space left on device");
    StoreException write = new StoreException("write to inode 7 failed: " + disk.getMessage(), disk);
    assertEquals(ErrorCodes.ENOSPC(), Errno.of(write));
    assertEquals(ErrorCodes.ENOSPC(), Errno.of(new StoreException("could not make written data durable", write)));
    assertEquals(ErrorCodes.ENOSPC(), Errno.of(new StoreFullException("index is full", null)));
    assertTrue(Errno.isFault(ErrorCodes.ENOSPC()));
  }

  @Test
  void damagedOrMissingDataIsEio() {
    assertEquals(ErrorCodes.EIO(), Errno.of(new CorruptDataException("chunk c in pack p: content does not match its id")));
    assertEquals(ErrorCodes.EIO(), Errno.of(new ChunkNotFoundException("chunk c is not in the index")));
    assertEquals(ErrorCodes.EIO(), Errno.of(new IllegalStateException("a bug")));
    assertTrue(Errno.isFault(ErrorCodes.EIO()));
  }
}
