package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.gc.SpaceReport;
import io.dedupfs.store.stats.RequestStats;
import io.dedupfs.tools.control.RepositoryStats;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code dedupfs stats}'s table and JSON of the requests a mount served. */
class StatsCommandTest {
  private static final SpaceReport EMPTY = new SpaceReport(0, 0, 0, 0, 0, 0, Map.of());

  /** Counts like those of one rsync -a of 11,860 files, in the order the filesystem sends them. */
  private static final List<RequestStats.Snapshot> REQUESTS = List.of(
      new RequestStats.Snapshot("getattr", 221_000, 552_500_000L, 12_000, 0),
      new RequestStats.Snapshot("fgetattr", 0, 0, 0, 0),
      new RequestStats.Snapshot("rename", 11_860, 569_280_000L, 0, 0),
      new RequestStats.Snapshot("write", 15_400, 200_200_000L, 0, 123_400_000L));

  private static RepositoryStats mounted(List<RequestStats.Snapshot> requests) {
    return new RepositoryStats(List.of(), EMPTY, 0, 0, Optional.empty(), Optional.empty(), requests);
  }

  @Test
  void textListsTheRequestsServedMostTimeFirst() {
    String text = StatsCommand.text(mounted(REQUESTS), ZoneOffset.UTC);

    List<String> table = text.lines().dropWhile(l -> !l.equals("requests since mounted")).skip(1).toList();
    assertTrue(table.get(0).startsWith("request "), text);
    assertEquals(List.of("rename", "getattr", "write", "all"), table.subList(1, 5).stream()
        .map(l -> l.split(" +")[0]).toList(), "most time first, never-asked fgetattr left out, sums last: " + text);
    assertEquals(List.of("rename", "11,860", "0", "0.57", "48.0"), List.of(table.get(1).trim().split(" +")), text);
    assertEquals(List.of("getattr", "221,000", "12,000", "0.55", "2.5"), List.of(table.get(2).trim().split(" +")), text);
    assertEquals(table.get(2).stripTrailing(), table.get(2), "no MB for getattr, and no spaces in its place");
    assertEquals(List.of("write", "15,400", "0", "0.20", "13.0", "123.4"), List.of(table.get(3).trim().split(" +")),
        text);
    assertEquals(List.of("all", "248,260", "12,000", "1.32", "5.3", "123.4"), List.of(table.get(4).trim().split(" +")),
        text);
  }

  @Test
  void jsonCarriesEveryKindOfRequestMostTimeFirst() {
    String json = StatsCommand.json(mounted(REQUESTS));

    assertTrue(json.contains(",\"requests\":[{\"name\":\"rename\",\"count\":11860,\"errors\":0,\"nanos\":569280000,"
        + "\"meanNanos\":48000,\"bytes\":0},{\"name\":\"getattr\","), json);
    assertTrue(json.contains("{\"name\":\"write\",\"count\":15400,\"errors\":0,\"nanos\":200200000,\"meanNanos\":13000,"
        + "\"bytes\":123400000},{\"name\":\"fgetattr\",\"count\":0,"), json);
  }

  @Test
  void unmountedThereAreNoRequests() {
    RepositoryStats unmounted = mounted(List.of());

    assertFalse(StatsCommand.text(unmounted, ZoneOffset.UTC).contains("request"));
    assertTrue(StatsCommand.json(unmounted).endsWith(",\"ingest\":null,\"requests\":null}\n"));
  }
}
