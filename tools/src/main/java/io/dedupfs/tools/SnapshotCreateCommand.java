package io.dedupfs.tools;

import io.dedupfs.store.namespace.Name;
import io.dedupfs.tools.control.RepositoryOperations;
import io.dedupfs.tools.control.SnapshotSummary;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dedupfs snapshot create}: takes a snapshot of the live tree. */
@Command(name = "create", mixinStandardHelpOptions = true,
    description = "Take a snapshot of the whole tree as it is now.")
final class SnapshotCreateCommand implements Callable<Integer> {
  /** ISO-8601 local date and time to the second; always with seconds, which LocalDateTime.toString drops when 0. */
  static final DateTimeFormatter LOCAL_TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);

  @Parameters(index = "0", paramLabel = "REPO", description = "The repository, mounted or not.")
  Path repository;

  @Mixin PassphraseOption passphrase;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", converter = NameConverter.class,
      description = {"Name of the new snapshot: any file name.", "Default: the local time, such as 2026-11-23T14:05:09."})
  Name name;

  @Option(names = "--json", description = "Print the new snapshot as one JSON object, as an element of snapshot list --json.")
  boolean json;

  Clock clock = Clock.systemDefaultZone();

  @Override
  public Integer call() throws Exception {
    Name n = name != null ? name : Name.of(LocalDateTime.now(clock).format(LOCAL_TIME));
    SnapshotSummary s = RepositoryAccess.withOperations(repository, passphrase.existing(repository), snapshots -> create(snapshots, n));
    // The new snapshot's name and number are data (a script names it later), so --quiet prints them too.
    System.out.println(json ? SnapshotListCommand.json(s) : "created snapshot " + SnapshotCommand.display(s.name()) + " (number " + s.number() + ", "
        + String.format(Locale.ROOT, "%,d", s.files()) + " files, " + SizeConverter.human(s.bytes()) + ")");
    return 0;
  }

  private static SnapshotSummary create(RepositoryOperations snapshots, Name n) throws IOException, InterruptedException {
    try {
      return snapshots.create(n);
    } catch (FileAlreadyExistsException e) {
      throw new IOException("a snapshot named '" + SnapshotCommand.display(n) + "' already exists", e);
    }
  }
}
