package io.dedupfs.tools;

import io.dedupfs.store.io.FileTrees;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs install}: installs the jar this runs from, its class-data archive, a launcher, bash completion, man pages
 * (both written from the command definitions of this very jar) and the mount helper that lets
 * mount(8) and /etc/fstab mount type fuse.dedupfs. Everything written is listed in a manifest
 * for {@code dedupfs uninstall}.
 */
@Command(name = "install", mixinStandardHelpOptions = true,
    description = {"Install dedupfs for all users (as root): launcher, man pages, bash completion and mount helper.",
        "Puts PREFIX/bin/dedupfs, PREFIX/lib/dedupfs/dedupfs.jar, PREFIX/share/man/man1/dedupfs*.1 and",
        "PREFIX/share/bash-completion/completions/dedupfs; the mount helper goes to /sbin/mount.fuse.dedupfs",
        "whatever the prefix, as mount(8) looks for it there only. Then mount -t fuse.dedupfs REPO MOUNTPOINT",
        "and fstab lines of type fuse.dedupfs work. Run again to upgrade; dedupfs uninstall removes it all."})
final class InstallCommand implements Callable<Integer> {
  @Option(names = "--prefix", paramLabel = "DIR", defaultValue = InstallLayout.DEFAULT_PREFIX,
      description = "Install under DIR (default ${DEFAULT-VALUE}).")
  Path prefix;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    InstallLayout layout = InstallLayout.under(prefix);
    InstallManifest manifest = InstallManifest.at(layout.manifest());
    CommandLine root = spec.root().commandLine();
    manifest.copy(runningJar(), layout.jar(), InstallManifest.READABLE);
    boolean archived = installClassDataArchive(layout, manifest);
    manifest.write(layout.launcher(), bytes(LauncherScripts.launcher(layout.jar(), LauncherScripts.runningJava())), InstallManifest.EXECUTABLE);
    manifest.write(layout.mountHelper(), bytes(LauncherScripts.mountHelper(layout.launcher())), InstallManifest.EXECUTABLE);
    manifest.write(layout.bashCompletion(), bytes(AutoComplete.bash(root.getCommandName(), root)), InstallManifest.READABLE);
    for (Map.Entry<String, String> page : ManPages.of(root).entrySet()) {
      manifest.write(layout.manSection1().resolve(page.getKey()), bytes(page.getValue()), InstallManifest.READABLE);
    }
    manifest.save();
    System.out.println("installed " + layout.launcher() + " (runs " + layout.jar() + ")");
    System.out.println("installed " + layout.mountHelper() + " (for mount -t " + MountTable.FS_TYPE + " and /etc/fstab)");
    System.out.println("installed man pages in " + layout.manSection1() + " and bash completion in " + layout.bashCompletion());
    if (!archived) {
      System.out.println("no class-data archive: this JVM could not make one, so commands start slower");
    }
    System.out.println("the " + manifest.files().size() + " files are listed in " + layout.manifest()
        + " for dedupfs uninstall" + (layout.prefix().equals(Path.of(InstallLayout.DEFAULT_PREFIX)) ? "" : " --prefix " + layout.prefix()));
    return 0;
  }

  /** Archives the installed jar's classes (see {@link ClassDataArchive}); false if this JVM could not. */
  private static boolean installClassDataArchive(InstallLayout layout, InstallManifest manifest)
      throws IOException, InterruptedException {
    Path work = Files.createTempDirectory("dedupfs-install-");
    try {
      Optional<Path> archive = ClassDataArchive.dump(layout.jar(), work);
      if (archive.isPresent()) {
        manifest.copy(archive.get(), layout.classDataArchive(), InstallManifest.READABLE);
      }
      return archive.isPresent();
    } finally {
      FileTrees.delete(work);
    }
  }

  /** The jar this JVM runs; installing needs one (not the classes directory of a build). */
  private static Path runningJar() throws IOException, URISyntaxException {
    Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isRegularFile(jar)) {
      throw new IOException("install copies the jar it runs from, and this runs from " + jar
          + "; build it (mvn package) and run ./dedupfs install");
    }
    return jar;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
