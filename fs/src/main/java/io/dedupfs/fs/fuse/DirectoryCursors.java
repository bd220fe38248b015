package io.dedupfs.fs.fuse;

import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Name;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where directory listings stopped. The kernel opens directories without asking the filesystem
 * when it can (no opendir round trip), so a listing is known by its offsets alone: each readdir
 * from offset 0 begins a listing with a number of its own, and every offset handed out carries that
 * number (high 32 bits) and the entry's position (low 32 bits: 1 and 2 for "." and "..", then one
 * per entry). A listing remembers the name at its last position, so the next page resumes after
 * that name: a directory of any size is listed in pages without holding its names, and entries
 * added or removed meanwhile do not shift the listing. The most recent listings are remembered; an
 * offset of one forgotten, or a seek elsewhere, is found by counting entries from the start.
 */
final class DirectoryCursors {
  /** Listings remembered: the kernel keeps most listings itself, so few are ever resumed here. */
  static final int REMEMBERED = 4096;
  private static final long POSITION_MASK = 0xffff_ffffL;
  /** Listing numbers stay below 2^31, so that every offset is a positive off_t. */
  private static final long LISTING_MASK = 0x7fff_ffffL;

  /** Lists up to {@code limit} entries after {@code after} (null: from the start). */
  interface Lister {
    List<DirEntry> list(Name after, int limit) throws IOException;
  }

  /** The position an offset names within its listing: 0 for the start. */
  static long position(long offset) {
    return offset & POSITION_MASK;
  }

  static final class Cursor {
    private final long directory;
    private final long listing;
    /** The position the kernel resumes from to get what follows {@link #lastName}; -1: none yet. */
    private long lastPosition;
    private Name lastName;

    private Cursor(long directory, long listing, long lastPosition) {
      this.directory = directory;
      this.listing = listing;
      this.lastPosition = lastPosition;
    }

    /** The offset of this listing's entry at {@code position}. */
    long offset(long position) {
      return listing << 32 | position;
    }

    /** The name after which the entry following {@code position} comes (null: the first entry). */
    synchronized Name after(long position, Lister lister) throws IOException {
      if (position == lastPosition) {
        return lastName;
      }
      if (position <= 2) {
        return null;
      }
      // A seek elsewhere, or a listing forgotten: count entries from the start.
      Name after = null;
      for (long skipped = 0; skipped < position - 2; ) {
        List<DirEntry> page = lister.list(after, (int) Math.min(1024, position - 2 - skipped));
        if (page.isEmpty()) {
          break;
        }
        skipped += page.size();
        after = page.get(page.size() - 1).name();
      }
      return after;
    }

    synchronized void advanced(long position, Name name) {
      lastPosition = position;
      lastName = name;
    }
  }

  private final Map<Long, Cursor> listings = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Cursor> eldest) {
      return size() > REMEMBERED;
    }
  };
  private long nextListing = 1;

  /** The listing of {@code directory} that {@code offset} continues: a new one at offset 0. */
  synchronized Cursor forOffset(long directory, long offset) {
    Cursor known = offset == 0 ? null : listings.get(offset >>> 32);
    if (known != null && known.directory == directory) {
      return known;
    }
    long listing;
    long lastPosition;
    if (offset == 0) {
      listing = nextListing;
      nextListing = (nextListing + 1) & LISTING_MASK;
      lastPosition = 2;
    } else {
      // Forgotten (or never ours): keep its number, so the offsets handed out from here on match.
      listing = (offset >>> 32) & LISTING_MASK;
      lastPosition = -1;
    }
    Cursor c = new Cursor(directory, listing, lastPosition);
    listings.put(listing, c);
    return c;
  }
}
