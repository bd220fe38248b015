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
 * it and running {@code dedupfs gc} frees.
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
