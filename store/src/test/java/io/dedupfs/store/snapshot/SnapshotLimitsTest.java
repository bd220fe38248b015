package io.dedupfs.store.snapshot;

import static io.dedupfs.store.snapshot.SnapshotKit.FILE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.XattrMode;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.index.Table;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits: a repository whose maximum chunk size (a DATA limit, FORMAT.md §3–5) is below the
 * 64 KiB a tree node may reach (tree nodes are limited by the 16 MiB of any chunk, not by it), and
 * inodes with more than the format can describe.
 */
class SnapshotLimitsTest {
  @TempDir Path tmp;
  private SnapshotKit kit;

  private static final ChunkerParameters SMALL_MAX = new ChunkerParameters(1024, 4096, 16384);

  @AfterEach
  void close() throws Exception {
    if (kit != null) {
      kit.close();
    }
  }

  @Test
  void aDirectoryLargerThanTheMaximumChunkSnapshots() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), SMALL_MAX);
    long dir = kit.mkdir(Namespace.ROOT, "d");
    for (int k = 0; k < 400; k++) {
      byte[] n = new byte[200];
      Arrays.fill(n, (byte) 'x');
      System.arraycopy(String.format("%04d", k).getBytes(StandardCharsets.US_ASCII), 0, n, 0, 4);
      kit.ns.mknod(dir, Name.of(n), FILE, 0, 0, 0);
    }
    SnapshotRecord s = kit.snapshot("s");
    assertEquals(400, s.files());
    kit.assertSnapshotIsLive(s, "400 entries of ~280 bytes");
  }

  /**
   * The xattr count of an Entry is a u16, but the namespace takes any number of xattrs. A
   * snapshot must then fail, not write an Entry that no reader can parse.
   */
  @Test
  void moreXattrsThanAnEntryCanCountNeverMakeAnUnreadableSnapshot() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), ChunkerParameters.DEFAULT);
    long f = kit.mkfile(Namespace.ROOT, "f");
    // Set directly, in one transaction (65,537 setXattr calls would take long): as setXattr would store them.
    kit.repo.index().write(tx -> {
      for (int k = 0; k < 65_537; k++) {
        byte[] name = String.format("user.%05d", k).getBytes(StandardCharsets.US_ASCII);
        tx.put(Table.XATTRS, ByteBuffer.allocate(8 + name.length).putLong(f).put(name).array(), new byte[] {1});
      }
      return null;
    });
    assertEquals(65_537, kit.ns.listXattrs(f).size());
    SnapshotRecord s;
    try {
      s = kit.snapshot("s");
    } catch (IOException | IllegalArgumentException refused) {
      return;   // refusing is fine; a snapshot that cannot be read is not
    }
    TreeEntry e = kit.reader.lookup(s.root(), Name.of("f")).orElseThrow();
    assertEquals(65_537, e.xattrs().size());
  }

  @Test
  void anEntryLargerThanTheMaximumChunkSnapshots() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), SMALL_MAX);
    long f = kit.mkfile(Namespace.ROOT, "f");
    kit.ns.setXattr(f, "user.big".getBytes(StandardCharsets.UTF_8), SnapshotKit.bytes(Namespace.MAX_XATTR_VALUE, 1),
        XattrMode.EITHER);
    kit.assertSnapshotIsLive(kit.snapshot("s"), "a 64 KiB xattr");
  }
}
