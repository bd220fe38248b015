package io.dedupfs.store;

/** The store ran out of room: the disk holding the repository, or the index's map size. */
public class StoreFullException extends StoreException {
  public StoreFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
