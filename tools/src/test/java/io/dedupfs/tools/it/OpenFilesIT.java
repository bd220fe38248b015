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
 * A file whose names all go while it is open, as on a local disk: its descriptors keep reading
 * and writing it, it can be opened again through /dev/fd, it shows no name and no link, its
 * directory can be removed, and at its last close its data becomes garbage.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class OpenFilesIT {
  @TempDir Path dir;
  @AutoClose Mounted fs;

  @Test
  void anUnlinkedOpenFileLivesUntilItsLastClose() throws Exception {
    fs = Mounted.fresh(dir);
    String script = "cd '" + fs.mountpoint + "' && mkdir d && head -c 100000 /dev/urandom > d/f && cp d/f /tmp/x.$$"
        + " && exec 3>>d/f && rm d/f && echo tail >&3"
        + " && echo \"names: $(ls -A d | wc -l), links: $(stat -L -c %h /dev/fd/3)\""
        + " && rmdir d && echo tail >> /tmp/x.$$ && cmp /dev/fd/3 /tmp/x.$$ && echo same; rm -f /tmp/x.$$";
    assertEquals("names: 0, links: 0\nsame\n", sh(script));
    // The shell has closed the file: its 100 KB are garbage once its writer retires.
    assertTrue(waitForUnreferencedBytes() >= 100_000, "the file's data is unreferenced after its last close");
  }

  @Test
  void aFileRenamedOverWhileOpenKeepsItsContent() throws Exception {
    fs = Mounted.fresh(dir);
    String script = "cd '" + fs.mountpoint + "' && echo old > f && echo new > g && exec 3<f && mv g f"
        + " && echo \"$(cat <&3) $(cat f) $(stat -L -c %h /dev/fd/3)\"";
    assertEquals("old new 0\n", sh(script));
  }

  private long waitForUnreferencedBytes() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long bytes;
    do {
      Thread.sleep(200);
      Mounted.Output out = Mounted.dedupfsApart("stats", fs.repository.toString(), "--json");
      assertEquals(0, out.exit(), out.toString());
      Matcher m = Pattern.compile("\"unreferencedBytes\":(\\d+)").matcher(out.stdout());
      assertTrue(m.find(), out.stdout());
      bytes = Long.parseLong(m.group(1));
    } while (bytes == 0 && System.nanoTime() < deadline);
    return bytes;
  }
}
