package io.dedupfs.tools;

import io.dedupfs.store.RepositoryLockedException;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.tools.control.ControlClient;
import io.dedupfs.tools.control.ControlServer;
import io.dedupfs.tools.control.RepositoryOperations;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a command on a repository whether or not it is mounted (DESIGN.md §8): by the
 * process holding the repository, through its control socket, or, when no process holds it, on
 * the repository opened here.
 */
final class RepositoryAccess {
  private static final Logger LOG = LoggerFactory.getLogger(RepositoryAccess.class);

  /** What a command does with the client or the open repository. */
  @FunctionalInterface
  interface Body<R, T> {
    T apply(R resource) throws Exception;
  }

  private RepositoryAccess() {}

  /** How a command opens the repository when no process holds it. */
  @FunctionalInterface
  interface Opener {
    OpenRepository open(Path repository) throws IOException;
  }

  /**
   * Runs {@code mounted} with a client of the process holding the repository, or else {@code
   * unmounted} on the repository as {@code opener} opens it here.
   */
  private static <T> T run(Path repository, Opener opener, Body<ControlClient, T> mounted,
      Body<OpenRepository, T> unmounted) throws Exception {
    Path socket = ControlServer.socketOf(repository);
    OptionalLong holder = Repository.openedBy(repository);
    if (holder.isPresent()) {
      ControlClient client = connectOrNull(socket);
      if (client != null) {
        try (client) {
          return mounted.apply(client);
        }
      }
      // The lock file still names a process killed while holding it (the kernel released the lock):
      // opening the repository tells that apart from a live holder.
    }
    try (OpenRepository open = open(opener, repository, holder, socket)) {
      return unmounted.apply(open);
    }
  }

  /**
   * Runs {@code body} on the operations of {@code repository}, wherever they are carried out
   * ({@code passphrase} unlocks it here if it is encrypted).
   */
  static <T> T withOperations(Path repository, PassphraseSource passphrase, Body<RepositoryOperations, T> body)
      throws Exception {
    return run(repository, path -> OpenRepository.open(path, passphrase), body::apply,
        open -> body.apply(open.operations()));
  }

  /**
   * As {@link #withOperations}, for {@code check --repair}: unmounted, a missing index is started
   * anew for the repair to rebuild (mounted, the index cannot be missing).
   */
  static <T> T withRepairOperations(Path repository, PassphraseSource passphrase, Body<RepositoryOperations, T> body)
      throws Exception {
    return run(repository, path -> OpenRepository.openForRepair(path, passphrase), body::apply,
        open -> body.apply(open.operations()));
  }

  private static ControlClient connectOrNull(Path socket) {
    try {
      return ControlClient.connect(socket);
    } catch (IOException e) {
      LOG.debug("nothing answers on {}", socket, e);
      return null;
    }
  }

  private static OpenRepository open(Opener opener, Path repository, OptionalLong holder, Path socket)
      throws IOException {
    try {
      return opener.open(repository);
    } catch (RepositoryLockedException e) {
      if (holder.isEmpty()) {
        throw e;
      }
      throw new RepositoryLockedException("repository " + repository + " is in use by process " + holder.getAsLong()
          + ", which does not answer on " + socket);
    }
  }
}
