package io.dedupfs.fs;

import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Namespace;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Open-file handles and the one {@link FileWriter} of each inode they write to. Every name and
 * every handle of an inode share its writer, so writes through hard links and reopened files stay
 * in order. A writer outlives its last user until everything it was given is committed; only then
 * is it dropped, so a writer created later can never commit before it. No file descriptor is
 * held per file: a writer is memory only.
 */
final class OpenFiles {
  private static final Logger LOG = LoggerFactory.getLogger(OpenFiles.class);

  /** A writer and how many handles and operations use it now. */
  private static final class Entry {
    final FileWriter writer;
    int users;

    Entry(FileWriter writer) {
      this.writer = writer;
    }
  }

  private final Namespace namespace;
  private final IngestPipeline pipeline;
  private final Map<Long, Entry> writers = new HashMap<>();
  private final Map<Long, Long> handles = new HashMap<>();
  private final AtomicLong nextHandle = new AtomicLong(1);
  /** Writers retired so far: a read of the index during which none retired is current for every inode without one. */
  private long retirements;

  OpenFiles(Namespace namespace, IngestPipeline pipeline) {
    this.namespace = namespace;
    this.pipeline = pipeline;
    // An inode with a writer is open (or still committing): its last name may go, it stays until retired.
    namespace.holdOpenInodes(this::hasWriter);
  }

  private synchronized boolean hasWriter(long inode) {
    return writers.containsKey(inode);
  }

  /**
   * A new handle on the inode {@code read} gives (which may check it and throw), read as the
   * namespace has it now.
   */
  long open(CommittedRead<Inode> read) throws IOException {
    return consistently(read, committed -> {
      acquire(committed);
      long handle = nextHandle.getAndIncrement();
      handles.put(handle, committed.number());
      return handle;
    });
  }

  /** The inode a handle is open on. */
  synchronized long inodeOf(long handle) throws FileSystemException {
    Long inode = handles.get(handle);
    if (inode == null) {
      throw new FileSystemException("handle " + handle, null, "Bad file descriptor");
    }
    return inode;
  }

  /** The writer of an open handle's inode. */
  synchronized FileWriter writer(long handle) throws FileSystemException {
    return writers.get(inodeOf(handle)).writer;
  }

  /** Ends a handle; its writer goes once nothing uses it and everything it was given is committed. */
  void release(long handle) throws InterruptedException, FileSystemException {
    long inode;
    synchronized (this) {
      inode = inodeOf(handle);
      handles.remove(handle);
    }
    unuse(inode);
  }

  /**
   * Runs {@code action} with the writer of the inode {@code read} gives (which may check it and
   * throw), making one if the inode has none.
   */
  <T> T withWriter(CommittedRead<Inode> read, WriterAction<T> action) throws IOException, InterruptedException {
    Inode file = consistently(read, committed -> {
      acquire(committed);
      return committed;
    });
    try {
      return action.run(acquired(file.number()));
    } finally {
      unuse(file.number());
    }
  }

  /**
   * Runs {@code action} with the writer of {@code inode} if it has one now, which cannot retire
   * meanwhile; empty if it has none.
   */
  <T> Optional<T> withExistingWriter(long inode, WriterAction<T> action) throws IOException, InterruptedException {
    Entry e;
    synchronized (this) {
      e = writers.get(inode);
      if (e == null) {
        return Optional.empty();
      }
      e.users++;
    }
    try {
      return Optional.of(action.run(e.writer));
    } finally {
      unuse(inode);
    }
  }

  interface WriterAction<T> {
    T run(FileWriter writer) throws IOException, InterruptedException;
  }

  /** Reads the index for what a writer may be about to change: the attributes of inodes. */
  interface CommittedRead<T> {
    T read() throws IOException;
  }

  /** The attributes of the inode {@code read} gives, as its writer, if it has one, sees them (pending size and mtime). */
  Inode shown(CommittedRead<Inode> read) throws IOException {
    return shownAll(() -> List.of(read.read())).get(0);
  }

