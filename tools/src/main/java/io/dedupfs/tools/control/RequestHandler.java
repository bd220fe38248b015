package io.dedupfs.tools.control;

import io.dedupfs.gc.GcProgress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Carries out one request line on the snapshots and gives the answer's lines. No I/O of its own. */
final class RequestHandler {
  private static final Logger LOG = LoggerFactory.getLogger(RequestHandler.class);

  private final RepositoryOperations snapshots;

  RequestHandler(RepositoryOperations snapshots) {
    this.snapshots = snapshots;
  }

  /** Where lines sent before the answer (progress) go, as they come. */
  @FunctionalInterface
  interface EarlyLines {
    void send(String line) throws IOException;
  }

  /**
   * The answer to {@code request}: record lines then {@code ok}, or one error line; a long
   * request sends progress lines to {@code early} meanwhile.
   */
  List<String> answer(String request, EarlyLines early) {
    try {
      List<String> lines = new ArrayList<>(carryOut(request.split(" ", -1), early));
      lines.add(ControlProtocol.OK);
      return lines;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of(ControlProtocol.errorLine(new IOException("interrupted: the mounted process is ending")));
    } catch (Exception e) {
      if (ControlProtocol.kind(e).equals(ControlProtocol.FAILED)) {
        // The verb only above debug: the rest may name a snapshot, which an encrypted repository keeps sealed.
        LOG.warn("control request '{}' failed: {}", verbOf(request), e.getClass().getSimpleName());
        LOG.debug("control request '{}' failed", request, e);
      } else {
        LOG.debug("control request '{}' refused: {}", request, e.toString());
      }
      return List.of(ControlProtocol.errorLine(e));
    }
  }

  private List<String> carryOut(String[] fields, EarlyLines early) throws IOException, InterruptedException {
    switch (fields[0]) {
      case ControlProtocol.CREATE -> {
        expectArguments(fields, 1);
        return List.of(ControlProtocol.recordLine(snapshots.create(ControlProtocol.name(fields[1]))));
      }
      case ControlProtocol.LIST -> {
        expectArguments(fields, 0);
        return snapshots.list().stream().map(ControlProtocol::recordLine).toList();
      }
      case ControlProtocol.DELETE -> {
        expectArguments(fields, 1);
        snapshots.delete(ControlProtocol.name(fields[1]));
        return List.of();
      }
      case ControlProtocol.GC -> {
        expectArguments(fields, 1);
        return List.of(ControlProtocol.reportLine(snapshots.collectGarbage(Long.parseLong(fields[1]), progress(early))));
      }
      case ControlProtocol.GC_ESTIMATE -> {
        expectArguments(fields, 2);
        return List.of(ControlProtocol.reportLine(
            snapshots.estimateGarbage(Long.parseLong(fields[1]), ControlProtocol.parseNumbers(fields[2]))));
      }
      case ControlProtocol.CHECK -> {
        expectArguments(fields, 1);
        return ControlProtocol.checkLines(snapshots.check(fields[1].equals("1"), progress(early)));
      }
      case ControlProtocol.REPAIR -> {
        expectArguments(fields, 1);
        return ControlProtocol.checkLines(snapshots.repair(fields[1].equals("1"), progress(early)));
      }
      case StatsLines.STATS -> {
        expectArguments(fields, 0);
        return StatsLines.lines(snapshots.stats());
      }
      default -> throw new IllegalArgumentException("unknown request '" + fields[0] + "'");
    }
  }

  /** Progress sent as lines before the answer. */
  private static GcProgress progress(EarlyLines early) {
    return (phase, done, total) -> {
      try {
        early.send(ControlProtocol.progressLine(phase, done, total));
      } catch (IOException e) {
        // The client went away: the work goes on, it is safe either way.
        LOG.debug("progress not sent", e);
      }
    };
  }

  private static void expectArguments(String[] fields, int count) {
    if (fields.length != count + 1) {
      throw new IllegalArgumentException("'" + fields[0] + "' takes " + count + " argument" + (count == 1 ? "" : "s")
          + ", got " + (fields.length - 1));
    }
  }

  private static String verbOf(String request) {
    int space = request.indexOf(' ');
    return space < 0 ? request : request.substring(0, space);
  }
}
