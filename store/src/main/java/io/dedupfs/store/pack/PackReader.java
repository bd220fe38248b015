package io.dedupfs.store.pack;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.crypto.Encryption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Reads what a sealed pack says about itself: its header and PackIndex (FORMAT.md §5). */
public final class PackReader {
  private PackReader() {}

  /** The verified PackIndex of a sealed pack. */
  public static List<PackIndexEntry> readIndex(PackStorage storage, PackNumber number, Encryption encryption)
      throws IOException, CorruptDataException, FormatVersionException {
    String what = "pack " + number;
    long size = storage.size(number);
    if (size < PackCodec.HEADER_LENGTH + PackCodec.indexLength(0) + encryption.overhead() + PackCodec.TRAILER_LENGTH) {
      throw new CorruptDataException(what + " is too short to be sealed (" + size + " bytes)");
    }
    ByteBuffer header = ByteBuffer.allocate(PackCodec.HEADER_LENGTH);
    storage.read(number, 0, header);
    PackCodec.Header named = PackCodec.decodeHeader(header, encryption, what);
    if (!named.number().equals(number)) {
      throw new CorruptDataException(what + " names itself pack " + named.number());
    }
    ByteBuffer trailer = ByteBuffer.allocate(PackCodec.TRAILER_LENGTH);
    storage.read(number, size - PackCodec.TRAILER_LENGTH, trailer);
    int indexLength = PackCodec.decodeTrailerIndexLength(trailer, named, encryption, what);
    long indexOffset = size - PackCodec.TRAILER_LENGTH - indexLength;
    if (indexOffset < PackCodec.HEADER_LENGTH) {
      throw new CorruptDataException(what + " trailer names an index longer than the pack");
    }
    ByteBuffer index = ByteBuffer.allocate(indexLength);
    storage.read(number, indexOffset, index);
    return PackCodec.decodeIndex(index.flip(), trailer, size, named, encryption, what);
  }
}
