package io.dedupfs.tools;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** Reads the version Maven stamped into dedupfs-version.properties. */
final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() throws IOException {
    Properties p = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream("/dedupfs-version.properties")) {
      if (in != null) {
        p.load(in);
      }
    }
    return new String[] {"dedupfs " + p.getProperty("version", "unknown") + " (Java " + Runtime.version() + ")"};
  }
}
