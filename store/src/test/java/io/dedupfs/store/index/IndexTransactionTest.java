package io.dedupfs.store.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexTransactionTest {
  @TempDir Path tmp;

  private static byte[] key(int prefix, int n) {
    return new byte[] {(byte) prefix, (byte) n};
  }

  private static Optional<Integer> floorOf(ChunkIndex index, int prefix, int n) throws IOException {
    return index.read(tx -> tx.floor(Table.EXTENTS, new byte[] {(byte) prefix}, key(prefix, n)))
        .map(e -> (int) e.key()[1]);
  }

  @Test
  void floorFindsTheGreatestKeyAtMostTheGivenOneWithinItsPrefix() throws Exception {
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index"), new byte[16], 1 << 24, IndexSealing.NONE)) {
      index.write(tx -> {
        for (int n : new int[] {10, 20, 30}) {
          tx.put(Table.EXTENTS, key(1, n), new byte[] {(byte) n});
        }
        tx.put(Table.EXTENTS, key(2, 5), new byte[] {5});
        return null;
      });
      assertEquals(Optional.of(20), floorOf(index, 1, 20), "an exact key is its own floor");
      assertEquals(Optional.of(20), floorOf(index, 1, 25), "between keys: the one below");
      assertEquals(Optional.empty(), floorOf(index, 1, 5), "below the first key of the prefix");
      assertEquals(Optional.of(30), floorOf(index, 1, 99), "past the last key of the prefix");
      assertEquals(Optional.of(5), floorOf(index, 2, 99), "past the last key of the table");
      assertEquals(Optional.empty(), floorOf(index, 2, 4), "the floor under another prefix does not count");
      assertEquals(Optional.empty(), floorOf(index, 3, 0), "an empty prefix beyond every key");
    }
  }

  @Test
  void scansRespectPrefixStartAndLimitAndAWriteThatThrowsIsRolledBack() throws Exception {
    try (ChunkIndex index = ChunkIndex.create(tmp.resolve("index"), new byte[16], 1 << 24, IndexSealing.NONE)) {
      index.write(tx -> {
        for (int n = 1; n <= 5; n++) {
          tx.put(Table.XATTRS, key(7, n), new byte[] {(byte) n});
        }
        tx.put(Table.XATTRS, key(8, 1), new byte[0]);
        return null;
      });
      List<IndexTransaction.Entry> after2 = index.read(tx -> tx.scan(Table.XATTRS, new byte[] {7}, key(7, 2), 2));
      assertEquals(2, after2.size());
      assertArrayEquals(key(7, 3), after2.get(0).key());
      List<IndexTransaction.Entry> from4 = index.read(tx -> tx.scanFrom(Table.XATTRS, new byte[] {7}, key(7, 4), 10));
      assertEquals(2, from4.size(), "from the key inclusive, up to the end of the prefix");

      assertThrows(IOException.class, () -> index.write(tx -> {
        tx.delete(Table.XATTRS, key(7, 1));
        throw new IOException("abandon");
      }));
      assertTrue(index.read(tx -> tx.get(Table.XATTRS, key(7, 1))).isPresent(), "nothing of a failed write stays");
    }
  }
}
