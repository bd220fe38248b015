package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The ring itself, with no-op submissions: what goes in comes out, each once, with its user data. */
class IoUringTest {
  private static final byte OP_NOP = 0;

  @Test
  void everySubmissionCompletesOnceWithItsUserData() throws Exception {
    IoUring made;
    try {
      made = new IoUring(LibFuse.LibC.load(), 4);
    } catch (IOException e) {
      // Refused by the kernel (disabled, or a seccomp filter): nothing to test. Anything after that is a failure.
      assumeTrue(!e.getMessage().startsWith("io_uring_setup failed"), "io_uring is not available here: " + e.getMessage());
      throw e;
    }
    try (IoUring ring = made) {
      for (int round = 0; round < 10; round++) {
        for (long data = 1; data <= 3; data++) {
          ByteBuffer sqe = ring.nextSubmission();
          sqe.put(0, OP_NOP);
          sqe.putLong(32, 100 * round + data);
        }
        assertEquals(0, ring.submitAndWait());
        long seen = 0;
        for (IoUring.Completion c; (c = ring.nextCompletion()) != null || seen < 3; ) {
          if (c == null) {
            assertEquals(0, ring.submitAndWait());
            continue;
          }
          seen++;
          assertEquals(100 * round + seen, c.userData());
          assertEquals(0, c.result());
        }
        assertNull(ring.nextCompletion());
      }
    }
  }
}
