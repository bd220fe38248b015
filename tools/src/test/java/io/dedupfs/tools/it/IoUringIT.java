package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests come over io_uring where the kernel offers FUSE over io_uring, and through /dev/fuse
 * with --no-io-uring; the mount's log says which, and how many requests each CPU's queue served.
 * (RandomOperationsIT checks that both ways give the same results.)
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IoUringIT {
  private static final Path ENABLE_URING = Path.of("/sys/module/fuse/parameters/enable_uring");
  private static final Pattern QUEUE_ENDED = Pattern.compile("FUSE io_uring queue \\d+ ended after (\\d+) requests");
  private static final int FILES = 200;

  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void requestsComeOverIoUringWhereTheKernelOffersIt() throws Exception {
    assumeTrue(Files.exists(ENABLE_URING)
        && (Files.readString(ENABLE_URING).trim().equals("Y") || Files.isWritable(ENABLE_URING)),
        "this kernel has no FUSE over io_uring, or it is off and this user may not turn it on");
    fs = Mounted.fresh(dir);
    writeAndReadBack(fs.mountpoint);
    fs.unmount();
    String log = Files.readString(fs.repository.resolve("dedupfs.log"));
    assertTrue(log.contains("requests come over io_uring now"), log);
    for (String trouble : new String[] {"refused", "could not be registered", "can take no more", "stopped"}) {
      assertFalse(log.contains(trouble), log);
    }
    long served = 0;
    for (Matcher m = QUEUE_ENDED.matcher(log); m.find(); ) {
      served += Long.parseLong(m.group(1));
    }
    // Each file costs a create, a write, a flush, a release, an open and a read at least.
    assertTrue(served >= 4 * FILES, served + " requests over io_uring\n" + log);
  }

  /**
   * With enable_uring turned off while mounted the kernel refuses every reply and registration,
   * and would leave each CPU's next requests waiting for ever: the mount ends itself instead, and
   * those requests fail at once. (The parameter is set back on after.)
   */
  @Test
  void aQueueTheKernelStopsTakingEndsTheMountInsteadOfLeavingRequestsWaiting() throws Exception {
    assumeTrue(Files.exists(ENABLE_URING) && Files.isWritable(ENABLE_URING), "enable_uring cannot be set here");
    fs = Mounted.fresh(dir);
    writeAndReadBack(fs.mountpoint);
    String outcome;
    try {
      Files.writeString(ENABLE_URING, "N");
      // On each CPU, a write: failed (the mount ended), or 124 if it still waited after 20 s.
      outcome = sh("for c in $(seq 0 $(($(nproc) - 1))); do if timeout 20 taskset -c $c sh -c 'echo x > \"$1\"/g' sh '"
          + fs.mountpoint + "' 2>/dev/null; then echo 0; else echo $?; fi; done");
    } finally {
      Files.writeString(ENABLE_URING, "Y");
    }
    assertFalse(outcome.contains("124"), "a write waited 20 s: " + outcome);
    ProcessHandle.of(fs.pid()).ifPresent(h -> h.onExit().join());
    fs.detach();
    String log = Files.readString(fs.repository.resolve("dedupfs.log"));
    assertTrue(log.contains("can take no more requests while mounted"), log);
    assertTrue(log.contains("everything written is durable"), log);
  }

  @Test
  void withNoIoUringEveryRequestGoesThroughDevFuse() throws Exception {
    fs = Mounted.fresh(dir, "--no-io-uring");
    writeAndReadBack(fs.mountpoint);
    fs.unmount();
    String log = Files.readString(fs.repository.resolve("dedupfs.log"));
    assertTrue(log.contains("serving FUSE through /dev/fuse"), log);
    assertFalse(log.contains("io_uring queue"), log);
  }

  private static void writeAndReadBack(Path mount) throws Exception {
    sh("cd '" + mount + "' && for i in $(seq " + FILES + "); do echo file $i > f$i; done");
    assertEquals("", sh("cd '" + mount + "' && for i in $(seq " + FILES + "); do"
        + " [ \"$(cat f$i)\" = \"file $i\" ] || echo \"f$i reads $(cat f$i)\"; done"));
  }
}
