package io.dedupfs.store.repo;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.crypto.KdfParameters;
import io.dedupfs.store.crypto.KeyFile;
import io.dedupfs.store.crypto.MasterKeys;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.io.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * The key file of an encrypted repository, {@code REPO/keys/master} (FORMAT.md §12.1). It is
 * read and replaced without the repository lock: the master keys never change, so a mounted
 * process goes on with the keys it unlocked while the passphrase that wraps them changes.
 */
public final class RepositoryKeys {
  static final String KEYS = "keys";
  static final String MASTER_KEY = "master";

  private RepositoryKeys() {}

  static Path fileOf(Path repository) {
    return repository.resolve(KEYS).resolve(MASTER_KEY);
  }

  /** The master keys, unwrapped with the passphrase {@code source} gives. */
  static MasterKeys unlock(Path repository, RepositoryConfig config, PassphraseSource source) throws IOException {
    Path keyFile = fileOf(repository);
    if (!Files.isRegularFile(keyFile)) {
      throw new StoreException("repository " + repository + " is encrypted but its key file " + keyFile + " is missing");
    }
    byte[] bytes = Files.readAllBytes(keyFile);
    char[] passphrase = source.passphrase();
    try {
      return KeyFile.decode(bytes, passphrase, config.repositoryId(), keyFile.toString());
    } finally {
      Arrays.fill(passphrase, '\0');
    }
  }

  static void write(Path repository, MasterKeys keys, char[] passphrase, KdfParameters kdf, RepositoryConfig config)
      throws IOException {
    // Wrapped, but an offline guessing attack needs the file: only its owner may read it.
    Files.createDirectories(repository.resolve(KEYS),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    DurableFiles.writePrivateAtomically(fileOf(repository), KeyFile.encode(keys, passphrase, kdf, config.repositoryId()));
  }

  /**
   * Rewraps the master keys under a new passphrase, asked for once the current one proved right,
   * with a new salt and {@code kdf}. The file is replaced atomically: after a crash the old
   * passphrase or the new one works, never neither.
   */
  public static void changePassphrase(Path repository, PassphraseSource current, PassphraseSource next,
      KdfParameters kdf) throws IOException {
    RepositoryConfig config = Repository.configOf(repository);
    if (!config.encrypted()) {
      throw new StoreException("repository " + repository + " is not encrypted; it has no passphrase");
    }
    MasterKeys keys = unlock(repository, config, current);
    char[] newPassphrase = next.passphrase();
    try {
      write(repository, keys, newPassphrase, kdf, config);
    } finally {
      Arrays.fill(newPassphrase, '\0');
    }
  }
}
