package io.dedupfs.store;

/** A chunk that something refers to is not in the index. */
public class ChunkNotFoundException extends StoreException {
  public ChunkNotFoundException(String message) {
    super(message);
  }
}
