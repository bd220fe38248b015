package io.dedupfs.tools;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dedupfs uninstall}: removes exactly what {@code dedupfs install} listed in its manifest. */
@Command(name = "uninstall", mixinStandardHelpOptions = true,
    description = {"Remove what dedupfs install put under PREFIX (and /sbin/mount.fuse.dedupfs), nothing else.",
        "Repositories are not touched."})
final class UninstallCommand implements Callable<Integer> {
  @Option(names = "--prefix", paramLabel = "DIR", defaultValue = InstallLayout.DEFAULT_PREFIX,
      description = "The prefix given to install (default ${DEFAULT-VALUE}).")
  Path prefix;

  @Override
  public Integer call() throws Exception {
    InstallLayout layout = InstallLayout.under(prefix);
    InstallManifest manifest = InstallManifest.at(layout.manifest());
    if (manifest.isEmpty()) {
      throw new NoSuchFileException(layout.manifest().toString(), null, "no dedupfs installed under " + layout.prefix());
    }
    List<Path> kept = manifest.removeAll();
    System.out.println("removed " + manifest.files().size() + " files installed under " + layout.prefix());
    for (Path d : kept) {
      System.out.println("kept " + d + ": it holds files dedupfs did not install");
    }
    return 0;
  }
}
