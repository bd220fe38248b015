package io.dedupfs.store.index;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.pack.PackNumber;
import java.nio.ByteBuffer;

/** Value layouts of the {@code chunks} and {@code packs} tables (FORMAT.md §6). Stateless. */
final class IndexCodec {
  static final int LOCATION_OFFSET_PACK = 0;
  static final int LOCATION_OFFSET_OFFSET = 8;
  static final int LOCATION_OFFSET_STORED = 12;
  static final int LOCATION_OFFSET_PLAIN = 16;
  static final int LOCATION_OFFSET_KIND = 20;
  static final int LOCATION_OFFSET_ENCODING = 21;
  static final int LOCATION_LENGTH = 22;

  static final int PACK_OFFSET_FILE_LENGTH = 0;
  static final int PACK_OFFSET_CHUNK_COUNT = 8;
  static final int PACK_OFFSET_STORED_BYTES = 12;
  static final int PACK_OFFSET_SEALED_AT = 20;
  static final int PACK_LENGTH = 28;

  private IndexCodec() {}

  static byte[] encodeLocation(ChunkLocation l) {
    return ByteBuffer.allocate(LOCATION_LENGTH)
        .putLong(LOCATION_OFFSET_PACK, l.pack().value())
        .putInt(LOCATION_OFFSET_OFFSET, l.offset())
        .putInt(LOCATION_OFFSET_STORED, l.storedLength())
        .putInt(LOCATION_OFFSET_PLAIN, l.plainLength())
        .put(LOCATION_OFFSET_KIND, (byte) l.kind().code)
        .put(LOCATION_OFFSET_ENCODING, (byte) l.encoding().code)
        .array();
  }

  static ChunkLocation decodeLocation(byte[] bytes) throws CorruptDataException {
    if (bytes.length != LOCATION_LENGTH) {
      throw new CorruptDataException("index: chunk location has " + bytes.length + " bytes, expected " + LOCATION_LENGTH);
    }
    ByteBuffer v = ByteBuffer.wrap(bytes);
    try {
      return new ChunkLocation(
          new PackNumber(v.getLong(LOCATION_OFFSET_PACK)),
          v.getInt(LOCATION_OFFSET_OFFSET),
          v.getInt(LOCATION_OFFSET_STORED),
          v.getInt(LOCATION_OFFSET_PLAIN),
          ChunkKind.fromCode(v.get(LOCATION_OFFSET_KIND)),
          ChunkEncoding.fromCode(v.get(LOCATION_OFFSET_ENCODING)));
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException("index: invalid chunk location: " + e.getMessage(), e);
    }
  }

  static byte[] encodePack(PackRecord r) {
    return ByteBuffer.allocate(PACK_LENGTH)
        .putLong(PACK_OFFSET_FILE_LENGTH, r.fileLength())
        .putInt(PACK_OFFSET_CHUNK_COUNT, r.chunkCount())
        .putLong(PACK_OFFSET_STORED_BYTES, r.storedBytes())
        .putLong(PACK_OFFSET_SEALED_AT, r.sealedAtMillis())
        .array();
  }

  static PackRecord decodePack(byte[] bytes) throws CorruptDataException {
    if (bytes.length != PACK_LENGTH) {
      throw new CorruptDataException("index: pack record has " + bytes.length + " bytes, expected " + PACK_LENGTH);
    }
    ByteBuffer v = ByteBuffer.wrap(bytes);
    return new PackRecord(
        v.getLong(PACK_OFFSET_FILE_LENGTH),
        v.getInt(PACK_OFFSET_CHUNK_COUNT),
        v.getLong(PACK_OFFSET_STORED_BYTES),
        v.getLong(PACK_OFFSET_SEALED_AT));
  }

  static byte[] packKey(PackNumber number) {
    return ByteBuffer.allocate(8).putLong(0, number.value()).array();
  }
}
