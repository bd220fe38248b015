package io.dedupfs.fs.fuse;

import com.kenai.jffi.MemoryIO;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.LastError;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * One io_uring instance with 128-byte submission entries, driven by the thread that made it:
 * just what FUSE over io_uring needs ({@link FuseRing}). Rings are set up and entered with raw
 * system calls, since liburing is a header library that Java cannot link to. Not thread-safe.
 */
final class IoUring implements AutoCloseable {
  /** x86-64 system call numbers. */
  private static final long SYS_IO_URING_SETUP = 425;
  private static final long SYS_IO_URING_ENTER = 426;
  private static final int SETUP_SQE128 = 1 << 10;
  private static final int FEAT_SINGLE_MMAP = 1;
  private static final int ENTER_GETEVENTS = 1;
  private static final long OFF_SQES = 0x10000000L;
  static final int SQE_SIZE = 128;
  private static final int CQE_SIZE = 16;
  private static final int PARAMS_SIZE = 120;
  private static final int PROT_READ_WRITE = 0x3;
  private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;
  private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

  private final LibFuse.LibC libc;
  private final Runtime runtime;
  private final int fd;
  private final Pointer ringAddress;
  private final long ringLength;
  private final Pointer sqesAddress;
  private final long sqesLength;
  private final ByteBuffer ring;
  private final ByteBuffer sqes;
  private final int sqHead;
  private final int sqTail;
  private final int sqMask;
  private final int sqArray;
  private final int cqHead;
  private final int cqTail;
  private final int cqMask;
  private final int cqes;
  private int toSubmit;

  /** A completion: the user data of its submission and its result (a negative errno on failure). */
  record Completion(long userData, int result) {}

  IoUring(LibFuse.LibC libc, int entries) throws IOException {
    this.libc = libc;
    this.runtime = Runtime.getSystemRuntime();
    Pointer params = Memory.allocateDirect(runtime, PARAMS_SIZE, true);
    params.putInt(8, SETUP_SQE128);
    fd = (int) libc.syscall(SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
    if (fd < 0) {
      throw new IOException("io_uring_setup failed: errno " + LastError.getLastError(runtime));
    }
    if ((params.getInt(20) & FEAT_SINGLE_MMAP) == 0) {
      libc.close(fd);
      throw new IOException("this kernel's io_uring maps its rings apart (before 5.4): not supported");
    }
    int sqEntries = params.getInt(0);
    int cqEntries = params.getInt(4);
    ringLength = Math.max(params.getInt(64) + 4L * sqEntries, params.getInt(100) + (long) CQE_SIZE * cqEntries);
    ringAddress = map(ringLength, 0);
    sqesLength = (long) SQE_SIZE * sqEntries;
    sqesAddress = map(sqesLength, OFF_SQES);
    ring = MemoryIO.getInstance().newDirectByteBuffer(ringAddress.address(), (int) ringLength).order(ByteOrder.nativeOrder());
    sqes = MemoryIO.getInstance().newDirectByteBuffer(sqesAddress.address(), (int) sqesLength).order(ByteOrder.nativeOrder());
    sqHead = params.getInt(40);
    sqTail = params.getInt(44);
    sqMask = ring.getInt(params.getInt(48));
    sqArray = params.getInt(64);
    cqHead = params.getInt(80);
    cqTail = params.getInt(84);
    cqMask = ring.getInt(params.getInt(88));
    cqes = params.getInt(100);
  }

  private Pointer map(long length, long offset) throws IOException {
    Pointer address = libc.mmap(null, length, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
    if (address == null || address.address() == -1) {
      int errno = LastError.getLastError(runtime);
      libc.close(fd);
      throw new IOException("mapping an io_uring failed: errno " + errno);
    }
    return address;
  }

  /**
   * The next free submission entry, zeroed, for the caller to fill before the next
   * {@link #submitAndWait}: at most as many as the ring has entries between two of those calls.
   */
  ByteBuffer nextSubmission() {
    int tail = (int) INT.getAcquire(ring, sqTail) + toSubmit;
    int index = tail & sqMask;
    ring.putInt(sqArray + 4 * index, index);
    ByteBuffer sqe = sqes.slice(index * SQE_SIZE, SQE_SIZE).order(ByteOrder.nativeOrder());
    for (int i = 0; i < SQE_SIZE; i += 8) {
      sqe.putLong(i, 0);
    }
    toSubmit++;
    return sqe;
  }

  /**
   * Hands the kernel the entries filled since the last call and waits until at least one
   * completion is there. Returns 0, or a negative errno (EINTR: a signal came; call again).
   */
  int submitAndWait() {
    return enter(1, ENTER_GETEVENTS);
  }

  private int enter(int minComplete, int flags) {
    int tail = (int) INT.getAcquire(ring, sqTail) + toSubmit;
    INT.setRelease(ring, sqTail, tail);
    toSubmit = 0;
    // Everything the kernel has not taken yet, so that entries of a call that failed go with this one.
    int unsubmitted = tail - (int) INT.getAcquire(ring, sqHead);
    long done = libc.syscall(SYS_IO_URING_ENTER, fd, unsubmitted, minComplete, flags, 0, 0);
    return done < 0 ? -LastError.getLastError(runtime) : 0;
  }

  /**
   * Hands the kernel the entries filled since the last call, if any, without waiting; returns 0
   * or a negative errno (the entries then go with the next call).
   */
  int submitPending() {
    return toSubmit == 0 ? 0 : enter(0, 0);
  }

  /** The oldest completion not taken yet, or null. */
  Completion nextCompletion() {
    int head = (int) INT.getAcquire(ring, cqHead);
    if (head == (int) INT.getAcquire(ring, cqTail)) {
      return null;
    }
    int at = cqes + CQE_SIZE * (head & cqMask);
    Completion c = new Completion(ring.getLong(at), ring.getInt(at + 8));
    INT.setRelease(ring, cqHead, head + 1);
    return c;
  }

  @Override
  public void close() {
    libc.munmap(sqesAddress, sqesLength);
    libc.munmap(ringAddress, ringLength);
    libc.close(fd);
  }
}
