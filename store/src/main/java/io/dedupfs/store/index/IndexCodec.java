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
  static final int LOCATION_OFFSET_IN_BLOCK = 22;
  static final int LOCATION_OFFSET_SHARE = 26;
  /** A block member's location also says where it starts in its block and its share of it. */
  static final int BLOCK_MEMBER_LOCATION_LENGTH = 30;

  static final int PACK_OFFSET_FILE_LENGTH = 0;
  static final int PACK_OFFSET_CHUNK_COUNT = 8;
  static final int PACK_OFFSET_STORED_BYTES = 12;
  static final int PACK_OFFSET_SEALED_AT = 20;
  static final int PACK_LENGTH = 28;

  private IndexCodec() {}

  static byte[] encodeLocation(ChunkLocation l) {
    ByteBuffer b = ByteBuffer.allocate(l.inBlock() ? BLOCK_MEMBER_LOCATION_LENGTH : LOCATION_LENGTH);
    if (l.inBlock()) {
      b.putInt(LOCATION_OFFSET_IN_BLOCK, l.offsetInBlock()).putInt(LOCATION_OFFSET_SHARE, l.storedShare());
    }
    return b.putLong(LOCATION_OFFSET_PACK, l.pack().value())
        .putInt(LOCATION_OFFSET_OFFSET, l.offset())
        .putInt(LOCATION_OFFSET_STORED, l.storedLength())
        .putInt(LOCATION_OFFSET_PLAIN, l.plainLength())
        .put(LOCATION_OFFSET_KIND, (byte) l.kind().code)
        .put(LOCATION_OFFSET_ENCODING, (byte) l.encoding().code)
        .array();
  }

  static ChunkLocation decodeLocation(byte[] bytes) throws CorruptDataException {
    if (bytes.length != LOCATION_LENGTH && bytes.length != BLOCK_MEMBER_LOCATION_LENGTH) {
      throw new CorruptDataException("index: chunk location has " + bytes.length + " bytes, expected "
          + LOCATION_LENGTH + " or " + BLOCK_MEMBER_LOCATION_LENGTH);
    }
    ByteBuffer v = ByteBuffer.wrap(bytes);
    try {
      ChunkEncoding encoding = ChunkEncoding.fromCode(v.get(LOCATION_OFFSET_ENCODING));
      if ((encoding == ChunkEncoding.BLOCK) != (bytes.length == BLOCK_MEMBER_LOCATION_LENGTH)) {
        throw new CorruptDataException("index: a chunk location of " + bytes.length + " bytes has encoding " + encoding);
      }
      int stored = v.getInt(LOCATION_OFFSET_STORED);
      boolean member = encoding == ChunkEncoding.BLOCK;
      return new ChunkLocation(
          new PackNumber(v.getLong(LOCATION_OFFSET_PACK)),
          v.getInt(LOCATION_OFFSET_OFFSET),
          stored,
          v.getInt(LOCATION_OFFSET_PLAIN),
          ChunkKind.fromCode(v.get(LOCATION_OFFSET_KIND)),
          encoding,
          member ? v.getInt(LOCATION_OFFSET_IN_BLOCK) : 0,
          member ? v.getInt(LOCATION_OFFSET_SHARE) : stored);
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
