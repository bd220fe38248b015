package io.dedupfs.store.io;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/** Frees a direct buffer's memory now instead of whenever the garbage collector gets to it. */
@SuppressWarnings("removal")
public final class DirectBuffers {
  private static final sun.misc.Unsafe UNSAFE = unsafe();

  private DirectBuffers() {}

  private static sun.misc.Unsafe unsafe() {
    try {
      Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return (sun.misc.Unsafe) f.get(null);
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  /** The buffer must not be used afterwards: its memory may belong to something else by then. */
  public static void release(ByteBuffer buffer) {
    if (UNSAFE != null) {
      UNSAFE.invokeCleaner(buffer);
    }
  }
}
