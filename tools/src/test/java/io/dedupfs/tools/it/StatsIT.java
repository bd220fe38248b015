package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dedupfs stats --json} of a mounted repository, as a script reads it: a file copied twice
 * is stored once, the ingest counters are there, and what a snapshot holds alone is what deleting
 * it and running {@code dedupfs gc} frees; the requests the mount served are counted.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StatsIT {
  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void statsJsonCountsWhatGcThenFrees() throws Exception {
    fs = Mounted.fresh(dir);
    String m = fs.mountpoint.toString();
    sh("head -c 4000000 /dev/urandom > '" + m + "/a' && cp '" + m + "/a' '" + m + "/a-copy'"
        + " && head -c 3000000 /dev/urandom > '" + m + "/b' && mkdir '" + m + "/.snapshots/s1' && rm '" + m + "/b'");

    String json = stats();
    assertEquals(8_000_000L, number(json, "liveBytes"), json);
    assertEquals(19_000_000L, number(json, "logicalBytes"), "the live tree (a, a-copy) and s1 (a, a-copy, b): " + json);
    assertTrue(number(json, "plainBytes") < 7_100_000L, "a is stored once: " + json);
    assertTrue(json.contains("\"stages\":[{\"name\":\"chunk\""), "mounted, the ingest stages are there: " + json);
    long alone = number(json, "uniqueBytes");
    assertTrue(alone >= 3_000_000L, "s1 alone holds b: " + json);

    assertEquals(0, Mounted.dedupfs("snapshot", "delete", fs.repository.toString(), "s1").exit());
    Mounted.Output gc = Mounted.dedupfsApart("gc", fs.repository.toString(), "--json");
    assertEquals(0, gc.exit(), gc.toString());
    assertEquals(alone, number(gc.stdout(), "bytesFreed"), "gc frees what s1 alone held: " + gc.stdout());
    assertEquals(0, number(stats(), "unreferencedBytes"));
  }

  @Test
  void statsJsonCountsTheRequestsTheMountServed() throws Exception {
    fs = Mounted.fresh(dir);
    String m = fs.mountpoint.toString();
    int files = 40;
    // 1000 bytes each, through read-write descriptors (cached, so the kernel asks for
    // security.capability before the first write); then a name that is not there, which it looks up.
    sh("cd '" + m + "' && for i in $(seq " + files + "); do head -c 1000 /dev/urandom 1<> f$i; done"
        + " && cat f* > /dev/null && ! stat no-such-file 2>/dev/null");

    String json = stats();
    long[] create = request(json, "create");
    long[] write = request(json, "write");
    long[] lookup = request(json, "lookup");
    long[] getxattr = request(json, "getxattr");
    assertTrue(create[0] >= files, "a create per file: " + json);
    assertEquals(0, create[1], "no create failed: " + json);
    assertTrue(write[0] >= files, "a write at least per file: " + json);
    assertEquals(files * 1000L, write[4], "every byte written is counted once: " + json);
    assertTrue(lookup[0] > files, "the kernel looks up each new name before creating it, and no-such-file: " + json);
    assertEquals(0, lookup[1], "a name not there is an answer (a negative entry), not an error: " + json);
    assertTrue(lookup[2] > 0 && lookup[3] > 0 && lookup[3] == lookup[2] / lookup[0], "time is counted: " + json);
    assertTrue(getxattr[1] >= files, "security.capability, asked before each first write, is not there (ENODATA): "
        + json);
    assertEquals(0, request(json, "rmdir")[0], "not asked for, but there: " + json);
  }

  /** {count, errors, nanos, meanNanos, bytes} of the request named {@code name} in {@code json}. */
  private static long[] request(String json, String name) {
    Matcher m = Pattern.compile("\\{\"name\":\"" + name + "\",\"count\":(\\d+),\"errors\":(\\d+),\"nanos\":(\\d+),"
        + "\"meanNanos\":(\\d+),\"bytes\":(\\d+)}").matcher(json);
    assertTrue(m.find(), name + " in " + json);
    long[] n = new long[5];
    for (int i = 0; i < n.length; i++) {
      n[i] = Long.parseLong(m.group(i + 1));
    }
    return n;
  }

  private String stats() throws Exception {
    Mounted.Output out = Mounted.dedupfsApart("stats", fs.repository.toString(), "--json");
    assertEquals(0, out.exit(), out.toString());
    return out.stdout();
  }

  /** The first number named {@code member} in {@code json}. */
  private static long number(String json, String member) {
    Matcher m = Pattern.compile("\"" + member + "\":(\\d+)").matcher(json);
    assertTrue(m.find(), member + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
