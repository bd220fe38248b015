package io.dedupfs.store;

/** Stored bytes failed verification: a chunk whose plaintext does not hash to its id, a torn pack index, a bad checksum. */
public class CorruptDataException extends StoreException {
  public CorruptDataException(String message) {
    super(message);
  }

  public CorruptDataException(String message, Throwable cause) {
    super(message, cause);
  }
}
