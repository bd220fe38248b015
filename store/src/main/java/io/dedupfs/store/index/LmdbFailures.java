package io.dedupfs.store.index;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.StoreException;
import io.dedupfs.store.StoreFullException;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.LmdbException;
import org.lmdbjava.LmdbNativeException;

/** The one place where lmdbjava's unchecked exceptions become the store's typed ones. */
final class LmdbFailures {
  private LmdbFailures() {}

  static StoreException translate(LmdbException e, String action) {
    if (e instanceof Env.MapFullException || e instanceof Dbi.DbFullException) {
      return new StoreFullException(
          "index is full while trying to " + action + " (LMDB map size reached; reopen with a larger map size)", e);
    }
    if (e instanceof LmdbNativeException.PageCorruptedException
        || e instanceof LmdbNativeException.PageNotFoundException
        || e instanceof Env.FileInvalidException) {
      return new CorruptDataException("index is damaged (" + e.getMessage() + ") while trying to " + action
          + "; rebuild it with dedupfs check --repair", e);
    }
    return new StoreException("index failed to " + action + ": " + e.getMessage(), e);
  }
}
