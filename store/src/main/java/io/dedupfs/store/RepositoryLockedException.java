package io.dedupfs.store;

/** Another process (or another open in this process) holds the repository's lock. */
public class RepositoryLockedException extends StoreException {
  public RepositoryLockedException(String message) {
    super(message);
  }
}
