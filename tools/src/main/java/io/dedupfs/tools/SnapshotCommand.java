package io.dedupfs.tools;

import io.dedupfs.store.namespace.Name;
import picocli.CommandLine.Command;

/**
 * {@code dedupfs snapshot}: takes, lists and deletes snapshots, whether or not the repository is
 * mounted (while it is, the mounted process does it, through the control socket).
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
    description = {"Take, list and delete snapshots: read-only copies of the whole tree.",
        "Works whether or not REPO is mounted. While it is, its snapshots",
        "are also directories in MOUNTPOINT/.snapshots."},
    subcommands = {SnapshotCreateCommand.class, SnapshotListCommand.class, SnapshotDeleteCommand.class})
final class SnapshotCommand {
  /** A name for a terminal: control characters, which a name may hold, show as '?', as ls shows them. */
  static String display(Name name) {
    return name.toString().replaceAll("\\p{Cntrl}", "?");
  }
}
