package io.dedupfs.store;

/** A file or table was written in a format version this build does not implement, or is not a dedupfs file at all. */
public class FormatVersionException extends StoreException {
  public FormatVersionException(String message) {
    super(message);
  }
}
