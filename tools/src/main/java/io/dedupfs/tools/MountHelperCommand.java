package io.dedupfs.tools;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What mount(8) runs, through {@code /sbin/mount.fuse.dedupfs}, for {@code mount -t fuse.dedupfs
 * REPO MOUNTPOINT} and fstab lines of that type. Its arguments are those of mount(8)'s "EXTERNAL
 * HELPERS"; it translates them ({@link MountHelperOptions}) and mounts in the background as {@code
 * dedupfs mount} does. Hidden: people use mount(8) or {@code dedupfs mount}.
 */
@Command(name = MountHelperCommand.NAME, hidden = true,
    description = "Mount helper for mount(8): REPO MOUNTPOINT [-sfnv] [-o OPTIONS] [-t fuse.dedupfs].")
final class MountHelperCommand implements Callable<Integer> {
  static final String NAME = "mount-helper";

  @Parameters(index = "0", paramLabel = "REPO")
  String repository;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT")
  String mountpoint;

  @Option(names = "-o", split = ",", paramLabel = "OPTIONS")
  List<String> options = new ArrayList<>();

  @Option(names = "-f", description = "Fake: show what would be run, mount nothing (mount -f).")
  boolean fake;

  @Option(names = "-v", description = "Say what is run (mount -v).")
  boolean verbose;

  /**
   * Sloppy and no-mtab, which change nothing here: options are passed on whatever they are, and
   * there is no mtab to write. An array, so that both may be given ({@code -sn}).
   */
  @Option(names = {"-s", "-n"})
  boolean[] ignored = {};

  @Option(names = "-t", paramLabel = "TYPE", description = "The type mount(8) was given; always fuse.dedupfs here.")
  String type;

  @Option(names = "-N", paramLabel = "NAMESPACE")
  String namespace;

  @Override
  public Integer call() throws Exception {
    if (namespace != null) {
      throw new IOException("mount -N (another mount namespace) is not supported by dedupfs");
    }
    List<String> args = new ArrayList<>(List.of("mount", repository, mountpoint));
    args.addAll(MountHelperOptions.toMountArguments(options));
    if (fake || verbose) {
      System.out.println("dedupfs " + String.join(" ", args));
    }
    return fake ? 0 : Main.run(args.toArray(String[]::new));
  }
}
