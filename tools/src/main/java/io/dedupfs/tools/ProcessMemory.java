package io.dedupfs.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory figures of this process from /proc/self/status, and a sampler of the peak of RssAnon (the kernel keeps no such peak). */
final class ProcessMemory implements AutoCloseable {
  private static final Path STATUS = Path.of("/proc/self/status");
  private final Thread sampler;
  private volatile long peakRssAnon;
  private volatile boolean running = true;

  ProcessMemory() {
    sampler = new Thread(() -> {
      while (running) {
        peakRssAnon = Math.max(peakRssAnon, field("RssAnon"));
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "dedupfs-rss-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  /** A field of /proc/self/status in bytes, or -1 if unavailable. */
  static long field(String name) {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(name + ":")) {
          String[] parts = line.substring(name.length() + 1).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  long peakRssAnon() {
    return Math.max(peakRssAnon, field("RssAnon"));
  }

  @Override
  public void close() {
    running = false;
    sampler.interrupt();
  }
}
