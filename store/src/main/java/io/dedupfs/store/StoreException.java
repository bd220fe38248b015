package io.dedupfs.store;

import java.io.IOException;

/** Base of the store's checked exceptions: every failure the store reports to its callers is one of these or a plain {@link IOException}. */
public class StoreException extends IOException {
  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
