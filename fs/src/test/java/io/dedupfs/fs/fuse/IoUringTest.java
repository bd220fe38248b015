package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The ring itself, with no-op submissions: what goes in comes out, each once, with its user data. */
class IoUringTest {
  private static final byte OP_NOP = 0;

  @Test
  void everySubmissionCompletesOnceWithItsUserData() throws Exception {
    try (IoUring ring = new IoUring(LibFuse.LibC.load(), 4)) {
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
