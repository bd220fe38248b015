package io.dedupfs.tools;

import picocli.CommandLine.Command;

/** {@code dedupfs bench}: benchmarks that print figures. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print figures.",
    subcommands = {BenchIngestCommand.class, BenchGcCommand.class})
final class BenchCommand {}
