package io.dedupfs.fs.fuse;

import com.kenai.jffi.MemoryIO;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import jnr.constants.platform.Errno;
import jnr.ffi.LastError;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FUSE over io_uring (Linux 6.14 and later, with the fuse module's {@code enable_uring} on): the
 * kernel keeps one request queue per CPU, and a thread of ours pinned to that CPU serves it. A
 * request is then read, served and answered on the CPU of the process that made it, where
 * {@code /dev/fuse} wakes a thread on another CPU for each request and that process again for
 * each reply; on a VM whose idle CPUs halt, those wake-ups are most of what a small file costs.
 *
 * <p>libfuse 3.14 has no io_uring support, so each request is laid out as a {@code /dev/fuse}
 * read would give it and handed to {@code fuse_session_process_buf}; the reply, which libfuse
 * writes through the session's custom {@code writev} ({@link #customIo}), is copied into the
 * ring entry and committed with the fetch of the next request. What the kernel still sends
 * through {@code /dev/fuse} (INIT, FORGET, INTERRUPT, and every request until each CPU's queue
 * is registered) is served there as before, and its replies pass through that {@code writev}
 * unchanged. Layouts: include/uapi/linux/fuse.h (protocol 7.42), fs/fuse/dev_uring.c.
 */
final class FuseRing {
  private static final Logger LOG = LoggerFactory.getLogger(FuseRing.class);
  private static final Path ENABLED = Path.of("/sys/module/fuse/parameters/enable_uring");
  private static final Path POSSIBLE_CPUS = Path.of("/sys/devices/system/cpu/possible");

  /** struct fuse_uring_req_header: the in/out header, the operation's own header, then fuse_uring_ent_in_out. */
  private static final int HEADER_SIZE = 288;
  private static final int OP_IN = 128;
  private static final int MAX_OP_IN = 128;
  private static final int PAYLOAD_SIZE_FIELD = 256 + 16;
  private static final int OUT_HEADER_SIZE = 16;
  /** Room before each payload for the headers a {@code /dev/fuse} read puts in front of it. */
  private static final int HEADROOM = 4096;
  /** At least the kernel's max_payload_sz: max(max_write, max_pages pages), both set from MAX_IO. */
  private static final int PAYLOAD_CAPACITY = FuseAdapter.MAX_IO + 4096;
  private static final int ENTRIES_PER_QUEUE = 2;

  private static final byte OP_URING_CMD = 46;
  private static final int CMD_REGISTER = 1;
  private static final int CMD_COMMIT_AND_FETCH = 2;
  private static final long REGISTER_RETRY_MAX_NANOS = 10_000_000;
  private static final int MAX_FAILED_ENTERS = 100;
  private static final long FAILED_ENTER_PAUSE_NANOS = 10_000_000;

  private static final MemoryIO NATIVE = MemoryIO.getInstance();

  private final LibFuse fuse;
  private final LibFuse.LibC libc;
  private final Pointer session;
  private final int deviceFd;
  private final Runtime runtime = Runtime.getSystemRuntime();
  /** Called when a queue can take no more requests while mounted: the requests of its CPU would wait for ever. */
  private final Runnable lost;
  /**
   * Every entry registered: the kernel writes into them until its side of the ring is torn down,
   * which ends after our ring is closed, so they stay allocated as long as this object (which
   * the mount keeps, with the callbacks libfuse calls).
   */
  private final List<Entry> entries = new CopyOnWriteArrayList<>();
  private final AtomicBoolean firstRequest = new AtomicBoolean();
  /** The ring entry whose request the calling thread is serving: where its reply goes. */
  private final ThreadLocal<Entry> serving = new ThreadLocal<>();
  private final Writev writev = this::writev;
  private final Read read = this::read;

  /** A request buffer registered with the kernel: its header block and its payload, with headroom before it. */
  private static final class Entry {
    final int index;
    final Pointer header;
    final Pointer block;
    final long payload;
    /** struct iovec[2]: the header block, the payload. */
    final Pointer iov;
    final Pointer fuseBuf;
    long unique;
    boolean answered;
    /** The command last submitted for this entry. */
    int lastCommand;
    /** The errno of a reply the kernel refused, until the entry is seen registered again. */
    int refusedWith;

    Entry(Runtime runtime, int index) {
      this.index = index;
      header = Memory.allocateDirect(runtime, HEADER_SIZE, true);
      // Not cleared: pages are touched only as requests fill them.
      block = Memory.allocateDirect(runtime, HEADROOM + PAYLOAD_CAPACITY, false);
      payload = block.address() + HEADROOM;
      iov = Memory.allocateDirect(runtime, 32, true);
      iov.putLong(0, header.address());
      iov.putLong(8, HEADER_SIZE);
      iov.putLong(16, payload);
      iov.putLong(24, PAYLOAD_CAPACITY);
      fuseBuf = Memory.allocateDirect(runtime, FuseStructs.BUF_SIZE, true);
    }
  }

  /** struct fuse_custom_io's writev. */
  public interface Writev {
    @Delegate
    @ssize_t
    long call(int fd, Pointer iov, int count, Pointer userdata);
  }

  /** struct fuse_custom_io's read. */
  public interface Read {
    @Delegate
    @ssize_t
    long call(int fd, Pointer buffer, @size_t long length, Pointer userdata);
  }

  FuseRing(LibFuse fuse, LibFuse.LibC libc, Pointer session, int deviceFd, Runnable lost) {
    this.fuse = fuse;
    this.libc = libc;
    this.session = session;
    this.deviceFd = deviceFd;
    this.lost = lost;
  }

  /**
   * Whether the kernel takes FUSE requests over io_uring: the fuse module's enable_uring is on,
   * or this process (root) has just turned it on. It lets FUSE servers that ask use io_uring;
   * those that do not are served as before.
   */
  static boolean turnOn() {
    if (enabledInKernel()) {
      return true;
    }
    if (!Files.isWritable(ENABLED)) {
      return false;
    }
    try {
      Files.writeString(ENABLED, "Y");
    } catch (IOException e) {
      LOG.debug("could not turn on FUSE over io_uring: {}", e.toString());
      return false;
    }
    LOG.info("turned on FUSE over io_uring in the kernel ({} = Y)", ENABLED);
    return enabledInKernel();
  }

  private static boolean enabledInKernel() {
    try {
      return Files.readString(ENABLED).trim().equals("Y");
    } catch (IOException e) {
      return false;
    }
  }

  /** The kernel keeps one queue per possible CPU: how many ("0-1" → 2, "0-3,8-11" → 8). */
  static int possibleCpus() throws IOException {
    int count = 0;
    for (String range : Files.readString(POSSIBLE_CPUS).trim().split(",")) {
      String[] ends = range.split("-");
      count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
    }
    return count;
  }

  /**
   * The struct fuse_custom_io to give the session before it serves anything: replies to ring
   * requests are taken into their entries, everything else is written to {@code /dev/fuse}. The
   * callbacks live as long as this object.
   */
  Pointer customIo() {
    Pointer io = Memory.allocateDirect(runtime, 4L * runtime.addressSize(), true);
    io.putPointer(0, runtime.getClosureManager().getClosurePointer(Writev.class, writev));
    io.putPointer(runtime.addressSize(), runtime.getClosureManager().getClosurePointer(Read.class, read));
    return io;
  }

  private long writev(int fd, Pointer iov, int count, Pointer userdata) {
    Entry e = serving.get();
    long out = iov.getAddress(0);
    if (e == null || e.answered || NATIVE.getLong(out + 8) != e.unique) {
      long written = libc.writev(fd, iov, count);
      if (written < 0) {
        // libfuse reads errno after this returns (ENOENT: the request was interrupted).
        LastError.setLastError(runtime, LastError.getLastError(runtime));
      }
      return written;
    }
    NATIVE.copyMemory(out, e.header.address(), OUT_HEADER_SIZE);
    long at = 0;
    for (int i = 1; i < count; i++) {
      long length = iov.getLong(16L * i + 8);
      if (at + length > PAYLOAD_CAPACITY) {
        // Cannot happen with replies no longer than max_read: answer with an error, not a torn reply.
        LOG.error("a reply of {} bytes does not fit its ring entry", at + length);
        answerEmpty(e, -Errno.EIO.intValue());
        return OUT_HEADER_SIZE + at;
      }
      NATIVE.copyMemory(iov.getAddress(16L * i), e.payload + at, length);
      at += length;
    }
    e.header.putInt(PAYLOAD_SIZE_FIELD, (int) at);
    e.answered = true;
    return OUT_HEADER_SIZE + at;
  }

  /**
   * libfuse 3.14 refuses a custom io without a read; it is never called, since the /dev/fuse
   * threads read the device themselves once a custom io is set.
   */
  private long read(int fd, Pointer buffer, long length, Pointer userdata) {
    return libc.read(fd, buffer, length);
  }

  /**
   * Starts one thread per queue; each calls {@code ended} when the kernel ends its queue (at
   * unmount) or it fails. Until every queue has registered, requests go through /dev/fuse.
   */
  void start(int queues, Runnable ended) {
    for (int q = 0; q < queues; q++) {
      int queue = q;
      new Thread(() -> {
        try {
          serve(queue);
        } catch (Throwable e) {
          LOG.error("FUSE io_uring queue {} stopped: {}", queue, e.toString());
        } finally {
          ended.run();
        }
      }, "dedupfs-fuse-ring-" + q).start();
    }
  }

  /**
   * Serves one queue until unmounted. If it stops before, once the kernel may route requests to
   * it, the mount is ended ({@link #lost}): the kernel never sends them back to /dev/fuse.
   */
  private void serve(int queue) throws IOException {
    pinTo(queue);
    boolean unmounted = false;
    boolean abandoned = false;
    boolean handedOver = false;
    int refusedRegistrations = 0;
    long served = 0;
    try (IoUring ring = new IoUring(libc, ENTRIES_PER_QUEUE)) {
      Entry[] mine = new Entry[ENTRIES_PER_QUEUE];
      for (int i = 0; i < mine.length; i++) {
        mine[i] = new Entry(runtime, i);
        entries.add(mine[i]);
        submit(ring, mine[i], queue, CMD_REGISTER);
      }
      int live = mine.length;
      long retryNanos = 1_000_000;
      int failedEnters = 0;
      while (live > 0) {
        int entered = ring.submitAndWait();
        if (entered < 0) {
          if (entered != -Errno.EINTR.intValue() && ++failedEnters > MAX_FAILED_ENTERS) {
            throw new IOException("io_uring_enter failed " + failedEnters + " times in a row: errno " + -entered);
          }
          LockSupport.parkNanos(entered == -Errno.EINTR.intValue() ? 0 : FAILED_ENTER_PAUSE_NANOS);
          continue;
        }
        handedOver = true;
        failedEnters = 0;
        for (IoUring.Completion c; (c = ring.nextCompletion()) != null; ) {
          Entry e = mine[(int) c.userData()];
          int result = c.result();
          if (result == 0) {
            if (e.refusedWith != 0) {
              LOG.warn("FUSE io_uring queue {}: a reply was refused with errno {}; its entry is registered again", queue,
                  e.refusedWith);
              e.refusedWith = 0;
            }
            // Replies still to hand over go first: this request may take long, and their callers wait.
            ring.submitPending();
            serveRequest(e);
            served++;
            submit(ring, e, queue, CMD_COMMIT_AND_FETCH);
          } else if (result == -Errno.EAGAIN.intValue()) {
            // The kernel has not finished the handshake yet: register again a little later.
            LockSupport.parkNanos(retryNanos);
            retryNanos = Math.min(2 * retryNanos, REGISTER_RETRY_MAX_NANOS);
            submit(ring, e, queue, CMD_REGISTER);
          } else if (result == -Errno.ENOTCONN.intValue() || result == -Errno.ECONNABORTED.intValue()) {
            unmounted = true;
            live--;
          } else if (e.lastCommand == CMD_COMMIT_AND_FETCH) {
            // The kernel refused the reply (the request ends with an error) and with it the entry. Told
            // only once the entry serves again: at unmount a commit can lose the race with the teardown.
            e.refusedWith = -result;
            submit(ring, e, queue, CMD_REGISTER);
          } else {
            LOG.warn("FUSE io_uring queue {}: an entry could not be registered: errno {}", queue, -result);
            refusedRegistrations++;
            live--;
            if (served > 0 && !abandoned) {
              // The kernel routes requests here and now refuses this queue's entries: some of them
              // may never be taken again, and its requests would wait for ever.
              abandoned = true;
              abandon(queue);
            }
          }
        }
      }
      LOG.info("FUSE io_uring queue {} ended after {} requests", queue, served);
    } finally {
      boolean neverReady = !handedOver || (served == 0 && refusedRegistrations == ENTRIES_PER_QUEUE);
      if (!unmounted && !neverReady && !abandoned) {
        abandon(queue);
      }
    }
  }

  private void abandon(int queue) {
    LOG.error("FUSE io_uring queue {} can take no more requests while mounted: ending the mount, since those of CPU {} "
        + "would wait for ever", queue, queue);
    lost.run();
  }

  /** Pins the calling thread to {@code cpu}; the queue still works unpinned, only slower. */
  private void pinTo(int cpu) {
    if (!setAffinity(libc, cpu)) {
      LOG.debug("could not pin the io_uring thread of queue {} to its CPU", cpu);
    }
  }

  /** Lets the calling thread run on {@code cpu} only, or on every CPU if it is negative. */
  static boolean setAffinity(LibFuse.LibC libc, int cpu) {
    int bytes = 128;
    if (cpu >= 8 * bytes) {
      return false;
    }
    Pointer mask = Memory.allocateDirect(Runtime.getSystemRuntime(), bytes, true);
    if (cpu < 0) {
      mask.setMemory(0, bytes, (byte) 0xff);
    } else {
      mask.putByte(cpu / 8, (byte) (1 << (cpu % 8)));
    }
    return libc.sched_setaffinity(0, bytes, mask) == 0;
  }

  /** Whether this process may make an io_uring at all (a seccomp filter or kernel.io_uring_disabled may refuse). */
  static boolean available(LibFuse.LibC libc) {
    try (IoUring probe = new IoUring(libc, 1)) {
      return true;
    } catch (IOException e) {
      LOG.info("not serving FUSE over io_uring: {}", e.getMessage());
      return false;
    }
  }

  /** Lays the request out as /dev/fuse gives it, right before its payload, and has libfuse serve it. */
  private void serveRequest(Entry e) {
    long length = Integer.toUnsignedLong(e.header.getInt(0));
    int payloadSize = e.header.getInt(PAYLOAD_SIZE_FIELD);
    long opSize = length - FuseStructs.IN_HEADER_SIZE - payloadSize;
    e.unique = e.header.getLong(8);
    e.answered = false;
    if (opSize < 0 || opSize > MAX_OP_IN || payloadSize < 0 || payloadSize > PAYLOAD_CAPACITY) {
      LOG.error("a FUSE request came by io_uring with sizes that do not add up: {} = 40 + op + {}", length, payloadSize);
      answerEmpty(e, -Errno.EIO.intValue());
      return;
    }
    long start = e.payload - opSize - FuseStructs.IN_HEADER_SIZE;
    NATIVE.copyMemory(e.header.address(), start, FuseStructs.IN_HEADER_SIZE);
    NATIVE.copyMemory(e.header.address() + OP_IN, start + FuseStructs.IN_HEADER_SIZE, opSize);
    FuseStructs.putMemoryBuf(e.fuseBuf, length, start);
    // Read first: on every request of every queue, the atomic write of a flag long set would
    // bounce its cache line between the CPUs.
    if (!firstRequest.get() && firstRequest.compareAndSet(false, true)) {
      LOG.info("requests come over io_uring now");
    }
    serving.set(e);
    try {
      fuse.fuse_session_process_buf(session, e.fuseBuf);
    } catch (RuntimeException | Error failure) {
      // The operations answer their own failures; this is a bug below them. The caller gets EIO, the queue lives on.
      LOG.error("serving a request that came over io_uring failed", failure);
      if (!e.answered) {
        answerEmpty(e, -Errno.EIO.intValue());
      }
    } finally {
      serving.set(null);
    }
    if (!e.answered) {
      // Requests libfuse answers with nothing (a notify reply) are committed all the same.
      answerEmpty(e, 0);
    }
  }

  private static void answerEmpty(Entry e, int error) {
    e.header.putInt(0, OUT_HEADER_SIZE);
    e.header.putInt(4, error);
    e.header.putLong(8, e.unique);
    e.header.putInt(PAYLOAD_SIZE_FIELD, 0);
    e.answered = true;
  }

  /** REGISTER (the entry's buffers, for its first request) or COMMIT_AND_FETCH (its reply, and the next request). */
  private void submit(IoUring ring, Entry e, int queue, int command) {
    e.lastCommand = command;
    ByteBuffer sqe = ring.nextSubmission();
    sqe.put(0, OP_URING_CMD);
    sqe.putInt(4, deviceFd);
    sqe.putInt(8, command);
    sqe.putLong(16, e.iov.address());
    sqe.putInt(24, 2);
    sqe.putLong(32, e.index);
    // struct fuse_uring_cmd_req in the command area: flags, commit_id, qid.
    sqe.putLong(56, command == CMD_COMMIT_AND_FETCH ? e.unique : 0);
    sqe.putShort(64, (short) queue);
  }
}
