package io.dedupfs.tools;

import io.dedupfs.store.repo.Repository;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code dedupfs umount}: unmounts and waits until the filesystem process has made everything
 * durable and exited. A busy mountpoint (a process inside it, an open file) is refused, as
 * umount(8) does.
 */
@Command(name = "umount", mixinStandardHelpOptions = true,
    description = "Unmount; returns once everything written is durable and the filesystem process has exited.")
final class UmountCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MOUNTPOINT")
  Path mountpoint;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Path mnt = mountpoint.toAbsolutePath().normalize();
    MountTable.Mount mount = MountTable.at(mnt)
        .filter(m -> m.type().equals(MountTable.FS_TYPE))
        .orElseThrow(() -> new IOException(mnt + " is not a dedupfs mount"));
    // The mount's source is the repository; its lock names the process serving it.
    OptionalLong pid = Repository.openedBy(Path.of(mount.source()));
    Process fusermount = new ProcessBuilder("fusermount", "-u", mnt.toString()).redirectErrorStream(true).start();
    String output = new String(fusermount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (fusermount.waitFor() != 0) {
      throw new IOException("could not unmount " + mnt + ": " + output.replaceFirst("^fusermount3?: ", ""));
    }
    if (pid.isPresent()) {
      var process = ProcessHandle.of(pid.getAsLong());
      if (process.isPresent()) {
        process.get().onExit().get();
      }
    }
    Notes.print(spec, "unmounted " + mnt + "; everything written is durable");
    return 0;
  }
}
