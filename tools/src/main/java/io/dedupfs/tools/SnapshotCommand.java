package io.dedupfs.tools;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.tools.control.SnapshotOperations;
import java.nio.file.Path;
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
  /** Runs {@code body} on the snapshots of {@code repository}, wherever they are carried out. */
  static <T> T withSnapshots(Path repository, RepositoryAccess.Body<SnapshotOperations, T> body) throws Exception {
    return RepositoryAccess.run(repository, body::apply, open -> body.apply(SnapshotOperations.of(open.snapshots())));
  }

  /** A name for a terminal: control characters, which a name may hold, show as '?', as ls shows them. */
  static String display(Name name) {
    return name.toString().replaceAll("\\p{Cntrl}", "?");
  }
}
