package io.dedupfs.store.pack;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.chunk.ChunkEncoding;
import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.crypto.Encryption;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Byte layouts of a pack's header, PackIndex and trailer (FORMAT.md §5). Stateless. */
public final class PackCodec {
  /** The version written; version 1 (no blocks, shorter entries) is read too. */
  public static final int FORMAT_VERSION = 2;
  static final int FIRST_VERSION = 1;
  static final byte[] HEADER_MAGIC = "DDFSPACK".getBytes(StandardCharsets.US_ASCII);
  static final byte[] TRAILER_MAGIC = "DDFSPEND".getBytes(StandardCharsets.US_ASCII);

  static final int HEADER_OFFSET_VERSION = 8;
  static final int HEADER_OFFSET_FLAGS = 10;
  static final int HEADER_OFFSET_PACK_NUMBER = 16;
  public static final int HEADER_LENGTH = 24;
  /** Header flag bit 0: the stored chunks and the PackIndex are sealed (FORMAT.md §12.2). */
  static final int FLAG_ENCRYPTED = 1;

  static final int ENTRY_OFFSET_OFFSET = 32;
  static final int ENTRY_OFFSET_STORED_LENGTH = 40;
  static final int ENTRY_OFFSET_PLAIN_LENGTH = 44;
  static final int ENTRY_OFFSET_KIND = 48;
  static final int ENTRY_OFFSET_ENCODING = 49;
  static final int ENTRY_OFFSET_IN_BLOCK = 52;
  static final int ENTRY_OFFSET_SHARE = 56;
  /** A version-2 entry; a version-1 entry ends before the offset in block, at 52. */
  public static final int ENTRY_LENGTH = 60;
  static final int ENTRY_LENGTH_V1 = 52;
  static final int INDEX_COUNT_LENGTH = 4;

  static final int TRAILER_OFFSET_DIGEST = 8;
  static final int TRAILER_OFFSET_MAGIC = 40;
  public static final int TRAILER_LENGTH = 48;

  /** A decoded block is at most this long (FORMAT.md §5.1). */
  public static final int BLOCK_MAX_PLAIN = 16 << 20;
  private static final byte[] BLOCK_ASSOCIATED_DATA = "dedupfs block".getBytes(StandardCharsets.US_ASCII);

  private PackCodec() {}

  /** What a block is sealed with (FORMAT.md §12.2): nothing names a block but where it lies. */
  public static byte[] blockAssociatedData() {
    return BLOCK_ASSOCIATED_DATA.clone();
  }

  public static ByteBuffer encodeHeader(PackNumber number, Encryption encryption) {
    return encodeHeader(number, FORMAT_VERSION, encryption);
  }

