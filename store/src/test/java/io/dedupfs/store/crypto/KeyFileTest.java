package io.dedupfs.store.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.CorruptDataException;
import io.dedupfs.store.FormatVersionException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class KeyFileTest {
  /** Cheap parameters: the derivation's correctness is the known-answer test's business. */
  static final KdfParameters CHEAP = new KdfParameters(64, 1, 1);
  private static final byte[] REPOSITORY = new byte[16];

  @Test
  void wrapsAndUnwrapsTheSameKeys() throws Exception {
    MasterKeys keys = MasterKeys.generate();
    byte[] file = KeyFile.encode(keys, "correct horse".toCharArray(), CHEAP, REPOSITORY);
    assertEquals(KeyFile.LENGTH, file.length);
    MasterKeys back = KeyFile.decode(file, "correct horse".toCharArray(), REPOSITORY, "k");
    assertArrayEquals(keys.concatenated(), back.concatenated());
    assertEquals(keys.gearSeed(), back.gearSeed());
  }

  @Test
  void aWrongPassphraseIsToldApartFromDamage() throws Exception {
    byte[] file = KeyFile.encode(MasterKeys.generate(), "right".toCharArray(), CHEAP, REPOSITORY);
    WrongPassphraseException wrong = assertThrows(WrongPassphraseException.class,
        () -> KeyFile.decode(file, "wrong".toCharArray(), REPOSITORY, "k"));
    assertTrue(wrong.getMessage().contains("wrong passphrase"), wrong.getMessage());
    for (int i = 0; i < file.length; i++) {
      byte[] damaged = file.clone();
      damaged[i] ^= 0x40;
      assertThrows(CorruptDataException.class, () -> KeyFile.decode(damaged, "right".toCharArray(), REPOSITORY, "k"),
          "byte " + i);
    }
  }

  @Test
  void aKeyFileOpensOnlyInItsOwnRepository() throws Exception {
    byte[] file = KeyFile.encode(MasterKeys.generate(), "right".toCharArray(), CHEAP, REPOSITORY);
    byte[] other = REPOSITORY.clone();
    other[0] = 1;
    assertThrows(WrongPassphraseException.class, () -> KeyFile.decode(file, "right".toCharArray(), other, "k"));
  }

  @Test
  void aNewerVersionIsRefusedAsSuch() throws Exception {
    byte[] file = KeyFile.encode(MasterKeys.generate(), "right".toCharArray(), CHEAP, REPOSITORY);
    ByteBuffer.wrap(file).putShort(KeyFile.OFFSET_VERSION, (short) 2);
    CRC32C crc = new CRC32C();
    crc.update(file, 0, KeyFile.OFFSET_CRC);
    ByteBuffer.wrap(file).putInt(KeyFile.OFFSET_CRC, (int) crc.getValue());
    FormatVersionException e = assertThrows(FormatVersionException.class,
        () -> KeyFile.decode(file, "right".toCharArray(), REPOSITORY, "k"));
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());
  }

  @Test
  void rewrappingUsesAFreshSalt() {
    MasterKeys keys = MasterKeys.generate();
    byte[] a = KeyFile.encode(keys, "same".toCharArray(), CHEAP, REPOSITORY);
    byte[] b = KeyFile.encode(keys, "same".toCharArray(), CHEAP, REPOSITORY);
    assertEquals(false, java.util.Arrays.equals(a, b));
  }
}
