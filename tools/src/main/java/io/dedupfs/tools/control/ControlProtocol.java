package io.dedupfs.tools.control;

import io.dedupfs.store.namespace.Name;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import io.dedupfs.gc.CheckReport;
import io.dedupfs.gc.GcProgress;
import io.dedupfs.gc.GcReport;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** The words and lines of the control protocol, as the package documentation specifies them. */
final class ControlProtocol {
  /** Longest line, LF included: a request names at most one name of 255 bytes, 510 in hex. */
  static final int MAX_LINE = 4096;
  /** Longest error message, in chars; at most 3 UTF-8 bytes each, so an error line fits {@link #MAX_LINE}. */
  private static final int MAX_MESSAGE = 1000;

  static final String CREATE = "snapshot-create";
  static final String LIST = "snapshot-list";
  static final String DELETE = "snapshot-delete";
  static final String RECORD = "snapshot";
  static final String GC = "gc";
  static final String GC_ESTIMATE = "gc-estimate";
  static final String REPORT = "gc-report";
  static final String PROGRESS = "progress";
  static final String CHECK = "check";
  static final String PROBLEM = "problem";
  static final String CHECK_REPORT = "check-report";
  static final String REPAIR = "repair";
  static final String REPAIRED = "repaired";
  static final String LOST = "lost";
  /** A list of no snapshot numbers: a field is never empty. */
  private static final String NONE = "-";
  static final String OK = "ok";
  static final String ERROR = "error";

  static final String EXISTS = "exists";
  static final String MISSING = "missing";
  static final String INVALID = "invalid";
  static final String FAILED = "failed";

  private static final HexFormat HEX = HexFormat.of();

  private ControlProtocol() {}

