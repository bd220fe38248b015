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

  static void encodeLocation(ChunkLocation l, ByteBuffer dst) {
    dst.putLong(LOCATION_OFFSET_PACK, l.pack().value());
    dst.putInt(LOCATION_OFFSET_OFFSET, l.offset());
    dst.putInt(LOCATION_OFFSET_STORED, l.storedLength());
    dst.putInt(LOCATION_OFFSET_PLAIN, l.plainLength());
    dst.put(LOCATION_OFFSET_KIND, (byte) l.kind().code);
    dst.put(LOCATION_OFFSET_ENCODING, (byte) l.encoding().code);
    dst.limit(LOCATION_LENGTH).position(0);
  }

  static ChunkLocation decodeLocation(ByteBuffer v) throws CorruptDataException {
    if (v.remaining() != LOCATION_LENGTH) {
      throw new CorruptDataException("index: chunk location has " + v.remaining() + " bytes, expected " + LOCATION_LENGTH);
    }
    int p = v.position();
    try {
      return new ChunkLocation(
          new PackNumber(v.getLong(p + LOCATION_OFFSET_PACK)),
          v.getInt(p + LOCATION_OFFSET_OFFSET),
          v.getInt(p + LOCATION_OFFSET_STORED),
          v.getInt(p + LOCATION_OFFSET_PLAIN),
          ChunkKind.fromCode(v.get(p + LOCATION_OFFSET_KIND)),
          ChunkEncoding.fromCode(v.get(p + LOCATION_OFFSET_ENCODING)));
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException("index: invalid chunk location: " + e.getMessage(), e);
    }
  }

  static void encodePack(PackRecord r, ByteBuffer dst) {
    dst.putLong(PACK_OFFSET_FILE_LENGTH, r.fileLength());
    dst.putInt(PACK_OFFSET_CHUNK_COUNT, r.chunkCount());
    dst.putLong(PACK_OFFSET_STORED_BYTES, r.storedBytes());
    dst.putLong(PACK_OFFSET_SEALED_AT, r.sealedAtMillis());
    dst.limit(PACK_LENGTH).position(0);
  }

  static PackRecord decodePack(ByteBuffer v) throws CorruptDataException {
    if (v.remaining() != PACK_LENGTH) {
      throw new CorruptDataException("index: pack record has " + v.remaining() + " bytes, expected " + PACK_LENGTH);
    }
    int p = v.position();
    return new PackRecord(
        v.getLong(p + PACK_OFFSET_FILE_LENGTH),
        v.getInt(p + PACK_OFFSET_CHUNK_COUNT),
        v.getLong(p + PACK_OFFSET_STORED_BYTES),
        v.getLong(p + PACK_OFFSET_SEALED_AT));
  }
}
