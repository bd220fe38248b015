package io.dedupfs.store.repo;

import io.dedupfs.store.StoreException;
import io.dedupfs.store.chunk.ChunkIdScheme;
import io.dedupfs.store.crypto.AesGcmEncryption;
import io.dedupfs.store.crypto.Encryption;
import io.dedupfs.store.crypto.KdfParameters;
import io.dedupfs.store.crypto.MasterKeys;
import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.index.ChunkIndex;
import io.dedupfs.store.index.IndexSealing;
import io.dedupfs.store.io.DurableFiles;
import io.dedupfs.store.io.FileTrees;
import io.dedupfs.store.pack.LocalPackStorage;
import io.dedupfs.store.pack.PackStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open repository (FORMAT.md §2): its config, pack storage and index, held under the
 * repository's exclusive lock until closed.
 */
public final class Repository implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Repository.class);
  static final String CONFIG = "config";
  static final String LOCK = "lock";
  static final String PACKS = "packs";
  static final String INDEX = "index";

  private final Path path;
  private final RepositoryConfig config;
  private final Optional<MasterKeys> keys;
  private final Encryption encryption;
  private final RepositoryLock lock;
  private final PackStorage packs;
  private final ChunkIndex index;
  private int formatVersion;
  private boolean closed;

  private Repository(Path path, RepositoryConfig config, int formatVersion, Optional<MasterKeys> keys,
      RepositoryLock lock, PackStorage packs, ChunkIndex index) {
    this.path = path;
    this.formatVersion = formatVersion;
    this.config = config;
    this.keys = keys;
    this.encryption = keys.<Encryption>map(MasterKeys::encryption).orElse(Encryption.NONE);
    this.lock = lock;
    this.packs = packs;
    this.index = index;
    if (encryption instanceof AesGcmEncryption aes) {
      // Here, not in the background: ingest that raced a background warm-up still spent twice
      // the AES time of a warm JIT (bench ingest of /usr/lib: encrypt stage 2.7 s against 1.2 s).
      aes.warmUp();
    }
  }

  /**
   * Options for opening: the LMDB map size (tests use a tiny one to exercise a full index), where
   * the passphrase of an encrypted repository comes from, and the key derivation a new key file
   * gets (tests use a cheap one).
   */
  public record OpenOptions(long indexMapSize, PassphraseSource passphrase, KdfParameters kdf) {
    public static final OpenOptions DEFAULT =
        new OpenOptions(ChunkIndex.DEFAULT_MAP_SIZE, PassphraseSource.NONE, KdfParameters.DEFAULT);

    public OpenOptions withPassphrase(PassphraseSource source) {
      return new OpenOptions(indexMapSize, source, kdf);
    }
  }

  /** Creates a repository in {@code path}, which must not exist or be an empty directory. */
  public static Repository init(Path path, RepositoryConfig config, OpenOptions options) throws IOException {
    if (Files.exists(path)) {
      if (!Files.isDirectory(path)) {
        throw new StoreException(path + " exists and is not a directory");
      }
      try (var entries = Files.list(path)) {
        if (entries.findAny().isPresent()) {
          throw new StoreException(path + " is not empty; a repository is created in a new or empty directory");
        }
      }
    }
    // Asked before anything is created, so that a refused prompt leaves nothing behind.
    Optional<MasterKeys> keys = Optional.empty();
    char[] passphrase = config.encrypted() ? options.passphrase().passphrase() : null;
    Files.createDirectories(path);
    RepositoryLock lock = RepositoryLock.acquire(path.resolve(LOCK));
    try {
      if (passphrase != null) {
        keys = Optional.of(MasterKeys.generate());
        RepositoryKeys.write(path, keys.get(), passphrase, options.kdf(), config);
        Arrays.fill(passphrase, '\0');
      }
      Files.createDirectories(path.resolve(PACKS));
      ChunkIndex index = ChunkIndex.create(path.resolve(INDEX), config.repositoryId(), options.indexMapSize(),
          sealingOf(keys));
      // The config goes last: a directory without one is not a repository, so a failed init is not mistaken for one.
      DurableFiles.writeAtomically(path.resolve(CONFIG), ConfigCodec.encode(config));
      return new Repository(path, config, RepositoryConfig.FORMAT_VERSION, keys, lock,
          new LocalPackStorage(path.resolve(PACKS)), index);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  public static Repository open(Path path, OpenOptions options) throws IOException {
    return open(path, options, false);
  }

  /**
   * Opens a repository for {@code dedupfs check --repair}: where {@link #open} refuses a missing
   * index, or one whose rebuild was cut short, this starts a new one marked as being rebuilt
   * ({@link ChunkIndex#rebuilding()}), for the repair to fill from the packs and snapshot records.
   */
  public static Repository openForRepair(Path path, OpenOptions options) throws IOException {
    return open(path, options, true);
  }

  private static Repository open(Path path, OpenOptions options, boolean rebuildIndex) throws IOException {
    RepositoryConfig config = configOf(path);
    int formatVersion = ConfigCodec.versionOf(Files.readAllBytes(path.resolve(CONFIG)));
    // Unlocked before the lock is taken: a wrong passphrase is refused before anything is written.
    if (!config.encrypted() && Files.exists(RepositoryKeys.fileOf(path))) {
      // The config is not authenticated: one replaced by a plain one must not make new data go in the clear.
      throw new StoreException("repository " + path + " has a key file but its config says it is not encrypted;"
          + " the config was replaced or damaged");
    }
    Optional<MasterKeys> keys = config.encrypted()
        ? Optional.of(RepositoryKeys.unlock(path, config, options.passphrase()))
        : Optional.empty();
    RepositoryLock lock = RepositoryLock.acquire(path.resolve(LOCK));
    try {
      PackStorage packs = new LocalPackStorage(path.resolve(PACKS));
      Path indexDir = path.resolve(INDEX);
      ChunkIndex index;
      boolean whole = ChunkIndex.exists(indexDir) && !ChunkIndex.isRebuilding(indexDir);
      if (rebuildIndex && !whole) {
        // Whatever a rebuild cut short left is redone from the packs, which are all it was made from.
        FileTrees.delete(indexDir);
        index = ChunkIndex.createForRebuild(indexDir, config.repositoryId(), options.indexMapSize(), sealingOf(keys));
      } else if (ChunkIndex.exists(indexDir)) {
        index = ChunkIndex.open(indexDir, config.repositoryId(), options.indexMapSize(), sealingOf(keys));
      } else if (packs.list().isEmpty()) {
        index = ChunkIndex.create(indexDir, config.repositoryId(), options.indexMapSize(), sealingOf(keys));
      } else {
        // FORMAT.md §8 invariant 6: an empty index beside existing packs would lose track of them.
        throw new StoreException("repository " + path + " has packs but no index; rebuild it with dedupfs check --repair");
      }
      return new Repository(path, config, formatVersion, keys, lock, packs, index);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** How the index keeps the live tree: sealed in an encrypted repository (FORMAT.md §12.4). */
  private static IndexSealing sealingOf(Optional<MasterKeys> keys) {
    return keys.map(k -> IndexSealing.of(k.indexEncryption(), k.indexNameKey())).orElse(IndexSealing.NONE);
  }

  /** The config of the repository in {@code path}, read without opening it. */
  public static RepositoryConfig configOf(Path path) throws IOException {
    Path configFile = path.resolve(CONFIG);
    if (!Files.isDirectory(path)) {
      throw new NoSuchFileException(path.toString(), null, "no repository here (create one with dedupfs init)");
    }
    if (!Files.isRegularFile(configFile)) {
      throw new NoSuchFileException(path.toString(), null, "not a dedupfs repository (no config file)");
    }
    return ConfigCodec.decode(Files.readAllBytes(configFile));
  }

  /**
   * Rewrites the config of a repository of an older format as the current format (FORMAT.md §3),
   * before anything of the current format is written into it; does nothing if it is current.
   */
  public synchronized void upgradeFormat() throws IOException {
    if (formatVersion == RepositoryConfig.FORMAT_VERSION) {
      return;
    }
    DurableFiles.writeAtomically(path.resolve(CONFIG), ConfigCodec.encode(config));
    LOG.info("repository {} upgraded from format version {} to {}: releases that read only format {} cannot open it now",
        path, formatVersion, RepositoryConfig.FORMAT_VERSION, formatVersion);
    formatVersion = RepositoryConfig.FORMAT_VERSION;
  }

  /** The format version of the repository's config: the current one, or an older one not written to yet. */
  public synchronized int formatVersion() {
    return formatVersion;
  }

  /** The pid of the process that has the repository open now (its lock holder), if any. */
  public static java.util.OptionalLong openedBy(Path repository) throws IOException {
    return RepositoryLock.holderPid(repository.resolve(LOCK));
  }

  public Path path() {
    return path;
  }

  public RepositoryConfig config() {
    return config;
  }

  public PackStorage packs() {
    return packs;
  }

  public ChunkIndex index() {
    return index;
  }

  /** How blobs are sealed: AES-256-GCM in an encrypted repository, {@link Encryption#NONE} otherwise. */
  public Encryption encryption() {
    return encryption;
  }

  public ChunkIdScheme chunkIds() {
    return keys.map(k -> ChunkIdScheme.keyed(k.idKey())).orElse(ChunkIdScheme.SHA256);
  }

  /** The chunker's gear seed: the config's, or in an encrypted repository one derived from the id key. */
  public long gearSeed() {
    return keys.map(MasterKeys::gearSeed).orElse(config.gearSeed());
  }

  /**
   * Closes the index, rewriting it compactly if this process wrote to it and that frees enough
   * (FORMAT.md §6.2), then releases the lock. Closing again does nothing.
   */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      index.closeCompacting();
    } finally {
      lock.close();
    }
  }
}
