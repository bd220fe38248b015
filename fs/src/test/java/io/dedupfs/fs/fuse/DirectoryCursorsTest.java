package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Mode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Listings known by their offsets alone, as a kernel that never sends opendir gives them: each
 * resumes after its own last name, and one forgotten is found again by counting from the start.
 */
class DirectoryCursorsTest {
  private static final long DIRECTORY = 42;
  /** A directory of names "n000" to "n099", in name order as the namespace lists them. */
  private static final List<DirEntry> ENTRIES = new ArrayList<>();

  static {
    for (int i = 0; i < 100; i++) {
      ENTRIES.add(new DirEntry(Name.of(String.format("n%03d", i)), 1000 + i, Mode.S_IFREG));
    }
  }

  private static List<DirEntry> list(Name after, int limit) {
    int from = 0;
    while (after != null && from < ENTRIES.size() && ENTRIES.get(from).name().compareTo(after) <= 0) {
      from++;
    }
    return ENTRIES.subList(from, Math.min(ENTRIES.size(), from + limit));
  }

  private static final DirectoryCursors.Lister NEVER = (after, limit) -> fail("listed from the start");

  /** Hands out entries after position {@code position} of {@code cursor}'s listing as a readdir reply does; returns the last offset. */
  private static long page(DirectoryCursors.Cursor cursor, long position, int count, DirectoryCursors.Lister lister)
      throws Exception {
    Name after = cursor.after(position, lister);
    long at = position;
    for (DirEntry e : list(after, count)) {
      at++;
      cursor.advanced(at, e.name());
    }
    return cursor.offset(at);
  }

  @Test
  void aListingResumesAfterItsLastNameWithoutListingFromTheStart() throws Exception {
    DirectoryCursors cursors = new DirectoryCursors();
    DirectoryCursors.Cursor first = cursors.forOffset(DIRECTORY, 0);
    assertNull(first.after(2, NEVER), "after \".\" and \"..\" the listing starts at the first entry");
    long offset = page(first, 2, 30, NEVER);
    assertEquals(32, DirectoryCursors.position(offset));
    DirectoryCursors.Cursor again = cursors.forOffset(DIRECTORY, offset);
    assertSame(first, again);
    assertEquals(Name.of("n029"), again.after(DirectoryCursors.position(offset), NEVER));
  }

  @Test
  void listingsOfOneDirectoryAtOnceKeepTheirOwnPlaces() throws Exception {
    DirectoryCursors cursors = new DirectoryCursors();
    DirectoryCursors.Cursor a = cursors.forOffset(DIRECTORY, 0);
    DirectoryCursors.Cursor b = cursors.forOffset(DIRECTORY, 0);
    long atA = page(a, 2, 10, NEVER);
    long atB = page(b, 2, 50, NEVER);
    assertNotEquals(atA, atB, "offsets of two listings differ even at the same position: " + atA);
    assertTrue(atA > 0 && atB > 0, "offsets are positive off_t values");
    assertEquals(Name.of("n009"), cursors.forOffset(DIRECTORY, atA).after(DirectoryCursors.position(atA), NEVER));
    assertEquals(Name.of("n049"), cursors.forOffset(DIRECTORY, atB).after(DirectoryCursors.position(atB), NEVER));
  }

  @Test
  void aForgottenListingIsFoundAgainByCountingAndKeepsItsNumber() throws Exception {
    DirectoryCursors cursors = new DirectoryCursors();
    DirectoryCursors.Cursor old = cursors.forOffset(DIRECTORY, 0);
    long offset = page(old, 2, 40, NEVER);
    for (int i = 0; i < DirectoryCursors.REMEMBERED; i++) {
      cursors.forOffset(DIRECTORY + 1, 0);
    }
    DirectoryCursors.Cursor found = cursors.forOffset(DIRECTORY, offset);
    assertNotEquals(old, found, "forgotten after " + DirectoryCursors.REMEMBERED + " newer listings");
    assertEquals(Name.of("n039"), found.after(DirectoryCursors.position(offset), DirectoryCursorsTest::list));
    assertEquals(offset, found.offset(DirectoryCursors.position(offset)), "its offsets go on as the kernel has them");
  }

  @Test
  void anOffsetOfAnotherDirectoryIsNotTakenForThisOnesPlace() throws Exception {
    DirectoryCursors cursors = new DirectoryCursors();
    long offset = page(cursors.forOffset(DIRECTORY + 1, 0), 2, 70, NEVER);
    // This directory holds other names: "m000" to "m099".
    DirectoryCursors.Lister here = (after, limit) -> list(after == null ? null : Name.of("n" + after.toString().substring(1)), limit)
        .stream().map(e -> new DirEntry(Name.of("m" + e.name().toString().substring(1)), e.inode(), e.type())).toList();
    assertEquals(Name.of("m069"), cursors.forOffset(DIRECTORY, offset).after(DirectoryCursors.position(offset), here),
        "counted in this directory, not resumed after the other's last name");
  }
}
