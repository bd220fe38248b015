package io.dedupfs.fs.fuse;

import static jnr.constants.platform.Errno.*;

import io.dedupfs.store.ChunkNotFoundException;
import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.StoreFullException;
import io.dedupfs.store.namespace.NoSuchAttributeException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Map;

/**
 * The one mapping from the store's exceptions to errno. The namespace gives path errors as
 * java.nio exceptions whose reason is the strerror text of the errno a kernel filesystem would
 * return; everything else that goes wrong is EIO, except a full disk or index (ENOSPC).
 */
final class Errno {
  private static final Map<String, Integer> BY_REASON = Map.ofEntries(
      Map.entry("Is a directory", EISDIR.intValue()),
      Map.entry("Not a directory", ENOTDIR.intValue()),
      Map.entry("Invalid argument", EINVAL.intValue()),
      Map.entry("Operation not permitted", EPERM.intValue()),
      Map.entry("Numerical result out of range", ERANGE.intValue()),
      Map.entry("Argument list too long", E2BIG.intValue()),
      Map.entry("File name too long", ENAMETOOLONG.intValue()),
      Map.entry("Bad file descriptor", EBADF.intValue()),
      Map.entry("Read-only file system", EROFS.intValue()),
      Map.entry("Operation not supported", EOPNOTSUPP.intValue()),
      Map.entry("Function not implemented", ENOSYS.intValue()));

  private Errno() {}

  /** The positive errno for {@code error}. */
  static int of(Throwable error) {
    if (error instanceof NoSuchAttributeException) {
      return ENODATA.intValue();
    }
    if (error instanceof NoSuchFileException) {
      return ENOENT.intValue();
    }
    if (error instanceof FileAlreadyExistsException) {
      return EEXIST.intValue();
    }
    if (error instanceof DirectoryNotEmptyException) {
      return ENOTEMPTY.intValue();
    }
    if (error instanceof AccessDeniedException) {
      return EACCES.intValue();
    }
    if (error instanceof StoreFullException || isDiskFull(error)) {
      return ENOSPC.intValue();
    }
    if (error instanceof CorruptDataException || error instanceof ChunkNotFoundException) {
      return EIO.intValue();
    }
    if (error instanceof FileSystemException f && f.getReason() != null) {
      Integer errno = BY_REASON.get(f.getReason());
      if (errno != null) {
        return errno;
      }
    }
    return EIO.intValue();
  }

  /** Whether the errno means something went wrong here (logged), not an answer the caller should expect (ENOENT, EEXIST...). */
  static boolean isFault(int errno) {
    return errno == EIO.intValue() || errno == ENOSPC.intValue();
  }

  /** The JDK reports ENOSPC from a write as an IOException with the strerror text. */
  private static boolean isDiskFull(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
        return true;
      }
    }
    return false;
  }
}
