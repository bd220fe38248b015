package io.dedupfs.store.namespace;

import java.nio.file.FileSystemException;

/** An extended attribute that is not set (ENODATA at the FUSE edge). */
public class NoSuchAttributeException extends FileSystemException {
  public NoSuchAttributeException(String file, String attribute) {
    super(file, null, "No data available: " + attribute);
  }
}
