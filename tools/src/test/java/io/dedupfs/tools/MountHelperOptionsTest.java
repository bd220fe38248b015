package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class MountHelperOptionsTest {
  @Test
  void dedupfsOptionsBecomeFlags() {
    assertEquals(List.of("--memory", "64M", "--passphrase-file", "/etc/dedupfs/key"),
        MountHelperOptions.toMountArguments(List.of("memory=64M", "passphrase-file=/etc/dedupfs/key")));
  }

  @Test
  void optionsOfMountAndSystemdAreDropped() {
    assertEquals(List.of(), MountHelperOptions.toMountArguments(List.of("defaults", "_netdev", "noauto", "auto",
        "nofail", "user", "users", "nouser", "x-systemd.automount", "x-systemd.requires=network-online.target",
        "comment=backup", "")));
  }

  @Test
  void theRestPassesThroughAsFuseOptionsInOrder() {
    assertEquals(List.of("-o", "ro", "--memory", "1G", "-o", "allow_other", "-o", "nonempty"),
        MountHelperOptions.toMountArguments(List.of("ro", "defaults", "memory=1G", "allow_other", "nonempty")));
  }
}
