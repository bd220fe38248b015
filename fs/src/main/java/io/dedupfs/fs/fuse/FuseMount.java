package io.dedupfs.fs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A live FUSE mount of a {@link FuseAdapter}: libfuse's loop runs on a thread of its own until the
 * filesystem is unmounted, whether by {@link #unmount()}, {@code fusermount -u}, {@code umount}
 * or a signal.
 */
public final class FuseMount {
  /**
   * Options every mount gets. use_ino: st_ino is the inode number, so hard links show as one file.
   * attr_timeout=0: no attributes are cached unless {@link AttributeTimeouts} says so for a reply.
   * Names are cached for a second (entry_timeout, whose exact value AttributeTimeouts looks for),
   * since every change of a name goes through this mount. big_writes, max_write: writes of
   * 128 KiB rather than 4 KiB.
   */
  static final List<String> BASE_OPTIONS = List.of("use_ino", "default_permissions", "big_writes",
      "max_write=131072", "max_read=131072", "attr_timeout=0",
      "entry_timeout=" + AttributeTimeouts.ENTRY_TIMEOUT_SIGNATURE, "negative_timeout=0", "subtype=dedupfs");

  /**
   * libfuse's own loop on this (attached) Java thread. Its multi-threaded loop starts native
   * threads, and jffi attaches a native thread to the JVM for each callback and detaches it after,
   * which made every request cost a new java.lang.Thread: rsync of 5,008 files took 9.3-10.3 s
   * that way and 5.7-6.3 s single-threaded. The heavy work of a write (hash, compress, pack) runs
   * on the ingest pipeline's workers either way. AttributeTimeouts depends on it: it sets the
   * timeout of the reply being made.
   */
  private static final String SINGLE_THREADED = "-s";

  private final FuseAdapter adapter;
  private final Path mountpoint;
  private final CompletableFuture<Integer> ended = new CompletableFuture<>();

  private FuseMount(FuseAdapter adapter, Path mountpoint) {
    this.adapter = adapter;
    this.mountpoint = mountpoint;
  }

  /**
   * Mounts and returns once the kernel has completed the handshake. {@code source} shows as the
   * mount's source in /proc/mounts (the repository path); {@code allowOther} lets every user in.
   */
  public static FuseMount mount(FuseAdapter adapter, Path mountpoint, String source, boolean allowOther,
      List<String> extraOptions, Duration timeout) throws IOException, InterruptedException {
    if (!Files.isDirectory(mountpoint)) {
      throw new IOException("mountpoint " + mountpoint + " is not a directory");
    }
    if (!Files.exists(Path.of("/dev/fuse"))) {
      throw new IOException("/dev/fuse is missing: load the fuse kernel module (modprobe fuse) or install fuse3");
    }
    List<String> options = new ArrayList<>(BASE_OPTIONS);
    options.add("fsname=" + escape(source));
    if (allowOther) {
      options.add("allow_other");
    }
    options.addAll(extraOptions);
    FuseMount mount = new FuseMount(adapter, mountpoint);
    Thread loop = new Thread(() -> {
      try {
        adapter.mount(mountpoint, true, false, new String[] {SINGLE_THREADED, "-o", String.join(",", options)});
        mount.ended.complete(0);
      } catch (Throwable e) {
        mount.ended.completeExceptionally(e);
      }
    }, "dedupfs-fuse-loop");
    loop.start();
    CompletableFuture<Object> first = CompletableFuture.anyOf(adapter.initialized(), mount.ended);
    try {
      first.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      adapter.umount();
      throw new IOException("the kernel did not answer the mount of " + mountpoint + " within " + timeout.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw new IOException("could not mount at " + mountpoint + ": " + e.getCause().getMessage(), e.getCause());
    }
    if (!adapter.initialized().isDone()) {
      throw new IOException("could not mount at " + mountpoint + " (libfuse gave up; its message is above or in the log)");
    }
    return mount;
  }

  /** fsname is one of several comma-separated options: escape what libfuse's option parser treats specially. */
  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace(",", "\\,");
  }

  public Path mountpoint() {
    return mountpoint;
  }

  /** Waits until the filesystem is unmounted and libfuse's loop has ended. */
  public void awaitUnmounted() throws InterruptedException {
    try {
      ended.get();
    } catch (ExecutionException e) {
      // The loop ended with an error: it has ended all the same.
    }
  }

  /** Asks libfuse to end and detaches the mount; returns at once. Doing it twice is harmless. */
  public void unmount() {
    adapter.umount();
  }
}