  /** {@link #shown} of an inode {@code read} may not find (a lookup). */
  Optional<Inode> shownIfPresent(CommittedRead<Optional<Inode>> read) throws IOException {
    return shownAll(() -> read.read().map(List::of).orElse(List.of())).stream().findFirst();
  }

  /** The attributes of the inodes {@code read} gives, each as its writer, if it has one, sees them. */
  List<Inode> shownAll(CommittedRead<List<Inode>> read) throws IOException {
    List<Entry> theirs = new ArrayList<>();
    List<Inode> committed = consistently(read, inodes -> {
      inodes.forEach(i -> theirs.add(writers.get(i.number())));
      return inodes;
    });
    List<Inode> out = new ArrayList<>(committed.size());
    for (int i = 0; i < committed.size(); i++) {
      Entry e = theirs.get(i);
      out.add(e == null ? committed.get(i) : e.writer.view(committed.get(i)));
    }
    return out;
  }

  /**
   * Runs {@code read}, then {@code use} on what it read, under this lock, once no writer retired
   * while it read. A writer retires just after its last commit lands, so a read that overlapped a
   * retirement may hold the state from before that commit with no writer left to show what it
   * lacks: a file short of its last writes, which the kernel would then cache, append after, or
   * build a new writer on. Such a read is repeated. An rsync of small files retires about 4,000
   * writers a second, so a read of microseconds is seldom repeated, a long listing page more
   * often; a count per inode would repeat fewer.
   */
  private <T, R> R consistently(CommittedRead<T> read, Function<T, R> use) throws IOException {
    while (true) {
      long before;
      synchronized (this) {
        before = retirements;
      }
      T committed = read.read();
      synchronized (this) {
        if (retirements == before) {
          return use.apply(committed);
        }
      }
    }
  }

  /** Every writer alive now. */
  synchronized List<FileWriter> all() {
    List<FileWriter> out = new ArrayList<>(writers.size());
    writers.values().forEach(e -> out.add(e.writer));
    return out;
  }

  /**
   * The writer of an inode, made from its committed state (read {@link #consistently}) if it has
   * none: an existing writer knows better, since it may hold writes not committed yet.
   */
  private synchronized void acquire(Inode committed) {
    Entry e = writers.computeIfAbsent(committed.number(),
        n -> new Entry(new FileWriter(n, committed.size(), namespace, pipeline)));
    e.users++;
  }

  /** The writer of an inode this caller has {@link #acquire}d. */
  private synchronized FileWriter acquired(long inode) {
    return writers.get(inode).writer;
  }

  private void unuse(long inode) throws InterruptedException {
    Entry e;
    synchronized (this) {
      e = writers.get(inode);
      if (--e.users > 0) {
        return;
      }
    }
    e.writer.settle().whenComplete((v, error) -> {
      if (error != null) {
        // Nobody is left to report it to: the last handle is closed (e.g. the file was deleted).
        LOG.warn("write-back of inode {} failed after its last close: {}", inode, Redaction.withoutPaths(error));
      }
      retire(inode, e);
    });
  }

  /**
   * Drops a writer that nobody uses and that has committed everything, so idle inodes cost
   * nothing; an inode whose names all went meanwhile (an orphan) goes with it.
   */
  private void retire(long inode, Entry e) {
    synchronized (this) {
      if (writers.get(inode) != e || e.users != 0) {
        return;
      }
      if (!e.writer.isSettled()) {
        // Written to again (truncate by path) after settling began: wait for that too.
        try {
          e.writer.settle().whenComplete((v, error) -> retire(inode, e));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
        return;
      }
      writers.remove(inode);
      retirements++;
    }
    // Only now, with the inode no longer open: an unlink from here on deletes it itself.
    try {
      namespace.releaseOrphan(inode);
    } catch (IOException error) {
      LOG.warn("could not delete inode {} after its last close (its names were gone); the next mount will: {}", inode,
          Redaction.withoutPaths(error));
    }
  }
}
