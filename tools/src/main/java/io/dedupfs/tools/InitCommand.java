package io.dedupfs.tools;

import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code dedupfs init}: creates a repository. */
@Command(name = "init", mixinStandardHelpOptions = true, description = "Create a new repository in a new or empty directory.")
final class InitCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPO", description = "Directory of the new repository.")
  Path repository;

  @Option(names = "--chunk-size", paramLabel = "MIN,AVG,MAX",
      description = "Content-defined chunk sizes (default 256K,1M,4M; AVG a power of two).")
  String chunkSize;

  @Option(names = "--compression", paramLabel = "zstd:LEVEL|none", description = "Chunk compression (default zstd:3).")
  String compression;

  @Option(names = "--encrypt", description = {
      "Encrypt everything stored (AES-256-GCM, keyed chunk ids) under keys wrapped by a passphrase (Argon2id).",
      "The passphrase comes from --passphrase-file, $DEDUPFS_PASSPHRASE or the terminal (typed twice)."})
  boolean encrypt;

  @Mixin PassphraseOption passphrase;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    RepositoryConfig config = RepositoryConfig.create(chunkerParameters(chunkSize),
        compression == null ? Compression.DEFAULT : Compression.parse(compression), encrypt);
    Repository.OpenOptions options = Repository.OpenOptions.DEFAULT.withPassphrase(passphrase.chosen(repository));
    try (Repository repo = Repository.init(repository, config, options)) {
      Notes.print(spec, "created " + (encrypt ? "encrypted " : "") + "repository " + repo.path().toAbsolutePath()
          + " (chunks " + config.chunker().min() + "/" + config.chunker().avg() + "/" + config.chunker().max()
          + " bytes, compression " + config.compression() + ")");
    }
    return 0;
  }

  static ChunkerParameters chunkerParameters(String text) {
    if (text == null) {
      return ChunkerParameters.DEFAULT;
    }
    String[] parts = text.split(",");
    if (parts.length != 3) {
      throw new IllegalArgumentException("--chunk-size takes MIN,AVG,MAX, e.g. 256K,1M,4M");
    }
    long[] sizes = new long[3];
    for (int i = 0; i < 3; i++) {
      sizes[i] = SizeConverter.parse(parts[i]);
      if (sizes[i] > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("chunk size too large: " + parts[i]);
      }
    }
    return new ChunkerParameters((int) sizes[0], (int) sizes[1], (int) sizes[2]);
  }
}
