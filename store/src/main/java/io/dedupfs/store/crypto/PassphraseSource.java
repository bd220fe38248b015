package io.dedupfs.store.crypto;

import io.dedupfs.store.StoreException;
import java.io.IOException;

/** Where the passphrase of an encrypted repository comes from; asked only if it is encrypted. */
@FunctionalInterface
public interface PassphraseSource {
  /** For callers that have no passphrase: opening an encrypted repository fails, saying so. */
  PassphraseSource NONE = () -> {
    throw new StoreException("the repository is encrypted and no passphrase was given");
  };

  char[] passphrase() throws IOException;
}
