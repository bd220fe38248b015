package io.dedupfs.fs.fuse;

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
import ru.serce.jnrfuse.ErrorCodes;

/**
 * The one mapping from the store's exceptions to errno. The namespace gives path errors as
 * java.nio exceptions whose reason is the strerror text of the errno a kernel filesystem would
 * return; everything else that goes wrong is EIO, except a full disk or index (ENOSPC).
 */
final class Errno {
  private static final Map<String, Integer> BY_REASON = Map.ofEntries(
      Map.entry("Is a directory", ErrorCodes.EISDIR()),
      Map.entry("Not a directory", ErrorCodes.ENOTDIR()),
      Map.entry("Invalid argument", ErrorCodes.EINVAL()),
      Map.entry("Operation not permitted", ErrorCodes.EPERM()),
      Map.entry("Numerical result out of range", ErrorCodes.ERANGE()),
      Map.entry("Argument list too long", ErrorCodes.E2BIG()),
      Map.entry("File name too long", ErrorCodes.ENAMETOOLONG()),
      Map.entry("Bad file descriptor", ErrorCodes.EBADF()),
      Map.entry("Read-only file system", ErrorCodes.EROFS()),
      Map.entry("Operation not supported", ErrorCodes.EOPNOTSUPP()));

  private Errno() {}

  /** The positive errno for {@code error}. */
  static int of(Throwable error) {
    if (error instanceof NoSuchAttributeException) {
      return ErrorCodes.ENODATA();
    }
    if (error instanceof NoSuchFileException) {
      return ErrorCodes.ENOENT();
    }
    if (error instanceof FileAlreadyExistsException) {
      return ErrorCodes.EEXIST();
    }
    if (error instanceof DirectoryNotEmptyException) {
      return ErrorCodes.ENOTEMPTY();
    }
    if (error instanceof AccessDeniedException) {
      return ErrorCodes.EACCES();
    }
    if (error instanceof StoreFullException || isDiskFull(error)) {
      return ErrorCodes.ENOSPC();
    }
    if (error instanceof CorruptDataException || error instanceof ChunkNotFoundException) {
      return ErrorCodes.EIO();
    }
    if (error instanceof FileSystemException f && f.getReason() != null) {
      Integer errno = BY_REASON.get(f.getReason());
      if (errno != null) {
        return errno;
      }
    }
    return ErrorCodes.EIO();
  }

  /** Whether the errno means something went wrong here (logged), not an answer the caller should expect (ENOENT, EEXIST...). */
  static boolean isFault(int errno) {
    return errno == ErrorCodes.EIO() || errno == ErrorCodes.ENOSPC();
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
