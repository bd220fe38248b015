package io.dedupfs.tools.it;

import static io.dedupfs.tools.it.Mounted.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.chunk.ChunkHasher;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.pack.LocalPackStorage;
import io.dedupfs.store.pack.PackIndexEntry;
import io.dedupfs.store.pack.PackNumber;
import io.dedupfs.store.pack.PackReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults under a real mount (DESIGN.md §7): damaged and truncated packs read as EIO, never as
 * wrong bytes, while everything else keeps working and {@code check} names them; a full disk
 * under the repository gives the writer ENOSPC, keeps what was fsync'ed and the repository
 * consistent, and writing works again once space is freed.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultsIT {
  /** Longer than the 4 MiB largest chunk, so every such file has at least two chunks. */
  private static final int MULTI_CHUNK = 6 << 20;
  private static final String EIO = "Input/output error";
  private static final String ENOSPC = "No space left on device";

  @TempDir Path dir;
  @AutoClose Mounted fs;
  private final Random random = new Random();

  /** A chunk of a file: where its stored bytes are and which bytes of the file it holds. */
  private record StoredChunk(PackNumber pack, PackIndexEntry entry, long fileOffset) {}

  @Test
  void damagedAndTruncatedPacksReadAsIoErrorsAndCheckNamesThem() throws Exception {
    fs = Mounted.fresh(dir);
    // Each written and fsync'ed on its own, so each has packs of its own.
    byte[] damaged = randomBytes(MULTI_CHUNK);
    byte[] cut = randomBytes(MULTI_CHUNK);
    byte[] intact = randomBytes(MULTI_CHUNK);
    writeDurably(fs.mountpoint.resolve("damaged"), damaged);
    writeDurably(fs.mountpoint.resolve("cut"), cut);
    writeDurably(fs.mountpoint.resolve("intact"), intact);
    fs.unmount();

    List<StoredChunk> damagedChunks = chunksOf(damaged);
    StoredChunk flipped = damagedChunks.get(damagedChunks.size() - 1);
    flipBytes(packFile(flipped.pack()), flipped.entry().offset() + flipped.entry().storedLength() / 2);
    StoredChunk lastInPack = chunksOf(cut).stream()
        .max(Comparator.comparingLong(c -> c.entry().offset())).orElseThrow();
    try (RandomAccessFile pack = new RandomAccessFile(packFile(lastInPack.pack()).toFile(), "rw")) {
      pack.setLength(lastInPack.entry().offset() + lastInPack.entry().storedLength() / 2);
    }

    fs.mount();
    for (int i = 0; i < 3; i++) {
      assertCatFailsWithEio(fs.mountpoint.resolve("damaged"), damaged);
    }
    // The damaged chunk is the file's last; the bytes of its first chunk are unaffected.
    assertArrayEquals(Arrays.copyOf(damaged, 64 << 10), readRange(fs.mountpoint.resolve("damaged"), 0, 64 << 10));
    IOException unreadable = assertThrows(IOException.class,
        () -> readRange(fs.mountpoint.resolve("damaged"), flipped.fileOffset(), flipped.entry().plainLength()));
    assertTrue(unreadable.getMessage().contains(EIO), unreadable.toString());
    assertCatFailsWithEio(fs.mountpoint.resolve("cut"), cut);
    assertArrayEquals(intact, Files.readAllBytes(fs.mountpoint.resolve("intact")), "another file reads as written");
    byte[] after = randomBytes(1 << 20);
    writeDurably(fs.mountpoint.resolve("after"), after);
    assertArrayEquals(after, Files.readAllBytes(fs.mountpoint.resolve("after")), "writes go on");
    fs.unmount();

    String chunk = flipped.entry().id().hex();
    long logged = Files.readAllLines(fs.repository.resolve("dedupfs.log")).stream()
        .filter(line -> line.contains("ERROR") && line.contains(chunk)).count();
    assertEquals(1, logged, "the damaged chunk is logged once however often it is read");

    Mounted.Result check = Mounted.dedupfs("check", fs.repository.toString(), "--read-data");
    assertEquals(1, check.exit(), check.output());
    assertTrue(check.output().contains(chunk) && check.output().contains(flipped.pack().toString()),
        "check names the damaged chunk and its pack: " + check.output());
    assertTrue(check.output().contains(lastInPack.entry().id().hex()) && check.output().contains(lastInPack.pack().toString()),
        "check names the chunk cut off and the truncated pack: " + check.output());
    Mounted.Result quick = Mounted.dedupfs("check", fs.repository.toString());
    assertEquals(1, quick.exit(), "the truncated pack is found without reading data: " + quick.output());
    assertTrue(quick.output().contains(lastInPack.pack().toString()), quick.output());
  }

  @Test
  void aFullDiskGivesTheWriterEnospcKeepsWhatWasSyncedAndRecoversOnceSpaceIsFreed() throws Exception {
    Path disk = Files.createDirectories(dir.resolve("disk"));
    sh("mount -t tmpfs -o size=64m tmpfs '" + disk + "'");
    try {
      fs = Mounted.fresh(disk);
      byte[] kept = randomBytes(8 << 20);
      writeDurably(fs.mountpoint.resolve("kept"), kept);
      writeDurably(fs.mountpoint.resolve("spare"), randomBytes(24 << 20));

      Mounted.Result dd = Mounted.run("dd", "if=/dev/urandom", "of=" + fs.mountpoint.resolve("overflow"), "bs=1M",
          "count=96", "conv=fsync");
      assertNotEquals(0, dd.exit(), dd.output());
      assertTrue(dd.output().contains(ENOSPC), "the writer gets ENOSPC: " + dd.output());
      assertTrue(ProcessHandle.of(fs.pid()).map(ProcessHandle::isAlive).orElse(false), "the filesystem process lives on");
      assertArrayEquals(kept, Files.readAllBytes(fs.mountpoint.resolve("kept")), "what was fsync'ed is intact");
      LocalPackStorage packs = new LocalPackStorage(fs.repository.resolve("packs"));
      for (PackNumber pack : packs.list()) {
        // A pack that failed half-written is deleted at once, not left to fill the disk further.
        PackReader.readIndex(packs, pack, Encryption.NONE);
      }

      Files.delete(fs.mountpoint.resolve("overflow"));
      Files.delete(fs.mountpoint.resolve("spare"));
      Mounted.Result gc = Mounted.dedupfs("gc", fs.repository.toString());
      assertEquals(0, gc.exit(), gc.output());
      byte[] after = randomBytes(24 << 20);
      writeDurably(fs.mountpoint.resolve("after"), after);
      assertArrayEquals(after, Files.readAllBytes(fs.mountpoint.resolve("after")), "writing works again");
      fs.unmount();

      Mounted.Result check = Mounted.dedupfs("check", fs.repository.toString(), "--read-data");
      assertEquals(0, check.exit(), "the repository stayed consistent: " + check.output());
      fs.mount();
      assertArrayEquals(kept, Files.readAllBytes(fs.mountpoint.resolve("kept")));
      assertArrayEquals(after, Files.readAllBytes(fs.mountpoint.resolve("after")));
      fs.unmount();
    } finally {
      if (fs != null) {
        fs.close();
      }
      sh("umount '" + disk + "'");
    }
  }

  private byte[] randomBytes(int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static void writeDurably(Path file, byte[] content) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer src = ByteBuffer.wrap(content);
      while (src.hasRemaining()) {
        channel.write(src);
      }
      channel.force(true);
    }
  }

  private static byte[] readRange(Path file, long offset, int length) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer dst = ByteBuffer.allocate(length);
      while (dst.hasRemaining() && channel.read(dst, offset + dst.position()) >= 0) {
        // until full or at the end
      }
      return dst.array();
    }
  }

  /** cat fails with EIO, and what it copied before is the file's beginning: no wrong bytes. */
  private void assertCatFailsWithEio(Path file, byte[] content) throws Exception {
    Path copy = dir.resolve("cat.out");
    Mounted.Result cat = Mounted.run("bash", "-c", "cat '" + file + "' > '" + copy + "'");
    assertEquals(1, cat.exit(), "cat " + file + ": " + cat.output());
    assertEquals("cat: " + file + ": " + EIO + "\n", cat.output());
    byte[] copied = Files.readAllBytes(copy);
    assertTrue(copied.length < content.length, "cat stopped at the error");
    assertArrayEquals(Arrays.copyOf(content, copied.length), copied, "cat got the file's first bytes only");
  }

  private Path packFile(PackNumber pack) {
    return fs.repository.resolve("packs").resolve(pack.directoryName()).resolve(pack.fileName());
  }

  /** The chunks of {@code content} in file order, found by their ids in the packs' indexes. */
  private List<StoredChunk> chunksOf(byte[] content) throws IOException {
    LocalPackStorage packs = new LocalPackStorage(fs.repository.resolve("packs"));
    List<StoredChunk> stored = new ArrayList<>();
    for (PackNumber pack : packs.list()) {
      for (PackIndexEntry entry : PackReader.readIndex(packs, pack, Encryption.NONE)) {
        stored.add(new StoredChunk(pack, entry, -1));
      }
    }
    ChunkHasher hasher = ChunkHasher.sha256();
    List<StoredChunk> inOrder = new ArrayList<>();
    int at = 0;
    while (at < content.length) {
      StoredChunk next = null;
      for (StoredChunk c : stored) {
        int length = c.entry().plainLength();
        if (at + length <= content.length) {
          ChunkId id = hasher.idOf(ByteBuffer.wrap(content, at, length));
          if (id.equals(c.entry().id())) {
            next = new StoredChunk(c.pack(), c.entry(), at);
            break;
          }
        }
      }
      assertTrue(next != null, "no stored chunk holds the bytes at " + at);
      inOrder.add(next);
      at += next.entry().plainLength();
    }
    assertTrue(inOrder.size() >= 2, "a file longer than the largest chunk has several");
    return inOrder;
  }

  private static void flipBytes(Path file, long at) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      byte[] b = new byte[4];
      raf.seek(at);
      raf.readFully(b);
      for (int i = 0; i < b.length; i++) {
        b[i] ^= (byte) 0xff;
      }
      raf.seek(at);
      raf.write(b);
    }
  }
}
