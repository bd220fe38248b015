package io.dedupfs.store.pack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where pack files live. Small on purpose so that an object-storage backend can follow: a pack
 * is written once through a {@link PackOutput}, then only read by range, listed or deleted whole.
 * Implementations are thread-safe.
 */
public interface PackStorage {
  /** Starts a new pack; fails if a pack of that number exists. */
  PackOutput create(PackNumber number) throws IOException;

  /**
   * Reads {@code dst.remaining()} bytes of the pack from {@code offset}. Packs still being
   * written can be read up to what was written.
   */
  void read(PackNumber number, long offset, ByteBuffer dst) throws IOException;

  /** The pack's length in bytes. */
  long size(PackNumber number) throws IOException;

  /** Every pack present, sealed or not, in increasing number order. */
  List<PackNumber> list() throws IOException;

  void delete(PackNumber number) throws IOException;

  /**
   * Moves a pack that cannot be read as sealed out of the storage, where nothing lists, reads or
   * deletes it but a person may still look at it; returns where it went. A storage with no such
   * place (the default) refuses: a pack is never deleted for being unreadable.
   */
  default String setAside(PackNumber number) throws IOException {
    throw new IOException("this pack storage has no place to set pack " + number + " aside");
  }

  /** A pack being written: append-only, made durable once by {@link #seal()}. */
  interface PackOutput extends AutoCloseable {
    void write(ByteBuffer src) throws IOException;

    /** Bytes written so far. */
    long position();

    /** Makes everything written durable (file and its name) and ends writing. */
    void seal() throws IOException;

    /** Ends writing without making anything durable; the partial pack stays for the collector. */
    @Override
    void close() throws IOException;
  }
}
