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
  public static final int FORMAT_VERSION = 1;
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
  public static final int ENTRY_LENGTH = 52;
  static final int INDEX_COUNT_LENGTH = 4;

  static final int TRAILER_OFFSET_DIGEST = 8;
  static final int TRAILER_OFFSET_MAGIC = 40;
  public static final int TRAILER_LENGTH = 48;

  private PackCodec() {}

  public static ByteBuffer encodeHeader(PackNumber number, Encryption encryption) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH);
    b.put(HEADER_MAGIC);
    b.putShort(HEADER_OFFSET_VERSION, (short) FORMAT_VERSION);
    b.putShort(HEADER_OFFSET_FLAGS, (short) (encryption.enabled() ? FLAG_ENCRYPTED : 0));
    b.putLong(HEADER_OFFSET_PACK_NUMBER, number.value());
    return b.clear();
  }

  /**
   * Checks a header's magic, version and flags, which must say encrypted exactly when the
   * repository is, and returns the pack number it names.
   */
  public static PackNumber decodeHeader(ByteBuffer header, Encryption encryption, String what)
      throws FormatVersionException, CorruptDataException {
    byte[] magic = new byte[HEADER_MAGIC.length];
    header.get(0, magic);
    if (!Arrays.equals(magic, HEADER_MAGIC)) {
      // Damage (a torn or zeroed header), not a format this build does not know: repair sets it aside.
      throw new CorruptDataException(what + " is not a dedupfs pack (bad magic)");
    }
    int version = Short.toUnsignedInt(header.getShort(HEADER_OFFSET_VERSION));
    int flags = Short.toUnsignedInt(header.getShort(HEADER_OFFSET_FLAGS));
    if (version != FORMAT_VERSION || (flags & ~FLAG_ENCRYPTED) != 0) {
      throw new FormatVersionException(
          what + " has pack format version " + version + " flags " + flags + "; this dedupfs reads version " + FORMAT_VERSION);
    }
    if (((flags & FLAG_ENCRYPTED) != 0) != encryption.enabled()) {
      // Not damage a crash makes (the header is written once, first): a config replaced, or packs of
      // another repository. Refused like a newer format, so that repair stops instead of setting aside.
      throw new FormatVersionException(what + (encryption.enabled() ? " is not encrypted, but the repository is"
          : " is encrypted, but the repository is not"));
    }
    return new PackNumber(header.getLong(HEADER_OFFSET_PACK_NUMBER));
  }

  public static int indexLength(int entryCount) {
    return INDEX_COUNT_LENGTH + entryCount * ENTRY_LENGTH;
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
      b.position(at + ENTRY_LENGTH);
    }
    return b.array();
  }

  /** Reads the (stored, so maybe sealed) PackIndex length from a trailer, checking its magic. */
  public static int decodeTrailerIndexLength(ByteBuffer trailer, Encryption encryption, String what)
      throws CorruptDataException {
    byte[] magic = new byte[TRAILER_MAGIC.length];
    trailer.get(TRAILER_OFFSET_MAGIC, magic);
    if (!Arrays.equals(magic, TRAILER_MAGIC)) {
      throw new CorruptDataException(what + " has no pack trailer (unsealed or truncated pack)");
    }
    int length = trailer.getInt(0);
    int plain = length - encryption.overhead();
    if (plain < INDEX_COUNT_LENGTH || (plain - INDEX_COUNT_LENGTH) % ENTRY_LENGTH != 0) {
      throw new CorruptDataException(what + " trailer names an impossible index length " + length);
    }
    return length;
  }

  /**
   * Verifies a stored PackIndex against the digest in its trailer, opens it if sealed, decodes it
   * and checks that its entries tile the pack from the header to the index.
   */
  public static List<PackIndexEntry> decodeIndex(ByteBuffer index, ByteBuffer trailer, long packLength,
      PackNumber number, Encryption encryption, String what) throws CorruptDataException {
    byte[] expected = new byte[32];
    trailer.get(TRAILER_OFFSET_DIGEST, expected);
    byte[] storedIndex = new byte[index.remaining()];
    index.duplicate().get(storedIndex);
    if (!MessageDigest.isEqual(expected, sha256(storedIndex, 0, storedIndex.length))) {
      throw new CorruptDataException(what + ": pack index digest mismatch");
    }
    byte[] indexBytes = encryption.open(storedIndex, encodeHeader(number, encryption).array(), what + " index");
    ByteBuffer b = ByteBuffer.wrap(indexBytes);
    int count = b.getInt();
    if (indexLength(count) != indexBytes.length) {
      throw new CorruptDataException(what + ": pack index count " + count + " disagrees with its length");
    }
    List<PackIndexEntry> entries = new ArrayList<>(count);
    long next = HEADER_LENGTH;
    for (int i = 0; i < count; i++) {
      int at = b.position();
      ChunkId id = ChunkId.read(b);
      long offset = b.getLong(at + ENTRY_OFFSET_OFFSET);
      int stored = b.getInt(at + ENTRY_OFFSET_STORED_LENGTH);
      int plain = b.getInt(at + ENTRY_OFFSET_PLAIN_LENGTH);
      if (offset != next || stored < 0 || plain < 0) {
        throw new CorruptDataException(what + ": pack index entry " + i + " (chunk " + id + ") is out of place");
      }
      try {
        entries.add(new PackIndexEntry(id, offset, stored, plain,
            ChunkKind.fromCode(b.get(at + ENTRY_OFFSET_KIND)), ChunkEncoding.fromCode(b.get(at + ENTRY_OFFSET_ENCODING))));
      } catch (IllegalArgumentException e) {
        throw new CorruptDataException(what + ": pack index entry " + i + ": " + e.getMessage(), e);
      }
      next = offset + stored;
      b.position(at + ENTRY_LENGTH);
    }
    if (next + storedIndex.length + TRAILER_LENGTH != packLength) {
      throw new CorruptDataException(what + ": chunks end at " + next + " but the pack index starts at "
          + (packLength - storedIndex.length - TRAILER_LENGTH));
    }
    return entries;
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
