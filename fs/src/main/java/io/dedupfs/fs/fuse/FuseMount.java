package io.dedupfs.fs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LastError;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live FUSE mount of a {@link FuseAdapter} through libfuse 3's low-level session. Requests are
 * read from the kernel and served by Java threads of this class's own: libfuse's loops would
 * call into Java from native threads, which jffi attaches to the JVM anew for every request.
 * Between requests a thread first asks again without sleeping ({@link RequestReceiver}).
 * Where the kernel offers FUSE over io_uring, requests come instead through the per-CPU queues
 * of a {@link FuseRing}. The mount lives until it is unmounted, whether by {@link #unmount()},
 * {@code fusermount -u}, {@code umount} or a signal (the JVM's shutdown hook calls unmount), or
 * until it cannot go on serving and ends itself ({@link #abandon()}).
 */
public final class FuseMount {
  private static final Logger LOG = LoggerFactory.getLogger(FuseMount.class);
  /**
   * Options every mount gets. default_permissions: the kernel checks modes and owners, as a
   * local filesystem does. max_read: the largest read the adapter serves.
   */
  static final List<String> BASE_OPTIONS = List.of("default_permissions", "max_read=" + FuseAdapter.MAX_IO,
      "subtype=dedupfs");

  /** struct pollfd: int fd, short events, short revents. */
  private static final int POLLFD_SIZE = 8;
  private static final short POLLIN = 1;
  private static final long POLL_FAILED_PAUSE_NANOS = 10_000_000;
  /** What libfuse reads the device into: the kernel refuses buffers shorter than max_write plus the headers. */
  private static final int READ_BUFFER_SIZE = FuseAdapter.MAX_IO + 8192;
  private static final int MNT_FORCE = 1;
  private static final int MNT_DETACH = 2;

  private final LibFuse fuse;
  /** Told before the session is destroyed, so that it sends the kernel nothing after. */
  private final FuseAdapter adapter;
  private final Pointer session;
  private final Path mountpoint;
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  /**
   * The io_uring side, if requests come that way. Held here also because libfuse calls its
   * callbacks, and the kernel writes into its buffers, until the session is destroyed.
   */
  private FuseRing ring;

  private FuseMount(LibFuse fuse, FuseAdapter adapter, Pointer session, Path mountpoint) {
    this.fuse = fuse;
    this.adapter = adapter;
    this.session = session;
    this.mountpoint = mountpoint;
  }

  /**
   * Mounts and returns once the kernel has completed the handshake. {@code source} shows as the
   * mount's source in /proc/mounts (the repository path); {@code allowOther} lets every user in;
   * {@code threads} serve requests at once from /dev/fuse; with {@code ioUring}, so do the threads of
   * a {@link FuseRing} where the kernel allows it (turning it on if this process may).
   */
  public static FuseMount mount(FuseAdapter adapter, LibFuse fuse, Path mountpoint, String source, boolean allowOther,
      List<String> extraOptions, int threads, boolean ioUring, Duration timeout) throws IOException, InterruptedException {
    if (!FuseStructs.layoutsHold()) {
      throw new IOException("dedupfs's FUSE binding knows the structures of x86-64 Linux only; this is "
          + System.getProperty("os.name") + " on " + System.getProperty("os.arch"));
    }
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
    Runtime runtime = Runtime.getSystemRuntime();
    LowLevelOperations operations = adapter.operationsTable();
    Pointer session = fuse.fuse_session_new(arguments(runtime, "dedupfs", "-o", String.join(",", options)),
        operations.table(), operations.size(), null);
    if (session == null) {
      throw new IOException("libfuse refused the mount options " + String.join(",", options) + " (its message is above)");
    }
    adapter.servedBy(session);
    if (fuse.fuse_session_mount(session, terminated(mountpoint.toString())) != 0) {
      adapter.servedBy(null);
      fuse.fuse_session_destroy(session);
      throw new IOException("could not mount at " + mountpoint + " (libfuse's message is above or in the log)");
    }
    FuseMount mount = new FuseMount(fuse, adapter, session, mountpoint);
    mount.serve(threads, ioUring);
    try {
      CompletableFuture.anyOf(adapter.initialized(), mount.ended).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      mount.unmount();
      throw new IOException("the kernel did not answer the mount of " + mountpoint + " within " + timeout.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw new IOException("could not mount at " + mountpoint + ": " + e.getCause().getMessage(), e.getCause());
    }
    if (!adapter.initialized().isDone()) {
      throw new IOException("could not mount at " + mountpoint + " (libfuse gave up; its message is above or in the log)");
    }
    return mount;
  }

  /** A struct fuse_args for fuse_session_new: argc, argv (NUL-terminated strings), allocated = 0. */
  private static Pointer arguments(Runtime runtime, String... args) {
    Pointer argv = Memory.allocateDirect(runtime, (long) (args.length + 1) * runtime.addressSize(), true);
    for (int i = 0; i < args.length; i++) {
      byte[] arg = terminated(args[i]);
      Pointer p = Memory.allocateDirect(runtime, arg.length);
      p.put(0, arg, 0, arg.length);
      argv.putPointer((long) i * runtime.addressSize(), p);
    }
    Pointer fuseArgs = Memory.allocateDirect(runtime, FuseStructs.ARGS_SIZE, true);
    fuseArgs.putInt(0, args.length);
    fuseArgs.putPointer(runtime.addressSize(), argv);
    return fuseArgs;
  }

  private static byte[] terminated(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return java.util.Arrays.copyOf(b, b.length + 1);
  }

  /** fsname is one of several comma-separated options: escape what libfuse's option parser treats specially. */
  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace(",", "\\,");
  }

  /**
   * Starts the threads that read requests and have libfuse dispatch them to the adapter, and,
   * where the kernel offers it, the threads of {@link FuseRing}. When the file system is
   * unmounted each read fails with ENODEV and each ring entry with ENOTCONN (ECONNABORTED if the
   * connection was aborted); once the last thread ends the session is taken down.
   */
  private void serve(int threads, boolean ioUring) {
    LibFuse.LibC libc = LibFuse.LibC.load();
    Runtime runtime = Runtime.getSystemRuntime();
    int fd = fuse.fuse_session_fd(session);
    // Reads that find no request return EAGAIN instead of sleeping: see RequestReceiver.
    int flags = libc.fcntl(fd, Fcntl.F_GETFL.intValue(), 0);
    if (flags < 0 || libc.fcntl(fd, Fcntl.F_SETFL.intValue(), flags | OpenFlags.O_NONBLOCK.intValue()) < 0) {
      LOG.warn("could not make /dev/fuse non-blocking: each request will wake a sleeping thread");
    }
    FuseRing ring = ioUring && FuseRing.turnOn() && FuseRing.available(libc)
        ? new FuseRing(fuse, libc, session, fd, this::abandon) : null;
    int queues = 0;
    if (ring != null) {
      try {
        queues = FuseRing.possibleCpus();
      } catch (IOException | RuntimeException e) {
        LOG.warn("not serving FUSE over io_uring: the number of CPUs is unknown ({})", e.toString());
        ring = null;
      }
    }
    if (ring != null && fuse.fuse_session_custom_io(session, ring.customIo(), fd) != 0) {
      LOG.warn("not serving FUSE over io_uring: libfuse refused a custom io");
      ring = null;
    }
    this.ring = ring;
    AtomicInteger running = new AtomicInteger(threads + (ring == null ? 0 : queues));
    Runnable threadEnded = () -> {
      if (running.decrementAndGet() == 0) {
        adapter.servedBy(null);
        fuse.fuse_session_unmount(session);
        fuse.fuse_session_destroy(session);
        ended.complete(null);
      }
    };
    // With a custom io libfuse reads through a callback; these threads read the device themselves.
    boolean readsItself = ring != null;
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        Pointer buf = Memory.allocateDirect(runtime, FuseStructs.BUF_SIZE, true);
        Pointer own = readsItself ? Memory.allocateDirect(runtime, READ_BUFFER_SIZE) : null;
        try {
          receiveAndProcess(buf, receiver(libc, runtime, fd, buf, own));
        } catch (Throwable e) {
          LOG.error("a FUSE request thread failed", e);
        } finally {
          Pointer mem = buf.getPointer(FuseStructs.BUF_MEM);
          if (mem != null && own == null) {
            libc.free(mem);
          }
          threadEnded.run();
        }
      }, "dedupfs-fuse-" + i);
      t.start();
    }
    if (ring != null) {
      ring.start(queues, threadEnded);
      LOG.info("asking the kernel for FUSE over io_uring: {} queues, one per CPU", queues);
    } else {
      LOG.info("serving FUSE through /dev/fuse{}", ioUring ? " (the kernel does not offer io_uring, or does not let this"
          + " process turn it on)" : "");
    }
  }

  /**
   * A receiver of requests into {@code buf}, which sleeps in poll(2) on the session's descriptor
   * {@code fd}; with {@code own}, it reads the device into that memory itself.
   */
  private RequestReceiver receiver(LibFuse.LibC libc, Runtime runtime, int fd, Pointer buf, Pointer own) {
    Pointer pollFd = Memory.allocateDirect(runtime, POLLFD_SIZE, true);
    pollFd.putInt(0, fd);
    pollFd.putShort(Integer.BYTES, POLLIN);
    RequestReceiver.Device device = new RequestReceiver.Device() {
      @Override
      public int tryReceive() {
        return own == null ? fuse.fuse_session_receive_buf(session, buf) : readInto(own);
      }

      /** As fuse_session_receive_buf: the size read, 0 once unmounted, or a negative errno. */
      private int readInto(Pointer mem) {
        long n = libc.read(fd, mem, READ_BUFFER_SIZE);
        if (n > 0 && n < FuseStructs.IN_HEADER_SIZE) {
          LOG.error("a short read of /dev/fuse: {} bytes", n);
          return -Errno.EIO.intValue();
        }
        if (n > 0) {
          FuseStructs.putMemoryBuf(buf, n, mem.address());
          return (int) n;
        }
        int errno = n == 0 ? Errno.ENODEV.intValue() : LastError.getLastError(runtime);
        if (errno == Errno.ENODEV.intValue()) {
          fuse.fuse_session_exit(session);
          return 0;
        }
        // ENOENT: the request was interrupted before it was read.
        return errno == Errno.ENOENT.intValue() ? -Errno.EINTR.intValue() : -errno;
      }

      private boolean pollFailed;

      @Override
      public void awaitReadable() {
        // Woken, interrupted or not, the next read tells whether a request came. A poll that
        // fails for another reason would fail again at once: pause, so as not to spin on it.
        if (libc.poll(pollFd, 1, -1) >= 0) {
          return;
        }
        int errno = LastError.getLastError(runtime);
        if (errno == Errno.EINTR.intValue()) {
          return;
        }
        if (!pollFailed) {
          pollFailed = true;
          LOG.error("poll(2) on /dev/fuse failed: errno {}; waiting 10 ms between reads", errno);
        }
        LockSupport.parkNanos(POLL_FAILED_PAUSE_NANOS);
      }
    };
    return new RequestReceiver(device, System::nanoTime, -Errno.EAGAIN.intValue());
  }

  private void receiveAndProcess(Pointer buf, RequestReceiver receiver) {
    int interrupted = -Errno.EINTR.intValue();
    while (true) {
      int received = receiver.receive();
      if (received == interrupted) {
        // A signal, or a request interrupted before it was read: read again.
        continue;
      }
      if (received <= 0) {
        // 0: unmounted (ENODEV); below: an error.
        if (received < 0) {
          LOG.error("reading a FUSE request failed: errno {}; ending the session", -received);
          fuse.fuse_session_exit(session);
          if (ring != null) {
            // The io_uring side would go on serving: end the kernel's connection, and it with it.
            abandon();
          }
        }
        return;
      }
      fuse.fuse_session_process_buf(session, buf);
      receiver.served();
    }
  }

  public Path mountpoint() {
    return mountpoint;
  }

  /** Waits until the filesystem is unmounted and every request thread has ended. */
  public void awaitUnmounted() throws InterruptedException {
    try {
      ended.get();
    } catch (ExecutionException e) {
      // Ended all the same.
    }
  }

  /**
   * Ends the mount at once because it cannot go on serving: as root the kernel's connection is
   * aborted (umount2 with MNT_FORCE and MNT_DETACH), so that requests waiting on it fail instead of
   * waiting for ever, else it is detached ({@link #unmount()}). On a thread of its own, free to run
   * on every CPU: the caller may be pinned to the CPU whose requests wait.
   */
  private void abandon() {
    Thread t = new Thread(() -> {
      LibFuse.LibC libc = LibFuse.LibC.load();
      FuseRing.setAffinity(libc, -1);
      if (libc.umount2(terminated(mountpoint.toAbsolutePath().toString()), MNT_FORCE | MNT_DETACH) != 0) {
        unmount();
      }
    }, "dedupfs-abandon");
    t.setDaemon(true);
    t.start();
  }

  /**
   * Detaches the mount (lazily: files open in it keep being served until closed) and returns at
   * once; the request threads end when the kernel closes the connection. Doing it twice is
   * harmless.
   */
  public void unmount() {
    if (ended.isDone()) {
      return;
    }
    String mnt = mountpoint.toAbsolutePath().toString();
    for (List<String> command : List.of(List.of("fusermount3", "-u", "-q", "-z", "--", mnt),
        List.of("fusermount", "-u", "-q", "-z", "--", mnt), List.of("umount", "-l", mnt))) {
      try {
        if (new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start().waitFor() == 0) {
          return;
        }
      } catch (IOException e) {
        // Not installed here: try the next way.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    LOG.warn("could not unmount {} (fusermount3, fusermount and umount failed); is it still mounted?", mnt);
  }
}
