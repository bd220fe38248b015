package io.dedupfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Asking again without sleeping for a moment after each request, and sleeping once that moment is over. */
class RequestReceiverTest {
  private static final int AGAIN = -11;
  private static final int REQUEST = 80;

  /** A device whose reads return what the test scripted, each read advancing the clock by {@code step}. */
  private static final class ScriptedDevice implements RequestReceiver.Device {
    final Deque<Integer> reads = new ArrayDeque<>();
    final List<String> calls = new ArrayList<>();
    final long step;
    long now;

    ScriptedDevice(long step) {
      this.step = step;
    }

    @Override
    public int tryReceive() {
      now += step;
      int result = reads.isEmpty() ? AGAIN : reads.poll();
      calls.add(result == AGAIN ? "again" : "read " + result);
      return result;
    }

    @Override
    public void awaitReadable() {
      calls.add("sleep");
    }
  }

  @Test
  void aRequestAlreadyWaitingIsReadAtOnce() {
    ScriptedDevice device = new ScriptedDevice(1_000);
    device.reads.add(REQUEST);
    RequestReceiver receiver = new RequestReceiver(device, () -> device.now, AGAIN);

    assertEquals(REQUEST, receiver.receive());
    assertEquals(List.of("read 80"), device.calls);
  }

  @Test
  void withinTheMomentAfterARequestItAsksAgainWithoutSleeping() {
    long step = RequestReceiver.SPIN_NANOS / 10;
    ScriptedDevice device = new ScriptedDevice(step);
    device.reads.addAll(List.of(REQUEST, AGAIN, AGAIN, AGAIN, REQUEST));
    RequestReceiver receiver = new RequestReceiver(device, () -> device.now, AGAIN);

    assertEquals(REQUEST, receiver.receive());
    receiver.served();
    assertEquals(REQUEST, receiver.receive());
    assertEquals(List.of("read 80", "again", "again", "again", "read 80"), device.calls);
  }

  @Test
  void onceTheMomentIsOverItSleepsBeforeEachFurtherRead() {
    long step = RequestReceiver.SPIN_NANOS / 2;
    ScriptedDevice device = new ScriptedDevice(step);
    // Asked half a moment, then a whole moment after it served a request: from then on it sleeps
    // before each read, also after a wake-up that found nothing.
    device.reads.addAll(List.of(AGAIN, AGAIN, AGAIN, REQUEST));
    RequestReceiver receiver = new RequestReceiver(device, () -> device.now, AGAIN);
    receiver.served();

    assertEquals(REQUEST, receiver.receive());
    assertEquals(List.of("again", "again", "sleep", "again", "sleep", "read 80"), device.calls);
  }

  @Test
  void theMomentStartsWhenARequestHasBeenServedNotWhenItCame() {
    long step = RequestReceiver.SPIN_NANOS / 4;
    ScriptedDevice device = new ScriptedDevice(step);
    device.reads.addAll(List.of(REQUEST, AGAIN, REQUEST));
    RequestReceiver receiver = new RequestReceiver(device, () -> device.now, AGAIN);

    assertEquals(REQUEST, receiver.receive());
    device.now += 10 * RequestReceiver.SPIN_NANOS; // serving it took long
    receiver.served();
    assertEquals(REQUEST, receiver.receive());
    assertEquals(List.of("read 80", "again", "read 80"), device.calls);
  }

  @Test
  void unmountAndErrorsAreReturnedAsTheyCame() {
    ScriptedDevice device = new ScriptedDevice(1);
    device.reads.addAll(List.of(0, -4, -103));
    RequestReceiver receiver = new RequestReceiver(device, () -> device.now, AGAIN);

    assertEquals(0, receiver.receive());
    assertEquals(-4, receiver.receive());
    assertEquals(-103, receiver.receive());
    assertEquals(List.of("read 0", "read -4", "read -103"), device.calls);
  }
}
