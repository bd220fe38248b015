package io.dedupfs.store.snapshot;

import static io.dedupfs.store.snapshot.SnapshotKit.assertSameImage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.crypto.KdfParameters;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.crypto.WrongPassphraseException;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import io.dedupfs.store.repo.RepositoryKeys;
import io.dedupfs.store.namespace.XattrMode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An encrypted repository end to end: what it stores, what it reveals, and who may open it. */
class EncryptedRepositoryTest {
  private static final KdfParameters CHEAP = new KdfParameters(64, 1, 1);
  /** Content that would show in the pack files verbatim if they were not encrypted (compression is off). */
  private static final byte[] MARKER = "dedupfs-plaintext-marker-0123456789".getBytes(StandardCharsets.US_ASCII);
  private static final String FILE_NAME = "name-that-must-not-show.txt";
  private static final String SNAPSHOT_NAME = "snapshot-name-that-must-not-show";
  private static final String XATTR_NAME = "user.xattr-name-that-must-not-show";
  private static final String LINK_TARGET = "link-target-that-must-not-show";

  @TempDir Path tmp;
  private SnapshotKit kit;

  @AfterEach
  void close() throws IOException {
    if (kit != null) {
      kit.close();
    }
  }

  private static Repository.OpenOptions withPassphrase(String passphrase) {
    return new Repository.OpenOptions(ChunkIndex.DEFAULT_MAP_SIZE, passphrase::toCharArray, CHEAP);
  }

  private SnapshotKit create(Path path, boolean encrypted) throws IOException {
    RepositoryConfig config = RepositoryConfig.create(SnapshotKit.SMALL_CHUNKS, Compression.NONE, encrypted);
    return SnapshotKit.create(path, config, withPassphrase("right passphrase"));
  }

  /** Files holding the marker between random bytes, one named {@link #FILE_NAME}, and a snapshot. */
  private SnapshotRecord fill(SnapshotKit k) throws Exception {
    long dir = k.mkdir(1, "dir");
    for (int i = 0; i < 20; i++) {
      byte[] data = SnapshotKit.concat(SnapshotKit.bytes(3000 + i * 517, i), MARKER, SnapshotKit.bytes(9000, 100 + i));
      long file = k.mkfile(dir, i == 0 ? FILE_NAME : "f" + i);
      k.write(file, 0, data);
      k.ns.setXattr(file, bytes(XATTR_NAME), MARKER, XattrMode.EITHER);
    }
    k.ns.symlink(dir, SnapshotKit.name("link"), bytes(LINK_TARGET), 0, 0);
    return k.snapshot(SNAPSHOT_NAME);
  }

  @Test
  void whatWasStoredReadsBackAfterReopeningWithThePassphrase() throws Exception {
    kit = create(tmp.resolve("repo"), true);
    SnapshotRecord record = fill(kit);
    SnapshotKit.Image live = kit.liveImage();
    SnapshotKit.Image snapshot = kit.snapshotImage(record);
    kit.reopen();
    assertSameImage(live, kit.liveImage(), "live tree after reopening");
    SnapshotRecord reread = kit.snapshots.get(SnapshotKit.name(SNAPSHOT_NAME));
    assertSameImage(snapshot, kit.snapshotImage(reread), "snapshot after reopening");
    kit.assertSnapshotIsLive(reread, "nothing changed since the snapshot");
  }

  @Test
  void packsSnapshotRecordsAndKeysRevealNeitherContentNorNames() throws Exception {
    kit = create(tmp.resolve("plain"), false);
    fill(kit);
    kit.close();
    // The scan itself must be able to find the marker, or its silence below proves nothing.
    assertTrue(occurrences(tmp.resolve("plain"), MARKER) >= 20, "a plain repository stores the marker verbatim");
    assertTrue(occurrences(tmp.resolve("plain").resolve("snapshots"), bytes(SNAPSHOT_NAME)) >= 1);

    kit = create(tmp.resolve("encrypted"), true);
    fill(kit);
    kit.close();
    Path repo = tmp.resolve("encrypted");
    assertTrue(occurrences(tmp.resolve("plain").resolve("index"), bytes(FILE_NAME)) >= 1, "a plain index shows names");
    for (String secret : List.of(new String(MARKER, StandardCharsets.US_ASCII), FILE_NAME, SNAPSHOT_NAME, XATTR_NAME,
        LINK_TARGET)) {
      assertEquals(0, occurrences(repo, bytes(secret)), "the repository shows " + secret);
    }
  }

