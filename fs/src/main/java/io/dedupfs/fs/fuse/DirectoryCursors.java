package io.dedupfs.fs.fuse;

import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Name;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open directories and where each one's listing stopped. readdir offsets are counters (1 and 2
 * for "." and "..", then one per entry), and each open directory remembers the name at its last
 * offset, so the next call resumes after that name: a directory of any size is listed in pages
 * without holding its names, and entries added or removed meanwhile do not shift the listing.
 */
final class DirectoryCursors {
  /** Lists up to {@code limit} entries after {@code after} (null: from the start). */
  interface Lister {
    List<DirEntry> list(Name after, int limit) throws IOException;
  }

  static final class Cursor {
    private final long directory;
    private long lastOffset = 2;
    private Name lastName;

    Cursor(long directory) {
      this.directory = directory;
    }

    long directory() {
      return directory;
    }

    /** The name after which the entry at {@code offset} comes (null: the first entry). */
    synchronized Name positionFor(long offset, Lister lister) throws IOException {
      if (offset == lastOffset) {
        return lastName;
      }
      if (offset <= 2) {
        return null;
      }
      // A seek elsewhere (seekdir, or a restarted listing): count entries from the start.
      Name after = null;
      for (long skipped = 0; skipped < offset - 2; ) {
        List<DirEntry> page = lister.list(after, (int) Math.min(1024, offset - 2 - skipped));
        if (page.isEmpty()) {
          break;
        }
        skipped += page.size();
        after = page.get(page.size() - 1).name();
      }
      return after;
    }

    synchronized void advanced(long offset, Name name) {
      lastOffset = offset;
      lastName = name;
    }
  }

  private final Map<Long, Cursor> open = new ConcurrentHashMap<>();
  private final AtomicLong next = new AtomicLong(1);

  long open(long directory) {
    long handle = next.getAndIncrement();
    open.put(handle, new Cursor(directory));
    return handle;
  }

  Cursor get(long handle) throws FileSystemException {
    Cursor c = open.get(handle);
    if (c == null) {
      throw new FileSystemException("directory handle " + handle, null, "Bad file descriptor");
    }
    return c;
  }

  void close(long handle) {
    open.remove(handle);
  }
}
