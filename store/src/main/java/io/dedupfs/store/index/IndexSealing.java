package io.dedupfs.store.index;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.crypto.HmacSha256;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;

/**
 * How the live tree's tables are kept in an encrypted repository (FORMAT.md §12.4): their values
 * sealed, and the names in the keys of {@code dirents} and {@code xattrs} replaced by a keyed
 * token, the name itself moving into the sealed value. {@link IndexTransaction} applies it, so
 * the namespace code reads and writes names as ever. Plain repositories use {@link #NONE}.
 * Thread-safe.
 */
public final class IndexSealing {
  public static final IndexSealing NONE = new IndexSealing(Encryption.NONE, null);

  /** Keys of these tables are an 8-byte inode number followed by a name. */
  private static final Set<Table> NAMED = EnumSet.of(Table.DIRENTS, Table.XATTRS);
  private static final Set<Table> SEALED =
      EnumSet.of(Table.INODES, Table.DIRENTS, Table.SYMLINKS, Table.XATTRS, Table.EXTENTS, Table.TREES);
  private static final int NAME_AT = 8;
  public static final int TOKEN_LENGTH = 16;

  /** Each table's name as bytes, computed once: tokens and associated data need it on every index access. */
  private static final Map<Table, byte[]> TABLE_NAMES = new EnumMap<>(Table.class);

  static {
    for (Table t : Table.values()) {
      TABLE_NAMES.put(t, t.dbName.getBytes(StandardCharsets.US_ASCII));
    }
  }

  private final Encryption encryption;
  private final ThreadLocal<Mac> macs;

  private IndexSealing(Encryption encryption, byte[] nameKey) {
    this.encryption = encryption;
    this.macs = nameKey == null ? null : ThreadLocal.withInitial(() -> HmacSha256.keyed(nameKey));
  }

  /** Sealing with {@code encryption}, names tokenized with {@code nameKey}. */
  public static IndexSealing of(Encryption encryption, byte[] nameKey) {
    return new IndexSealing(encryption, nameKey.clone());
  }

  /** Whether any table is kept differently from a plain repository's. */
  boolean sealsAnything() {
    return encryption.enabled();
  }

  private boolean hidesNames(Table table) {
    return macs != null && NAMED.contains(table);
  }

  private boolean seals(Table table) {
    return encryption.enabled() && SEALED.contains(table);
  }

  /** The key as stored: a named table's name replaced by its token. */
  byte[] storedKey(Table table, byte[] key) {
    if (!hidesNames(table) || key.length <= NAME_AT) {
      return key;
    }
    byte[] stored = Arrays.copyOf(key, NAME_AT + TOKEN_LENGTH);
    System.arraycopy(token(table, key, NAME_AT), 0, stored, NAME_AT, TOKEN_LENGTH);
    return stored;
  }

  /** The value as stored under {@code storedKey}: sealed, with the name of a named table's key inside. */
  byte[] storedValue(Table table, byte[] storedKey, byte[] key, byte[] value) {
    if (!seals(table)) {
      return value;
    }
    byte[] plain = value;
    if (hidesNames(table)) {
      int nameLength = key.length - NAME_AT;
      plain = ByteBuffer.allocate(1 + nameLength + value.length)
          .put((byte) nameLength).put(key, NAME_AT, nameLength).put(value).array();
    }
    return encryption.seal(plain, associatedData(table, storedKey));
  }

  /** The entry as the namespace wrote it, from the stored one. */
  IndexTransaction.Entry open(Table table, byte[] storedKey, byte[] storedValue) {
    if (!seals(table)) {
      return new IndexTransaction.Entry(storedKey, storedValue);
    }
    try {
      byte[] plain = encryption.open(storedValue, associatedData(table, storedKey), "index table " + table);
      if (!hidesNames(table)) {
        return new IndexTransaction.Entry(storedKey, plain);
      }
      int nameLength = plain[0] & 0xff;
      byte[] key = Arrays.copyOf(storedKey, NAME_AT + nameLength);
      System.arraycopy(plain, 1, key, NAME_AT, nameLength);
      return new IndexTransaction.Entry(key, Arrays.copyOfRange(plain, 1 + nameLength, plain.length));
    } catch (CorruptDataException | IndexOutOfBoundsException e) {
      // The index is local state and its damage is not a user's input: fail loudly.
      throw new IllegalStateException("index table " + table + " holds a damaged entry (" + e.getMessage()
          + "); move REPO/index aside, then run dedupfs check --repair to rebuild it", e);
    }
  }

  /**
   * The byte string a directory's entries are ordered by, in the live tree's {@code dirents} and
   * in snapshot trees alike (FORMAT.md §10.1): the name itself, or its token followed by the name.
   */
  public byte[] entryOrderKey(byte[] name) {
    if (!hidesNames(Table.DIRENTS)) {
      return name;
    }
    byte[] key = Arrays.copyOf(token(Table.DIRENTS, name, 0), TOKEN_LENGTH + name.length);
    System.arraycopy(name, 0, key, TOKEN_LENGTH, name.length);
    return key;
  }

  /** HMAC-SHA256(name key, table name || 0 || name), first 16 bytes. */
  private byte[] token(Table table, byte[] bytes, int from) {
    Mac mac = macs.get();
    mac.update(TABLE_NAMES.get(table));
    mac.update((byte) 0);
    mac.update(bytes, from, bytes.length - from);
    return Arrays.copyOf(mac.doFinal(), TOKEN_LENGTH);
  }

  private static byte[] associatedData(Table table, byte[] storedKey) {
    byte[] name = TABLE_NAMES.get(table);
    byte[] aad = Arrays.copyOf(name, name.length + 1 + storedKey.length);
    System.arraycopy(storedKey, 0, aad, name.length + 1, storedKey.length);
    return aad;
  }
}
