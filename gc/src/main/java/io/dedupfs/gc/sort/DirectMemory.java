package io.dedupfs.gc.sort;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Frees a direct buffer's memory at once rather than whenever the garbage collector finds the
 * buffer unreachable, so that a finished collection gives its budget back to the OS (as
 * store.ingest.BufferPool does). Looked up reflectively: where the JDK does not allow it, the
 * memory is left to the garbage collector.
 */
final class DirectMemory {
  private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

  private DirectMemory() {}

  private static MethodHandle invokeCleaner() {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
      theUnsafe.setAccessible(true);
      return MethodHandles.lookup()
          .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
          .bindTo(theUnsafe.get(null));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** The buffer must not be used afterwards: its memory may belong to something else by then. */
  static void release(ByteBuffer buffer) {
    if (INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invokeExact(buffer);
    } catch (Throwable e) {
      throw new IllegalStateException("could not free a direct buffer", e);
    }
  }
}