  private static ByteBuffer encodeHeader(PackNumber number, int version, Encryption encryption) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH);
    b.put(HEADER_MAGIC);
    b.putShort(HEADER_OFFSET_VERSION, (short) version);
    b.putShort(HEADER_OFFSET_FLAGS, (short) (encryption.enabled() ? FLAG_ENCRYPTED : 0));
    b.putLong(HEADER_OFFSET_PACK_NUMBER, number.value());
    return b.clear();
  }

  /** What a pack's header says: its number and format version. */
  public record Header(PackNumber number, int version) {}

  /**
   * Checks a header's magic, version and flags, which must say encrypted exactly when the
   * repository is, and returns the pack number and version it names.
   */
  public static Header decodeHeader(ByteBuffer header, Encryption encryption, String what)
      throws FormatVersionException, CorruptDataException {
    byte[] magic = new byte[HEADER_MAGIC.length];
    header.get(0, magic);
    if (!Arrays.equals(magic, HEADER_MAGIC)) {
      // Damage (a torn or zeroed header), not a format this build does not know: repair sets it aside.
      throw new CorruptDataException(what + " is not a dedupfs pack (bad magic)");
    }
    int version = Short.toUnsignedInt(header.getShort(HEADER_OFFSET_VERSION));
    int flags = Short.toUnsignedInt(header.getShort(HEADER_OFFSET_FLAGS));
    if (version < FIRST_VERSION || version > FORMAT_VERSION || (flags & ~FLAG_ENCRYPTED) != 0) {
      throw new FormatVersionException(what + " has pack format version " + version + " flags " + flags
          + "; this dedupfs reads versions " + FIRST_VERSION + " to " + FORMAT_VERSION);
    }
    if (((flags & FLAG_ENCRYPTED) != 0) != encryption.enabled()) {
      // Not damage a crash makes (the header is written once, first): a config replaced, or packs of
      // another repository. Refused like a newer format, so that repair stops instead of setting aside.
      throw new FormatVersionException(what + (encryption.enabled() ? " is not encrypted, but the repository is"
          : " is encrypted, but the repository is not"));
    }
    return new Header(new PackNumber(header.getLong(HEADER_OFFSET_PACK_NUMBER)), version);
  }

  /** The length of a PackIndex (as written now) of {@code entryCount} entries, before sealing. */
  public static int indexLength(int entryCount) {
    return indexLength(entryCount, FORMAT_VERSION);
  }

  private static int indexLength(int entryCount, int version) {
    return INDEX_COUNT_LENGTH + entryCount * entryLength(version);
  }

  private static int entryLength(int version) {
    return version == FIRST_VERSION ? ENTRY_LENGTH_V1 : ENTRY_LENGTH;
  }

  /**
   * Encodes a PackIndex, sealed with the pack's header as associated data (so it cannot be moved
   * to another pack), followed by its trailer, ready to append to the pack.
   */
  public static ByteBuffer encodeIndexAndTrailer(List<PackIndexEntry> entries, PackNumber number, Encryption encryption) {
    byte[] plain = encodeIndex(entries);
    byte[] index = encryption.seal(plain, encodeHeader(number, encryption).array());
    int indexLength = index.length;
    ByteBuffer b = ByteBuffer.allocate(indexLength + TRAILER_LENGTH);
    b.put(index);
    int trailer = b.position();
    b.putInt(indexLength);
    b.putInt(0);
    b.put(sha256(b.array(), 0, indexLength));
    b.put(TRAILER_MAGIC);
    if (b.position() != trailer + TRAILER_LENGTH) {
      throw new IllegalStateException("trailer layout");
    }
    return b.flip();
  }

  private static byte[] encodeIndex(List<PackIndexEntry> entries) {
    ByteBuffer b = ByteBuffer.allocate(indexLength(entries.size()));
    b.putInt(entries.size());
    for (PackIndexEntry e : entries) {
      int at = b.position();
      e.id().writeTo(b);
      b.putLong(at + ENTRY_OFFSET_OFFSET, e.offset());
      b.putInt(at + ENTRY_OFFSET_STORED_LENGTH, e.storedLength());
      b.putInt(at + ENTRY_OFFSET_PLAIN_LENGTH, e.plainLength());
      b.put(at + ENTRY_OFFSET_KIND, (byte) e.kind().code);
      b.put(at + ENTRY_OFFSET_ENCODING, (byte) e.encoding().code);
      b.putInt(at + ENTRY_OFFSET_IN_BLOCK, e.offsetInBlock());
      b.putInt(at + ENTRY_OFFSET_SHARE, e.storedShare());
      b.position(at + ENTRY_LENGTH);
    }
    return b.array();
  }

  /** Reads the (stored, so maybe sealed) PackIndex length from a trailer, checking its magic. */
  public static int decodeTrailerIndexLength(ByteBuffer trailer, Header header, Encryption encryption, String what)
      throws CorruptDataException {
    byte[] magic = new byte[TRAILER_MAGIC.length];
    trailer.get(TRAILER_OFFSET_MAGIC, magic);
    if (!Arrays.equals(magic, TRAILER_MAGIC)) {
      throw new CorruptDataException(what + " has no pack trailer (unsealed or truncated pack)");
    }
    int length = trailer.getInt(0);
    int plain = length - encryption.overhead();
    if (plain < INDEX_COUNT_LENGTH || (plain - INDEX_COUNT_LENGTH) % entryLength(header.version()) != 0) {
      throw new CorruptDataException(what + " trailer names an impossible index length " + length);
    }
    return length;
  }

  /**
   * Verifies a stored PackIndex against the digest in its trailer, opens it if sealed, decodes it
   * and checks that its entries tile the pack from the header to the index (a block's members
   * one after another in it, their shares adding up to it; FORMAT.md §5.1).
   */
  public static List<PackIndexEntry> decodeIndex(ByteBuffer index, ByteBuffer trailer, long packLength,
      Header header, Encryption encryption, String what) throws CorruptDataException {
    PackNumber number = header.number();
    int version = header.version();
    byte[] expected = new byte[32];
    trailer.get(TRAILER_OFFSET_DIGEST, expected);
    byte[] storedIndex = new byte[index.remaining()];
    index.duplicate().get(storedIndex);
    if (!MessageDigest.isEqual(expected, sha256(storedIndex, 0, storedIndex.length))) {
      throw new CorruptDataException(what + ": pack index digest mismatch");
    }
    byte[] indexBytes = encryption.open(storedIndex, encodeHeader(number, version, encryption).array(), what + " index");
    ByteBuffer b = ByteBuffer.wrap(indexBytes);
    int count = b.getInt();
    if (indexLength(count, version) != indexBytes.length) {
      throw new CorruptDataException(what + ": pack index count " + count + " disagrees with its length");
    }
    List<PackIndexEntry> entries = new ArrayList<>(count);
    BlockTiling tiling = new BlockTiling(what);
    for (int i = 0; i < count; i++) {
      int at = b.position();
      ChunkId id = ChunkId.read(b);
      PackIndexEntry entry;
      try {
        ChunkEncoding encoding = ChunkEncoding.fromCode(b.get(at + ENTRY_OFFSET_ENCODING));
        int stored = b.getInt(at + ENTRY_OFFSET_STORED_LENGTH);
        boolean v1 = version == FIRST_VERSION;
        if (v1 && encoding == ChunkEncoding.BLOCK) {
          throw new IllegalArgumentException("a version-1 pack has no blocks");
        }
        entry = new PackIndexEntry(id, b.getLong(at + ENTRY_OFFSET_OFFSET), stored,
            b.getInt(at + ENTRY_OFFSET_PLAIN_LENGTH), ChunkKind.fromCode(b.get(at + ENTRY_OFFSET_KIND)), encoding,
            v1 ? 0 : b.getInt(at + ENTRY_OFFSET_IN_BLOCK), v1 ? stored : b.getInt(at + ENTRY_OFFSET_SHARE));
      } catch (IllegalArgumentException e) {
        throw new CorruptDataException(what + ": pack index entry " + i + " (chunk " + id + "): " + e.getMessage(), e);
      }
      tiling.add(i, entry);
      entries.add(entry);
      b.position(at + entryLength(version));
    }
    long next = tiling.end();
    if (next + storedIndex.length + TRAILER_LENGTH != packLength) {
      throw new CorruptDataException(what + ": chunks end at " + next + " but the pack index starts at "
          + (packLength - storedIndex.length - TRAILER_LENGTH));
    }
    return entries;
  }

  /**
   * Checks, entry by entry, that stored chunks follow each other from the header on and that a
   * block's members tile its plaintext from 0, its shares adding up to its stored length.
   */
  private static final class BlockTiling {
    private final String what;
    private long next = HEADER_LENGTH;
    private PackIndexEntry block;
    private int members;
    private long blockPlainEnd;
    private long blockShares;

    BlockTiling(String what) {
      this.what = what;
    }

    void add(int i, PackIndexEntry e) throws CorruptDataException {
      boolean sameBlock = block != null && e.encoding() == ChunkEncoding.BLOCK && e.offset() == block.offset();
      if (sameBlock) {
        if (e.storedLength() != block.storedLength() || e.offsetInBlock() != blockPlainEnd) {
          throw outOfPlace(i, e);
        }
        members++;
      } else {
        endBlock();
        if (e.offset() != next || (e.encoding() == ChunkEncoding.BLOCK && e.offsetInBlock() != 0)) {
          throw outOfPlace(i, e);
        }
        next = e.offset() + e.storedLength();
        block = e.encoding() == ChunkEncoding.BLOCK ? e : null;
        members = 1;
        blockPlainEnd = 0;
        blockShares = 0;
      }
      blockPlainEnd += e.plainLength();
      blockShares += e.storedShare();
    }

    long end() throws CorruptDataException {
      endBlock();
      return next;
    }

    private void endBlock() throws CorruptDataException {
      if (block != null && (members < 2 || blockShares != block.storedLength())) {
        throw new CorruptDataException(what + ": the block at " + block.offset() + " has " + members
            + " members whose shares add up to " + blockShares + " of its " + block.storedLength() + " bytes");
      }
      block = null;
    }

    private CorruptDataException outOfPlace(int i, PackIndexEntry e) {
      return new CorruptDataException(what + ": pack index entry " + i + " (chunk " + e.id() + ") is out of place");
    }
  }

  private static byte[] sha256(byte[] bytes, int from, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(bytes, from, length);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
