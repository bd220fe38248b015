/**
 * The control socket (FORMAT.md §10.5): while a repository is mounted, {@link
 * io.dedupfs.tools.control.ControlServer} in the mounted process carries out the commands that
 * other processes run on it; {@link io.dedupfs.tools.control.ControlClient} is their side. This
 * package owns the protocol, specified here.
 *
 * <h2>Transport</h2>
 *
 * A stream Unix-domain socket at {@code REPO/control.sock}, mode 0600, bound by the process that
 * holds the repository's lock (so a socket file found without a live holder is stale and may be
 * replaced). A client connects and sends requests one at a time, reading each answer before the
 * next request; either side may close the connection after an answer.
 *
 * <h2>Lines</h2>
 *
 * Requests and answers are lines of UTF-8 text ended by LF, at most 4096 bytes with the LF.
 * Fields are separated by one space. A snapshot name travels as the lowercase hex of its bytes,
 * since a name is any byte string a file name may be (FORMAT.md §10.2) and need not be UTF-8.
 * Numbers are decimal.
 *
 * <h2>Requests</h2>
 *
 * <pre>
 * snapshot-create NAME     take a snapshot of the live tree named NAME; answered by its record
 * snapshot-list            answered by every snapshot's record, oldest (lowest number) first
 * snapshot-delete NAME     delete the snapshot named NAME; answered by no record
 * gc MEMORY                run the collector with a sort budget of MEMORY bytes; answered by progress
 *                          lines as it goes, then a report
 * gc-estimate MEMORY NUMS  what gc would free were the snapshots numbered NUMS (comma-separated,
 *                          or - for none) deleted first; changes nothing; answered by a report
 * stats                    what the repository stores; answered by a record line per snapshot, a
 *                          snapshot-space line per snapshot, a space line, ingest, stage and
 *                          request lines if the process is a mount, and a stats line last. Reads
 *                          every chunk entry and walks every snapshot: it may take minutes, with
 *                          no progress
 * check READ_DATA          check the repository (READ_DATA 1: every chunk read too); answered by
 *                          progress lines, then problem lines (at most 100) and a check report
 * repair READ_DATA         repair the repository from its packs and snapshot records, then check it
 *                          (store/FORMAT.md §13); answered by progress lines, then problem, repaired
 *                          and lost lines (at most 100 of each) and a check report
 * </pre>
 *
 * <h2>Answers</h2>
 *
 * Zero or more record lines, then {@code ok}; or, instead of all of them, one error line:
 *
 * <pre>
 * snapshot NUMBER NAME CREATED BYTES FILES DIRECTORIES
 * stats SNAPSHOTS CHUNKS PACKS PACK_BYTES [FINISHED_MS TOOK_NS BACKGROUND CHUNKS_FREED BYTES_FREED PACKS_DELETED PACKS_REWRITTEN DISK_BYTES_FREED]
 * snapshot-space NUMBER UNIQUE_BYTES SHARED_BYTES
 * space LIVE_BYTES CHUNKS PLAIN_BYTES STORED_BYTES UNREFERENCED_CHUNKS UNREFERENCED_BYTES
 * ingest NEW_CHUNKS NEW_BYTES DUPLICATE_CHUNKS DUPLICATE_BYTES STORED_BYTES MEMORY_IN_USE MEMORY_BUDGET BLOCKED_NS QUEUED_CHUNKS PACKS_SEALED
 * stage NAME WAIT_INPUT_NS WORK_NS WAIT_OUTPUT_NS ITEMS BYTES
 * request NAME COUNT NANOS ERRORS BYTES
 * problem TEXT                  (what is wrong; after a repair, what is still wrong)
 * repaired TEXT                 (what a repair repaired)
 * lost TEXT                     (data a repair found lost, by path)
 * check-report PACKS CHUNKS REFERENCES CHUNKS_READ PROBLEM_COUNT REPAIR_COUNT LOSS_COUNT
 * progress PHASE DONE TOTAL     (before the answer of gc, check and repair; TOTAL -1 when not known)
 * gc-report MARKED CHUNKS_FREED BYTES_FREED PACKS_DELETED ORPHANS DISK_BYTES_FREED PACKS_REWRITTEN PHASE=NANOS...
 * ok
 * error KIND MESSAGE
 * </pre>
 *
 * A record line carries the fields of the snapshot record (FORMAT.md §10.2) but its root entry;
 * {@code CREATED} is in nanoseconds since the epoch. {@code MESSAGE} is the rest of the line, text
 * for a person. {@code KIND} says what the client raises:
 *
 * <ul>
 *   <li>{@code exists}: a snapshot has the name ({@link java.nio.file.FileAlreadyExistsException});
 *   <li>{@code missing}: no snapshot has the name ({@link java.nio.file.NoSuchFileException});
 *   <li>{@code invalid}: a malformed or unknown request, or not a valid name ({@link
 *       IllegalArgumentException});
 *   <li>{@code failed}: anything else ({@link java.io.IOException}).
 * </ul>
 *
 * For {@code exists} and {@code missing}, the client makes the name it sent the exception's file
 * and {@code MESSAGE} its reason. An unknown request is answered {@code error invalid ...} and the
 * connection stays usable, so a newer client learns that the mounted process is older. A line
 * that is too long is answered so, and the connection closed.
 *
 * <p>An exchange ({@code >} from the client, {@code <} from the server):
 *
 * <pre>
 * &gt; snapshot-create 6e696768746c79
 * &lt; snapshot 3 6e696768746c79 1795446309123456789 3000006 2 1
 * &lt; ok
 * &gt; snapshot-delete 6e6f7065
 * &lt; error missing no such snapshot
 * </pre>
 *
 * A report's phases are named with '-' for ' ', in the order they ran.
 *
 * <p>In the answer to {@code stats}: the record lines are the snapshots the counting saw; {@code
 * snapshot-space} gives, per snapshot number, the stored bytes of the chunks it alone references
 * (what deleting it then gc frees) and of those it shares with the live tree, the tree cache or
 * another snapshot; {@code space} gives the live tree's file bytes and the index's chunks, their
 * plain and stored bytes, and those nothing references; {@code ingest} and the {@code stage} lines
 * (in pipeline order, names with '-' for ' ', times summed over the stage's threads) are the
 * counters of the mounted process's ingest pipeline since it started. The {@code request} lines
 * are the mounted process's counters of the filesystem requests it served since it started, one
 * line per kind of request it serves (also those not asked for yet), named as libfuse's
 * operations ({@code getattr}, {@code write}...; one word): how many, the nanoseconds spent
 * handling them in the process (summed over its threads; not the time in the kernel or libfuse),
 * how many were answered with an error, and the bytes of file data they read or wrote. A client
 * skips lines of kinds it does not know, so that a server may add some.
 *
 * <p>The package uses the store and gc modules only; it knows nothing of FUSE.
 */
package io.dedupfs.tools.control;
