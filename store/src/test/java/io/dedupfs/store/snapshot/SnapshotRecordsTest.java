package io.dedupfs.store.snapshot;

import static io.dedupfs.store.snapshot.SnapshotKit.name;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.crypto.Encryption;
import java.time.Clock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Creating, listing, renaming and deleting snapshot records, and their files (FORMAT.md §10.2). */
class SnapshotRecordsTest {
  @TempDir Path tmp;
  private SnapshotKit kit;

  @BeforeEach
  void open() throws Exception {
    kit = SnapshotKit.create(tmp.resolve("repo"), SnapshotKit.SMALL_CHUNKS);
    kit.writeFile(kit.mkdir(Namespace.ROOT, "d"), "f", 5000, 1);
  }

  @AfterEach
  void close() throws Exception {
    kit.close();
  }

  private List<String> names() {
    List<String> out = new ArrayList<>();
    kit.snapshots.list().forEach(r -> out.add(r.number() + ":" + r.name()));
    return out;
  }

  private List<String> recordFiles() throws Exception {
    try (Stream<Path> s = Files.list(kit.path.resolve("snapshots"))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void createListGetRenameDelete() throws Exception {
    long before = kit.clock.peek();
    SnapshotRecord a = kit.snapshot("a");
    SnapshotRecord b = kit.snapshot("b");
    SnapshotRecord c = kit.snapshot("c");
    assertEquals(List.of(1L, 2L, 3L), List.of(a.number(), b.number(), c.number()));
    assertTrue(a.createdNanos() > before && a.createdNanos() < b.createdNanos(), "creation time on the namespace's clock");
    assertEquals(List.of("1:a", "2:b", "3:c"), names());
    assertEquals(List.of("0000000000000001", "0000000000000002", "0000000000000003"), recordFiles());
    assertEquals(b.number(), kit.snapshots.get(name("b")).number());
    assertEquals(b.root().tree(), kit.snapshots.get(name("b")).root().tree());
    assertEquals(5000, kit.snapshots.get(name("b")).bytes());

    assertThrows(FileAlreadyExistsException.class, () -> kit.snapshot("b"));
    assertThrows(NoSuchFileException.class, () -> kit.snapshots.get(name("zz")));
    assertThrows(NoSuchFileException.class, () -> kit.snapshots.delete(name("zz")));
    assertThrows(NoSuchFileException.class, () -> kit.snapshots.rename(name("zz"), name("yy")));
    assertThrows(FileAlreadyExistsException.class, () -> kit.snapshots.rename(name("a"), name("c")));
    assertEquals(List.of("1:a", "2:b", "3:c"), names(), "failed calls change nothing");

    kit.snapshots.rename(name("b"), name("b2"));
    assertEquals(List.of("1:a", "2:b2", "3:c"), names());
    assertThrows(NoSuchFileException.class, () -> kit.snapshots.get(name("b")));
    assertEquals(b.root().tree(), kit.snapshots.get(name("b2")).root().tree(), "renaming keeps the tree");
    assertEquals(b.createdNanos(), kit.snapshots.get(name("b2")).createdNanos());
    kit.snapshots.rename(name("b2"), name("b2"));
    assertEquals(List.of("1:a", "2:b2", "3:c"), names());

    // The old name is free again.
    SnapshotRecord b3 = kit.snapshot("b");
    assertEquals(4, b3.number());
    kit.snapshots.delete(name("a"));
    assertEquals(List.of("2:b2", "3:c", "4:b"), names());
    assertEquals(List.of("0000000000000002", "0000000000000003", "0000000000000004"), recordFiles());
    assertThrows(NoSuchFileException.class, () -> kit.snapshots.get(name("a")));
    // A deleted snapshot's name can be used again, with a new number.
    assertEquals(5, kit.snapshot("a").number());
  }

  @Test
  void recordsSurviveReopeningAndNumbersAreNeverReused() throws Exception {
    kit.snapshot("a");
    SnapshotRecord b = kit.snapshot("b");
    kit.snapshot("c");
    kit.snapshots.rename(name("b"), name("renamed"));
    kit.snapshots.delete(name("c"));
    kit.reopen();
    assertEquals(List.of("1:a", "2:renamed"), names());
    SnapshotRecord back = kit.snapshots.get(name("renamed"));
    assertEquals(b.root().tree(), back.root().tree());
    assertEquals(b.createdNanos(), back.createdNanos());
    assertEquals(List.of(b.bytes(), b.files(), b.directories()), List.of(back.bytes(), back.files(), back.directories()));
    kit.assertSnapshotIsLive(back, "reopened");
    assertEquals(4, kit.snapshot("d").number(), "3 was used by the deleted c");

    // Even with every record gone.
    kit.snapshots.delete(name("a"));
    kit.snapshots.delete(name("renamed"));
    kit.snapshots.delete(name("d"));
    assertTrue(kit.snapshots.list().isEmpty());
    kit.reopen();
    assertTrue(kit.snapshots.list().isEmpty());
    assertEquals(5, kit.snapshot("e").number());
  }

  @Test
  void aRecordPresentAboveNextSnapshotIsNotReused() throws Exception {
    SnapshotRecord a = kit.snapshot("a");
    // A record file copied in (say, restored from a backup) with a higher number than the index knows.
    Path dir = kit.path.resolve("snapshots");
    SnapshotRecord copy = new SnapshotRecord(41, Name.of("restored"), a.createdNanos(), a.bytes(), a.files(),
        a.directories(), a.root());
    Files.write(dir.resolve("0000000000000029"), SnapshotRecords.encode(copy, Encryption.NONE));
    kit.reopen();
    assertEquals(42, kit.snapshot("b").number());
  }

  @Test
  void aDamagedRecordIsReportedAsCorruptionNamingItsFile() throws Exception {
    kit.snapshot("good");
    kit.snapshot("other");
    kit.close();
    Path file = kit.path.resolve("snapshots").resolve("0000000000000001");
    byte[] original = Files.readAllBytes(file);
    List<String> wrong = new ArrayList<>();
    for (int at = 0; at < original.length; at++) {
      byte[] bad = original.clone();
      bad[at] ^= 0x01;
      try {
        SnapshotRecords.decode(file, 1, bad, Encryption.NONE);
        wrong.add(at + ": accepted");
      } catch (CorruptDataException e) {
        if (!e.getMessage().contains(file.toString())) {
          wrong.add(at + ": message does not name the file: " + e.getMessage());
        }
      } catch (Exception e) {
        wrong.add(at + ": " + e);
      }
    }
    assertEquals(List.of(), wrong, "every flipped byte of a record is reported as corruption naming the file");

    // Through Snapshots.open, for a flipped byte in the name and a truncated file.
    byte[] bad = original.clone();
    bad[57] ^= 0x20;
    Files.write(file, bad);
    assertOpenFailsNaming("0000000000000001");
    Files.write(file, java.util.Arrays.copyOf(original, 30));
    assertOpenFailsNaming("0000000000000001");
    Files.write(file, original);
    kit.reopen();
    assertEquals(List.of("1:good", "2:other"), names());
  }

  private void assertOpenFailsNaming(String fileName) throws Exception {
    try (Repository repo = Repository.open(kit.path, Repository.OpenOptions.DEFAULT)) {
      Namespace ns = Namespace.open(repo.index(), Clock.systemUTC());
      CorruptDataException e = assertThrows(CorruptDataException.class,
          () -> Snapshots.open(repo, ns, null, () -> { }));
      assertTrue(e.getMessage().contains(fileName), e.getMessage());
    }
  }

  @Test
  void anIntactRecordOfANewerVersionIsRefusedAsSuch() throws Exception {
    SnapshotRecord a = kit.snapshot("a");
    byte[] bytes = SnapshotRecords.encode(a, Encryption.NONE);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).putShort(8, (short) 2);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    b.putInt(bytes.length - 4, (int) crc.getValue());
    io.dedupfs.store.FormatVersionException e = assertThrows(io.dedupfs.store.FormatVersionException.class,
        () -> SnapshotRecords.decode(Path.of("r"), a.number(), bytes, Encryption.NONE));
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());
  }

  @Test
  void leftoverTemporaryFilesAreIgnored() throws Exception {
    kit.snapshot("a");
    Files.write(kit.path.resolve("snapshots").resolve("0000000000000002.tmp"), new byte[] {1, 2, 3});
    kit.reopen();
    assertEquals(List.of("1:a"), names());
    assertEquals(2, kit.snapshot("b").number());
    assertEquals(List.of("1:a", "2:b"), names());
  }

  @Test
  void snapshotInodeNumbersSitAboveLiveOnes() {
    assertEquals((3L << 40) | 17, Snapshots.inodeInSnapshot(3, 17));
  }
}
