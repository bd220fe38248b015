package io.dedupfs.store.crypto;

import java.nio.ByteBuffer;

/** {@link Encryption#NONE}: blobs are stored as they are. */
final class Unencrypted implements Encryption {
  @Override
  public boolean enabled() {
    return false;
  }

  @Override
  public int overhead() {
    return 0;
  }

  @Override
  public int headroom() {
    return 0;
  }

  @Override
  public ByteBuffer seal(ByteBuffer plain, ByteBuffer out, byte[] associatedData) {
    return plain;
  }

  @Override
  public ByteBuffer open(ByteBuffer sealed, ByteBuffer out, byte[] associatedData, String what) {
    return sealed;
  }

  @Override
  public byte[] seal(byte[] plain, byte[] associatedData) {
    return plain;
  }

  @Override
  public byte[] open(byte[] sealed, byte[] associatedData, String what) {
    return sealed;
  }
}