  @Test
  void aLargeEncryptedDirectoryIsFoundByNameAndListedWholeInPages() throws Exception {
    kit = create(tmp.resolve("repo"), true);
    long dir = kit.mkdir(1, "big");
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (int i = 0; i < 3000; i++) {
      String name = "entry-" + i + "-" + "x".repeat(i % 40);
      names.add(name);
      kit.mkfile(dir, name);
    }
    SnapshotRecord record = kit.snapshot("s");
    kit.reopen();
    TreeEntry big = kit.reader.resolve(kit.snapshots.get(SnapshotKit.name("s")).root(), List.of(SnapshotKit.name("big")));
    for (String name : names) {
      assertEquals(SnapshotKit.name(name), kit.reader.lookup(big, SnapshotKit.name(name)).orElseThrow().name(), name);
    }
    assertTrue(kit.reader.lookup(big, SnapshotKit.name("entry-absent")).isEmpty());
    java.util.List<String> listed = new java.util.ArrayList<>();
    kit.snapshotList(big).forEach(e -> listed.add(e.name().toString()));
    assertEquals(names.size(), listed.size(), "each entry listed once");
    assertEquals(names, new java.util.TreeSet<>(listed));
    java.util.List<String> live = new java.util.ArrayList<>();
    kit.liveList(dir).forEach(e -> live.add(e.name().toString()));
    assertEquals(names, new java.util.TreeSet<>(live), "the live directory lists the same");
    assertEquals(record.files(), names.size());
  }

  @Test
  void aWrongOrMissingPassphraseIsRefusedBeforeAnythingIsWritten() throws Exception {
    Path repo = tmp.resolve("repo");
    kit = create(repo, true);
    fill(kit);
    kit.close();
    kit = null;
    TreeMap<String, String> before = state(repo);
    WrongPassphraseException wrong = assertThrows(WrongPassphraseException.class,
        () -> Repository.open(repo, withPassphrase("wrong passphrase")));
    assertTrue(wrong.getMessage().contains("wrong passphrase"), wrong.getMessage());
    StoreException none = assertThrows(StoreException.class,
        () -> Repository.open(repo, Repository.OpenOptions.DEFAULT.withPassphrase(PassphraseSource.NONE)));
    assertTrue(none.getMessage().contains("encrypted"), none.getMessage());
    assertEquals(before, state(repo), "a refused open changed the repository");
  }

  @Test
  void aChangedPassphraseOpensTheSameDataAndTheOldOneNoLonger() throws Exception {
    Path repo = tmp.resolve("repo");
    kit = create(repo, true);
    SnapshotRecord record = fill(kit);
    SnapshotKit.Image image = kit.snapshotImage(record);
    // While the repository is open, as while it is mounted: the key file is not under the lock.
    RepositoryKeys.changePassphrase(repo, "right passphrase"::toCharArray, "new passphrase"::toCharArray, CHEAP);
    assertThrows(WrongPassphraseException.class,
        () -> RepositoryKeys.changePassphrase(repo, "right passphrase"::toCharArray, "x"::toCharArray, CHEAP));
    kit.close();
    assertThrows(WrongPassphraseException.class, () -> Repository.open(repo, withPassphrase("right passphrase")));
    kit = SnapshotKit.open(repo, withPassphrase("new passphrase"));
    assertSameImage(image, kit.snapshotImage(kit.snapshots.get(SnapshotKit.name(SNAPSHOT_NAME))), "after the change");
  }

  @Test
  void chunkIdsAreKeyedPerRepository() throws Exception {
    byte[] data = SnapshotKit.bytes(5000, 7);
    kit = create(tmp.resolve("a"), true);
    ChunkId a = kit.storeChunk(data);
    kit.flushChunks();
    assertArrayEquals(data, kit.chunks.readBytes(a));
    kit.close();
    kit = create(tmp.resolve("b"), true);
    ChunkId b = kit.storeChunk(data);
    ChunkId plain = ChunkHasher.sha256().idOf(data);
    assertNotEquals(plain, a, "an encrypted repository must not name chunks by their plain SHA-256");
    assertNotEquals(a, b, "two encrypted repositories must name the same content differently");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** How often {@code needle} occurs in the files under {@code root}, read a block at a time (LMDB's file is large). */
  private static int occurrences(Path root, byte[] needle) throws IOException {
    int count = 0;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 1 << 20)) {
          // A window of the last needle.length bytes, compared at every byte.
          byte[] window = new byte[needle.length];
          long seen = 0;
          for (int b; (b = in.read()) >= 0; seen++) {
            System.arraycopy(window, 1, window, 0, window.length - 1);
            window[window.length - 1] = (byte) b;
            if (seen + 1 >= needle.length && java.util.Arrays.equals(window, needle)) {
              count++;
            }
          }
        }
      }
    }
    return count;
  }

  /** Every file under {@code root} with its size, modification time and SHA-256. */
  private static TreeMap<String, String> state(Path root) throws Exception {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String what = Files.isRegularFile(f)
            ? Files.size(f) + " " + Files.getLastModifiedTime(f) + " "
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)))
            : "dir";
        out.put(root.relativize(f).toString(), what);
      }
    }
    return out;
  }
}
