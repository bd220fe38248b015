package io.dedupfs.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Translates the options mount(8) hands the mount helper (the {@code -o} of {@code mount -t
 * fuse.dedupfs}, the fourth field of an fstab line) into {@code dedupfs mount} arguments: dedupfs's
 * own options become its flags, options that only mean something to mount(8) or systemd are
 * dropped, and the rest pass through as FUSE options.
 */
final class MountHelperOptions {
  /** Options for mount(8), systemd or the fstab reader, not for the filesystem (as mount.fuse drops them). */
  private static final Set<String> MOUNT_ONLY = Set.of("defaults", "auto", "noauto", "nofail", "_netdev", "user",
      "nouser", "users", "owner", "group");
  private static final List<String> MOUNT_ONLY_PREFIXES = List.of("x-", "comment=");
  private static final String MEMORY = "memory=";
  private static final String PASSPHRASE_FILE = "passphrase-file=";

  private MountHelperOptions() {}

  static List<String> toMountArguments(List<String> options) {
    List<String> args = new ArrayList<>();
    for (String option : options) {
      if (option.startsWith(MEMORY)) {
        args.addAll(List.of("--memory", option.substring(MEMORY.length())));
      } else if (option.startsWith(PASSPHRASE_FILE)) {
        args.addAll(List.of("--passphrase-file", option.substring(PASSPHRASE_FILE.length())));
      } else if (!option.isEmpty() && !isMountOnly(option)) {
        args.addAll(List.of("-o", option));
      }
    }
    return args;
  }

  private static boolean isMountOnly(String option) {
    return MOUNT_ONLY.contains(option) || MOUNT_ONLY_PREFIXES.stream().anyMatch(option::startsWith);
  }
}
