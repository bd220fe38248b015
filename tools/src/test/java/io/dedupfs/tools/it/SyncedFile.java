package io.dedupfs.tools.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file the crash harness writes at random offsets in cycles (writes, fsync, close), and what the
 * filesystem owes for it after a kill: exactly the content the last returned fsync covered, or,
 * if the kill came during a cycle, that content with any of the cycle's writes, whole or in part.
 * One writer thread at a time; a snapshot may read its {@link KnownContent} from another.
 */
final class SyncedFile implements KnownContent {
  final String name;
  /** Content as of the last returned fsync; null before the first. */
  private volatile byte[] synced;
  private volatile Data.Digest syncedDigest;
  /** The current cycle's writes, recorded before each is made: the kill may come during it. */
  private final List<Write> unsynced = new ArrayList<>();
  private final AtomicLong version = new AtomicLong();

  private record Write(long offset, byte[] bytes) {
    boolean covers(long at) {
      return at >= offset && at < offset + bytes.length;
    }

    byte at(long at) {
      return bytes[(int) (at - offset)];
    }
  }

  SyncedFile(String name) {
    this.name = name;
  }

  /** Length of the content the writer has written so far, synced or not. */
  long length() {
    long length = synced == null ? 0 : synced.length;
    for (Write w : unsynced) {
      length = Math.max(length, w.offset + w.bytes.length);
    }
    return length;
  }

  void cycleStarts() {
    version.incrementAndGet();
  }

  /** Called before {@code bytes} are written at {@code offset}. */
  void writing(long offset, byte[] bytes) {
    unsynced.add(new Write(offset, bytes));
  }

  /** Called once fsync returned: the cycle's writes are owed from now on. */
  void fsynced() {
    byte[] content = Arrays.copyOf(synced == null ? new byte[0] : synced, Math.toIntExact(length()));
    for (Write w : unsynced) {
      System.arraycopy(w.bytes, 0, content, (int) w.offset, w.bytes.length);
    }
    unsynced.clear();
    own(content);
    version.incrementAndGet();
  }

  private void own(byte[] content) {
    syncedDigest = new Data.Digest(content.length, Data.hex(Data.sha256().digest(content)));
    synced = content;
  }

  @Override
  public long version() {
    return version.get();
  }

  @Override
  public Map<String, TreeManifest.Entry> entries() {
    Data.Digest d = syncedDigest;
    return d == null ? Map.of() : Map.of(name, TreeManifest.Entry.file(d));
  }

  /** What a kill left owed for a file. */
  enum Owed {
    /** Never fsync'ed, nor being written. */
    NOTHING,
    /** The content of the last returned fsync, byte for byte. */
    EXACTLY,
    /** A write cycle was cut off: the fsync'ed content with any of the cycle's writes. */
    CUT_OFF
  }

  /**
   * After a kill and a new mount: reads the file and fails unless it is as owed; then what was
   * found is owed from now on (nothing writes to it until the next cycle).
   */
  Owed verifyAfterKill(Path mountpoint) throws IOException {
    Path p = mountpoint.resolve(name);
    boolean cutOff = version.get() % 2 == 1;
    Owed owed = cutOff ? Owed.CUT_OFF : synced == null ? Owed.NOTHING : Owed.EXACTLY;
    byte[] found = Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? Files.readAllBytes(p) : null;
    try {
      if (!cutOff) {
        assertExactlySynced(found);
      } else {
        assertSyncedWithSomeWrites(found);
      }
    } finally {
      unsynced.clear();
      if (found != null) {
        own(found);
      }
      if (cutOff) {
        version.incrementAndGet();
      }
    }
    return owed;
  }

  private void assertExactlySynced(byte[] found) {
    if (synced == null) {
      return;
    }
    if (found == null) {
      throw new AssertionError(name + ": missing, though " + syncedDigest + " was fsync'ed");
    }
    int at = Arrays.mismatch(synced, found);
    if (at >= 0) {
      throw new AssertionError(name + ": " + found.length + " bytes, first wrong at " + at + "; fsync'ed " + syncedDigest);
    }
  }

  /** Every byte is the synced one (zero past its end) or one of a cut-off write's. */
  private void assertSyncedWithSomeWrites(byte[] found) {
    if (found == null) {
      if (synced != null) {
        throw new AssertionError(name + ": missing after a cut-off cycle, though " + syncedDigest + " was fsync'ed");
      }
      return;
    }
    byte[] base = synced == null ? new byte[0] : synced;
    if (found.length < base.length || found.length > length()) {
      throw new AssertionError(name + ": " + found.length + " bytes after a cut-off cycle; fsync'ed " + base.length
          + ", at most " + length() + " written");
    }
    for (int i = 0; i < found.length; i++) {
      if (found[i] != (i < base.length ? base[i] : 0) && !writtenAt(i, found[i])) {
        throw new AssertionError(name + ": byte " + i + " is neither the fsync'ed one nor one of the " + unsynced.size()
            + " writes the kill cut off");
      }
    }
  }

  private boolean writtenAt(long at, byte b) {
    for (Write w : unsynced) {
      if (w.covers(at) && w.at(at) == b) {
        return true;
      }
    }
    return false;
  }

  /** Bytes owed exactly (for the summary). */
  long syncedLength() {
    byte[] s = synced;
    return s == null ? 0 : s.length;
  }
}