  /**
   * The next line, without its LF; null at the end of the stream.
   *
   * @throws ProtocolException if the line is longer than {@link #MAX_LINE}
   * @throws EOFException if the stream ends within a line
   */
  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        if (line.size() == 0) {
          return null;
        }
        throw new EOFException("the connection ended within a line");
      }
      if (line.size() == MAX_LINE - 1) {
        throw new ProtocolException("a line is longer than " + MAX_LINE + " bytes");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  static byte[] encode(String line) {
    return (line + "\n").getBytes(StandardCharsets.UTF_8);
  }

  static String hex(Name name) {
    return HEX.formatHex(name.bytes());
  }

  /** @throws IllegalArgumentException if {@code hex} is not hex, or not the bytes of a valid name */
  static Name name(String hex) {
    return Name.of(HEX.parseHex(hex));
  }

  static String recordLine(SnapshotSummary s) {
    return String.join(" ", RECORD, Long.toString(s.number()), hex(s.name()), Long.toString(s.createdNanos()),
        Long.toString(s.bytes()), Long.toString(s.files()), Long.toString(s.directories()));
  }

  static SnapshotSummary parseRecord(String line) throws ProtocolException {
    String[] f = line.split(" ", -1);
    if (f.length != 7 || !f[0].equals(RECORD)) {
      throw new ProtocolException("not a record line: " + line);
    }
    try {
      return new SnapshotSummary(Long.parseLong(f[1]), name(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
          Long.parseLong(f[5]), Long.parseLong(f[6]));
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("not a record line: " + line);
    }
  }

  /** {@code gc-report MARKED CHUNKS BYTES PACKS ORPHANS DISK_BYTES REWRITE PHASE=NANOS...} */
  static String reportLine(GcReport r) {
    StringBuilder b = new StringBuilder(String.join(" ", REPORT, Long.toString(r.markedReferences()),
        Long.toString(r.chunksFreed()), Long.toString(r.bytesFreed()), Long.toString(r.packsDeleted()),
        Long.toString(r.orphanPacksDeleted()), Long.toString(r.bytesOnDiskFreed()), Long.toString(r.packsRewritten())));
    r.phases().forEach((phase, time) -> b.append(' ').append(phase.replace(' ', '-')).append('=').append(time.toNanos()));
    return b.toString();
  }

  /** {@code progress PHASE DONE TOTAL}: a line sent before the answer of a long request. */
  static String progressLine(String phase, long done, long total) {
    return String.join(" ", PROGRESS, phase.replace(' ', '-'), Long.toString(done), Long.toString(total));
  }

  static void parseProgress(String line, GcProgress progress) throws ProtocolException {
    String[] f = line.split(" ", -1);
    try {
      progress.update(f[1].replace('-', ' '), Long.parseLong(f[2]), Long.parseLong(f[3]));
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      throw new ProtocolException("not a progress line: " + line);
    }
  }

  /**
   * {@code problem TEXT}, {@code repaired TEXT} and {@code lost TEXT} lines, then {@code
   * check-report PACKS CHUNKS REFERENCES READ PROBLEM_COUNT REPAIR_COUNT LOSS_COUNT}.
   */
  static List<String> checkLines(CheckReport r) {
    List<String> lines = new java.util.ArrayList<>();
    r.problems().forEach(p -> lines.add(PROBLEM + " " + oneLine(p)));
    r.repairs().forEach(p -> lines.add(REPAIRED + " " + oneLine(p)));
    r.losses().forEach(p -> lines.add(LOST + " " + oneLine(p)));
    lines.add(String.join(" ", CHECK_REPORT, Long.toString(r.packs()), Long.toString(r.chunks()),
        Long.toString(r.references()), Long.toString(r.chunksRead()), Long.toString(r.problemCount()),
        Long.toString(r.repairCount()), Long.toString(r.lossCount())));
    return lines;
  }

  /** Text as it fits one line: a message or finding may hold newlines (a path may). */
  private static String oneLine(String text) {
    String flat = text.replaceAll("[\\r\\n]+", " ");
    return flat.length() <= MAX_MESSAGE ? flat : flat.substring(0, MAX_MESSAGE) + "...";
  }

  static CheckReport parseCheck(List<String> lines) throws ProtocolException {
    Map<String, List<String>> found = Map.of(PROBLEM, new java.util.ArrayList<>(), REPAIRED, new java.util.ArrayList<>(),
        LOST, new java.util.ArrayList<>());
    for (String line : lines) {
      String[] kind = line.split(" ", 2);
      if (found.containsKey(kind[0]) && kind.length == 2) {
        found.get(kind[0]).add(kind[1]);
      } else if (kind[0].equals(CHECK_REPORT)) {
        String[] f = line.split(" ", -1);
        try {
          return new CheckReport(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
              Long.parseLong(f[5]), found.get(PROBLEM), Long.parseLong(f[6]), found.get(REPAIRED), Long.parseLong(f[7]),
              found.get(LOST));
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
          throw new ProtocolException("not a check report: " + line);
        }
      }
    }
    throw new ProtocolException("the answer to check has no report");
  }

  /** Snapshot numbers as one field: comma-separated, or {@code -} for none. */
  static String numbers(Set<Long> numbers) {
    return numbers.isEmpty() ? NONE : numbers.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  static Set<Long> parseNumbers(String field) {
    Set<Long> out = new TreeSet<>();
    if (!field.equals(NONE)) {
      for (String n : field.split(",", -1)) {
        out.add(Long.parseLong(n));
      }
    }
    return out;
  }

  static GcReport parseReport(String line) throws ProtocolException {
    String[] f = line.split(" ", -1);
    if (f.length < 8 || !f[0].equals(REPORT)) {
      throw new ProtocolException("not a collection report: " + line);
    }
    try {
      Map<String, Duration> phases = new LinkedHashMap<>();
      for (int k = 8; k < f.length; k++) {
        String[] kv = f[k].split("=", 2);
        phases.put(kv[0].replace('-', ' '), Duration.ofNanos(Long.parseLong(kv[1])));
      }
      return new GcReport(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
          Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), phases);
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      throw new ProtocolException("not a collection report: " + line);
    }
  }

  /** The kind of error {@code failure} is, as an error line names it. */
  static String kind(Exception failure) {
    if (failure instanceof FileAlreadyExistsException) {
      return EXISTS;
    }
    if (failure instanceof NoSuchFileException) {
      return MISSING;
    }
    return failure instanceof IllegalArgumentException ? INVALID : FAILED;
  }

  /** The error line that tells a client of {@code failure}. */
  static String errorLine(Exception failure) {
    String kind = kind(failure);
    String message;
    if (failure instanceof FileSystemException f && (kind.equals(EXISTS) || kind.equals(MISSING))) {
      // The client makes the name it sent the exception's file again; only the reason travels.
      message = f.getReason() != null ? f.getReason()
          : kind.equals(EXISTS) ? "a snapshot has this name" : "no snapshot has this name";
    } else {
      message = failure.getMessage() != null ? failure.getMessage() : failure.toString();
    }
    return String.join(" ", ERROR, kind, oneLine(message));
  }

  /**
   * The exception an error line stands for, about {@code subject} (the name the request carried,
   * or null). An {@link IllegalArgumentException}, being unchecked, is thrown rather than returned.
   */
  static IOException failure(String errorLine, Name subject) {
    String[] f = errorLine.split(" ", 3);
    String kind = f.length > 1 ? f[1] : "";
    String message = f.length > 2 ? f[2] : "the mounted process gave no reason";
    String file = subject == null ? null : subject.toString();
    return switch (kind) {
      case EXISTS -> new FileAlreadyExistsException(file, null, message);
      case MISSING -> new NoSuchFileException(file, null, message);
      case INVALID -> throw new IllegalArgumentException(message);
      // FAILED, and kinds a newer server may add.
      default -> new IOException(message);
    };
  }
}
