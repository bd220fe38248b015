package io.dedupfs.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dedupfs.store.crypto.PassphraseSource;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.tools.control.ControlServer;
import io.dedupfs.tools.control.SnapshotSummary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dedupfs snapshot ...} on a repository that is not mounted, and on one held by a process that serves it. */
class SnapshotCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedOut;
  private PrintStream savedErr;

  @TempDir
  Path dir;

  private String repo;

  @BeforeEach
  void captureStreamsAndInit() {
    savedOut = System.out;
    savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    repo = dir.resolve("repo").toString();
    assertEquals(0, Main.run("init", repo), stderr());
    out.reset();
  }

  @AfterEach
  void restoreStreams() {
    System.setOut(savedOut);
    System.setErr(savedErr);
  }

  /** Runs a command and returns its stdout; the streams start empty for the next one. */
  private String run(int expectedExit, String... args) {
    out.reset();
    err.reset();
    assertEquals(expectedExit, Main.run(args), () -> "stdout: " + stdout() + "\nstderr: " + stderr());
    return stdout();
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void createListAndDeleteOnAnUnmountedRepository() {
    assertTrue(run(0, "snapshot", "create", repo, "s1").startsWith("created snapshot s1 (number 1, 0 files, 0 B)"),
        stdout());
    assertTrue(run(0, "snapshot", "create", repo, "s2").startsWith("created snapshot s2 (number 2,"), stdout());

    List<String> table = run(0, "snapshot", "list", repo).lines().toList();
    assertEquals(3, table.size(), stdout());
    assertTrue(table.get(0).matches("NAME +CREATED +SIZE +FILES"), table.get(0));
    assertTrue(table.get(1).matches("s1 +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d +0 B +0"), table.get(1));
    assertTrue(table.get(2).startsWith("s2 "), table.get(2));

    String json = run(0, "snapshot", "list", repo, "--json");
    assertTrue(json.startsWith("[\n  {\"number\":1,\"name\":\"s1\",\"created\":\"") && json.endsWith("}\n]\n"), json);
    assertTrue(json.matches("(?s).*\"created\":\"\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z\",\"bytes\":0,\"files\":0,"
        + "\"directories\":0},\n  \\{\"number\":2,\"name\":\"s2\".*"), json);

    run(1, "snapshot", "delete", repo, "missing", "s1");
    assertEquals("deleted snapshot s1\n", stdout(), "the other names are still deleted");
    assertEquals("dedupfs: no snapshot named 'missing'\n", stderr());
    assertEquals("s2", run(0, "snapshot", "list", repo).lines().skip(1).findFirst().orElseThrow().split(" ")[0]);
    assertEquals("[\n  {\"number\":2", run(0, "snapshot", "list", repo, "--json").substring(0, 15));

    run(0, "snapshot", "delete", repo, "s2");
    assertEquals("[]\n", run(0, "snapshot", "list", repo, "--json"));
  }

  @Test
  void withNoNameASnapshotIsNamedByTheLocalTime() {
    String created = run(0, "snapshot", "create", repo);
    assertTrue(created.matches("created snapshot \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d \\(number 1,.*\\n"), created);
  }

  @Test
  void errorsAreOneLineWithTheRightExitCode() {
    run(0, "snapshot", "create", repo, "s1");
    run(Main.EXIT_ERROR, "snapshot", "create", repo, "s1");
    assertEquals("dedupfs: a snapshot named 's1' already exists\n", stderr());

    run(Main.EXIT_ERROR, "snapshot", "list", dir.resolve("nothing-here").toString());
    assertTrue(stderr().contains("nothing-here: no repository here") && stderr().lines().count() == 1, stderr());

    run(Main.EXIT_USAGE, "snapshot", "create", repo, "a/b");
    assertTrue(stderr().contains("'a/b' is not a snapshot name: a name cannot contain '/'"), stderr());
    run(Main.EXIT_USAGE, "snapshot", "delete", repo, "s1", "..");
    run(Main.EXIT_USAGE, "snapshot", "delete", repo);
    run(Main.EXIT_USAGE, "snapshot");
    assertEquals(1, run(0, "snapshot", "list", repo).lines().skip(1).count(), "nothing was deleted: " + stdout());
  }

  @Test
  void aHeldRepositoryIsServedThroughItsControlSocket() throws Exception {
    Path path = Path.of(repo);
    OpenRepository held = OpenRepository.open(path, PassphraseSource.NONE);
    ControlServer server = ControlServer.start(ControlServer.socketOf(path), held.operations());
    try (held; server) {
      // Opening the repository here again would fail on its lock: these must go through the socket.
      assertTrue(run(0, "snapshot", "create", repo, "m1").startsWith("created snapshot m1 (number 1"), stdout());
      assertTrue(run(0, "snapshot", "list", repo).contains("\nm1 "), stdout());
      run(Main.EXIT_ERROR, "snapshot", "create", repo, "m1");
      assertEquals("dedupfs: a snapshot named 'm1' already exists\n", stderr());
      run(Main.EXIT_ERROR, "snapshot", "delete", repo, "m2", "m1");
      assertEquals("dedupfs: no snapshot named 'm2'\n", stderr());
      assertEquals("deleted snapshot m1\n", stdout());
      assertTrue(held.snapshots().list().isEmpty());
    }
  }

  @Test
  void aHolderThatDoesNotAnswerIsNamed() throws Exception {
    OpenRepository held = OpenRepository.open(Path.of(repo), PassphraseSource.NONE);
    try (held) {
      run(Main.EXIT_ERROR, "snapshot", "list", repo);
      String expected = "dedupfs: repository " + repo + " is in use by process " + ProcessHandle.current().pid()
          + ", which does not answer on " + ControlServer.socketOf(Path.of(repo)) + "\n";
      assertEquals(expected, stderr());
    }
  }

  @Test
  void theLockAndSocketOfAKilledProcessAreNoObstacle() throws Exception {
    Path path = Path.of(repo);
    // What kill -9 of a mounted process leaves: the lock file naming it (the kernel released the lock) and the socket file.
    Files.writeString(path.resolve("lock"), "pid=2147483646 host=elsewhere since=2026-11-23T14:05:09Z\n");
    Files.writeString(ControlServer.socketOf(path), "");
    assertTrue(run(0, "snapshot", "create", repo, "after-crash").startsWith("created snapshot after-crash"), stdout());
  }

  @Test
  void tableAndJsonFormats() {
    Name odd = Name.of("say \"hi\"\\\t\u0001é");
    List<SnapshotSummary> snapshots = List.of(
        new SnapshotSummary(7, odd, 1_700_000_000_123_456_789L, 1288490189L, 12345, 67));
    assertEquals("NAME          CREATED                    SIZE         FILES\n"
        + "say \"hi\"\\??é  2023-11-14T22:13:20     1.2 GiB        12,345\n",
        SnapshotListCommand.table(snapshots, ZoneOffset.UTC));
    assertEquals("[\n  {\"number\":7,\"name\":\"say \\\"hi\\\"\\\\\\t\\u0001é\",\"created\":\"2023-11-14T22:13:20.123456789Z\","
        + "\"bytes\":1288490189,\"files\":12345,\"directories\":67}\n]\n", SnapshotListCommand.json(snapshots));
  }
}
