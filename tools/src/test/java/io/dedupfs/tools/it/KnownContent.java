package io.dedupfs.tools.it;

import java.util.Map;

/**
 * Part of the live tree whose content the crash harness knows while nothing changes it, so that
 * a snapshot taken meanwhile must hold exactly that. Read like a seqlock: {@link #version()}
 * before and after; if both are the same even number, {@link #entries()} read in between holds.
 */
interface KnownContent {
  /** Odd while the content is being changed; different after every change. */
  long version();

  /** What this part of the tree holds, keyed by path below the mount root; empty if not known. */
  Map<String, TreeManifest.Entry> entries();
}
