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
import java.io.IOException;
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
    }
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
    for (Path part : List.of(repo.resolve("packs"), repo.resolve("snapshots"), repo.resolve("keys"), repo.resolve("config"))) {
      assertEquals(0, occurrences(part, MARKER), part + " shows file content");
      assertEquals(0, occurrences(part, bytes(FILE_NAME)), part + " shows a file name");
      assertEquals(0, occurrences(part, bytes(SNAPSHOT_NAME)), part + " shows a snapshot name");
    }
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

  /** How often {@code needle} occurs in the files under {@code root}. */
  private static int occurrences(Path root, byte[] needle) throws IOException {
    int count = 0;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        byte[] hay = Files.readAllBytes(f);
        for (int i = 0; i + needle.length <= hay.length; i++) {
          if (java.util.Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
            count++;
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
