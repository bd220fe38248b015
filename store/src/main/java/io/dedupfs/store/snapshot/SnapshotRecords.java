package io.dedupfs.store.snapshot;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.io.DurableFiles;
import io.dedupfs.store.namespace.Name;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The snapshot records of a repository, {@code REPO/snapshots/NNNNNNNNNNNNNNNN} (FORMAT.md §10.2),
 * read once when opened and kept in memory: the process holding the repository lock is their only
 * writer. Thread-safe.
 */
final class SnapshotRecords {
  static final byte[] MAGIC = "DDFSSNAP".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  /** Flag bit 0: everything between the header and the CRC is sealed (FORMAT.md §12.2). */
  static final int FLAG_SEALED = 1;
  static final int HEADER_LENGTH = 16;
  private static final Pattern FILE_NAME = Pattern.compile("[0-9a-f]{16}");

  private final Path directory;
  private final Encryption encryption;
  private final Map<Long, SnapshotRecord> byNumber = new ConcurrentHashMap<>();

  private SnapshotRecords(Path directory, Encryption encryption) {
    this.directory = directory;
    this.encryption = encryption;
  }

  /** Reads every record in {@code directory}, creating it if missing. */
  static SnapshotRecords open(Path directory, Encryption encryption) throws IOException {
    Files.createDirectories(directory);
    SnapshotRecords records = new SnapshotRecords(directory, encryption);
    try (Stream<Path> files = Files.list(directory)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (FILE_NAME.matcher(f.getFileName().toString()).matches()) {
          long number = HexFormat.fromHexDigitsToLong(f.getFileName().toString());
          SnapshotRecord r = decode(f, number, Files.readAllBytes(f), encryption);
          records.byNumber.put(r.number(), r);
        }
      }
    }
    return records;
  }

  List<SnapshotRecord> all() {
    List<SnapshotRecord> out = new ArrayList<>(byNumber.values());
    out.sort(Comparator.comparingLong(SnapshotRecord::number));
    return out;
  }

  Optional<SnapshotRecord> find(Name name) {
    return byNumber.values().stream().filter(r -> r.name().equals(name)).findFirst();
  }

  long highestNumber() {
    return byNumber.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
  }

  /** Writes a new record, or replaces the one with its number. */
  void write(SnapshotRecord r) throws IOException {
    DurableFiles.writeAtomically(fileOf(r.number()), encode(r, encryption));
    byNumber.put(r.number(), r);
  }

  void delete(SnapshotRecord r) throws IOException {
    DurableFiles.delete(fileOf(r.number()));
    byNumber.remove(r.number());
  }

  private Path fileOf(long number) {
    return directory.resolve(HexFormat.of().toHexDigits(number));
  }

  static byte[] encode(SnapshotRecord r, Encryption encryption) {
    byte[] name = r.name().bytes();
    byte[] root = TreeCodec.encodeEntry(r.root());
    ByteBuffer body = ByteBuffer.allocate(40 + 1 + name.length + root.length);
    body.putLong(r.number()).putLong(r.createdNanos()).putLong(r.bytes()).putLong(r.files()).putLong(r.directories());
    body.put((byte) name.length).put(name).put(root);
    byte[] header = header(encryption.enabled() ? FLAG_SEALED : 0);
    byte[] stored = encryption.seal(body.array(), associatedData(header, r.number()));
    ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + stored.length + 4);
    b.put(header).put(stored);
    b.putInt(crc(b.array(), b.position()));
    return b.array();
  }

  /** The header and the record's number: a sealed body opens only in the record file of its number. */
  private static byte[] associatedData(byte[] header, long number) {
    return ByteBuffer.allocate(header.length + 8).put(header).putLong(number).array();
  }

  private static byte[] header(int flags) {
    return ByteBuffer.allocate(HEADER_LENGTH).put(MAGIC).putShort((short) VERSION).putShort((short) flags).putInt(0).array();
  }

  /** Decodes the record in {@code file}, whose name says it is record {@code number}. */
  static SnapshotRecord decode(Path file, long number, byte[] bytes, Encryption encryption) throws IOException {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      byte[] magic = new byte[MAGIC.length];
      b.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new CorruptDataException(file + ": not a snapshot record (bad magic)");
      }
      // The checksum first: a damaged version or flags field is corruption, not a newer format.
      if (bytes.length < HEADER_LENGTH + 4 || b.getInt(bytes.length - 4) != crc(bytes, bytes.length - 4)) {
        throw new CorruptDataException(file + ": snapshot record checksum mismatch");
      }
      int version = b.getShort() & 0xffff;
      if (version != VERSION) {
        throw new FormatVersionException(file + ": snapshot record version " + version
            + " is not supported (this dedupfs reads " + VERSION + ")");
      }
      int flags = b.getShort() & 0xffff;
      if ((flags & ~FLAG_SEALED) != 0) {
        throw new FormatVersionException(file + ": snapshot record has flags this dedupfs does not know");
      }
      if (((flags & FLAG_SEALED) != 0) != encryption.enabled()) {
        throw new CorruptDataException(file + (encryption.enabled() ? ": snapshot record is not encrypted, but the "
            + "repository is" : ": snapshot record is encrypted, but the repository is not"));
      }
      byte[] stored = Arrays.copyOfRange(bytes, HEADER_LENGTH, bytes.length - 4);
      b = ByteBuffer.wrap(encryption.open(stored, associatedData(Arrays.copyOf(bytes, HEADER_LENGTH), number),
          file.toString()));
      long recorded = b.getLong();
      if (recorded != number) {
        throw new CorruptDataException(file + ": holds snapshot record " + recorded + ", not " + number);
      }
      long created = b.getLong();
      long size = b.getLong();
      long files = b.getLong();
      long directories = b.getLong();
      byte[] name = new byte[b.get() & 0xff];
      b.get(name);
      TreeEntry root = TreeCodec.decodeEntry(b);
      return new SnapshotRecord(number, Name.of(name), created, size, files, directories, root);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new CorruptDataException(file + ": snapshot record is malformed: " + e.getMessage(), e);
    }
  }

  private static int crc(byte[] bytes, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, length);
    return (int) crc.getValue();
  }
}
