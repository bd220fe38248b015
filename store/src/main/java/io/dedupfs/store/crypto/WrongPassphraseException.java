package io.dedupfs.store.crypto;

import io.dedupfs.store.StoreException;

/** The passphrase does not open the repository's key file. */
public final class WrongPassphraseException extends StoreException {
  public WrongPassphraseException(String message) {
    super(message);
  }
}
