package io.dedupfs.fs.fuse;

import java.util.function.LongSupplier;

/**
 * How a request thread waits for the kernel's next request: for a moment after each request it
 * asks {@code /dev/fuse} again and again without sleeping, and only then sleeps until one comes.
 *
 * <p>Why: a program writing into the mount sends its requests one after another, each as soon as
 * the previous one is answered, a few microseconds later. A thread that sleeps in read(2) between
 * them has to be woken for each one, and when its CPU went idle meanwhile that wake-up is an
 * interrupt to another CPU, which on a virtual machine costs more than serving the request (this
 * one's idle vCPUs halt at once). {@code rsync -a} of 78,579 kernel source files into a mount
 * with one request thread, 2 cores, 3 alternating runs each: 44.4 / 46.2 / 48.3 s sleeping, 32.7 /
 * 33.8 / 33.4 s asking for 50 µs first (the filesystem's CPU time 32.5 / 31.9 / 34.2 s against
 * 37.2 / 38.3 / 37.8 s). Windows tried, 2 runs each: 5 µs 41.6 / 44.7 s, 20 µs 30.8 / 30.6 s,
 * 200 µs 30.6 / 32.6 s; 50 µs leaves a margin. An idle mount costs nothing more: after 50 µs
 * without a request the thread sleeps as before.
 *
 * <p>Meant for one request thread: with several, each would spin, and a request would wake every
 * thread sleeping in poll(2), not one as a blocking read does.
 */
final class RequestReceiver {
  /** How long after a request the thread asks again rather than sleeps. */
  static final long SPIN_NANOS = 50_000;

  /** The device's side: a read that does not wait, and a wait until a read would find something. */
  interface Device {
    /** What {@code fuse_session_receive_buf} returns: the request's length, 0 when unmounted, or −errno. */
    int tryReceive();

    /** Sleeps until the device has a request to read, or is gone. */
    void awaitReadable();
  }

  private final Device device;
  private final LongSupplier nanoClock;
  private final int again;
  private long lastServed;

  /** {@code again}: the −errno of a read that found nothing (−EAGAIN). */
  RequestReceiver(Device device, LongSupplier nanoClock, int again) {
    this.device = device;
    this.nanoClock = nanoClock;
    this.again = again;
    this.lastServed = nanoClock.getAsLong();
  }

  /** The next request, as {@link Device#tryReceive} reports it; never "nothing yet". */
  int receive() {
    while (true) {
      int received = device.tryReceive();
      if (received != again) {
        return received;
      }
      if (nanoClock.getAsLong() - lastServed >= SPIN_NANOS) {
        device.awaitReadable();
      }
    }
  }

  /** The request received last has been answered: the moment from which the thread asks again before it sleeps. */
  void served() {
    lastServed = nanoClock.getAsLong();
  }
}
