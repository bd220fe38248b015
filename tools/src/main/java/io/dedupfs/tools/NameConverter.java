package io.dedupfs.tools;

import io.dedupfs.store.namespace.Name;
import picocli.CommandLine;

/** Parses a snapshot name given on the command line; an invalid one is a usage error. */
final class NameConverter implements CommandLine.ITypeConverter<Name> {
  @Override
  public Name convert(String value) {
    try {
      return Name.of(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a snapshot name: " + e.getMessage());
    }
  }
}
