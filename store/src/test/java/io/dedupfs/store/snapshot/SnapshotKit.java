package io.dedupfs.store.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.dedupfs.store.chunk.ChunkId;
import io.dedupfs.store.chunk.ChunkKind;
import io.dedupfs.store.file.FileReader;
import io.dedupfs.store.file.FileWriter;
import io.dedupfs.store.index.IndexTransaction;
import io.dedupfs.store.index.Table;
import io.dedupfs.store.ingest.IngestPipeline;
import io.dedupfs.store.ingest.IngestSettings;
import io.dedupfs.store.ingest.IngestStats;
import io.dedupfs.store.namespace.DirEntry;
import io.dedupfs.store.namespace.Extent;
import io.dedupfs.store.namespace.Inode;
import io.dedupfs.store.namespace.Mode;
import io.dedupfs.store.namespace.Name;
import io.dedupfs.store.namespace.Namespace;
import io.dedupfs.store.namespace.TreeSource;
import io.dedupfs.store.read.ChunkReader;
import io.dedupfs.store.repo.ChunkerParameters;
import io.dedupfs.store.repo.Compression;
import io.dedupfs.store.repo.Repository;
import io.dedupfs.store.repo.RepositoryConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real repository (LMDB index, packs, ingest pipeline) with a live tree and its snapshots, and
 * the means to compare a snapshot with the live tree: both are flattened into an {@link Image},
 * path → a line naming every attribute, xattr, symlink target, extent and a digest of the bytes.
 */
final class SnapshotKit implements AutoCloseable {
  static final int FILE = Mode.S_IFREG | 0644;
  static final int DIR = Mode.S_IFDIR | 0755;
  /** Small chunks (files get many extents) yet room for a 64 KiB tree node plus a large entry. */
  static final ChunkerParameters SMALL_CHUNKS = new ChunkerParameters(1024, 4096, 256 << 10);

  final Path path;
  private final Repository.OpenOptions options;
  final TickingClock clock = new TickingClock();
  Repository repo;
  IngestPipeline pipeline;
  ChunkReader chunks;
  Namespace ns;
  FileReader files;
  SnapshotReader reader;
  Snapshots snapshots;

  private SnapshotKit(Path path, Repository.OpenOptions options) {
    this.path = path;
    this.options = options;
  }

  static SnapshotKit create(Path path, ChunkerParameters chunker) throws IOException {
    return create(path, RepositoryConfig.create(chunker, Compression.DEFAULT), Repository.OpenOptions.DEFAULT);
  }

  /** A kit on a new repository with {@code config}, created and opened again with {@code options}. */
  static SnapshotKit create(Path path, RepositoryConfig config, Repository.OpenOptions options) throws IOException {
    SnapshotKit kit = new SnapshotKit(path, options);
    kit.repo = Repository.init(path, config, options);
    kit.start();
    return kit;
  }

  /** A kit on an existing repository. */
  static SnapshotKit open(Path path, Repository.OpenOptions options) throws IOException {
    SnapshotKit kit = new SnapshotKit(path, options);
    kit.repo = Repository.open(path, options);
    kit.start();
    return kit;
  }

  /** Closes everything and opens the repository again, as a new process would. */
  void reopen() throws IOException {
    close();
    repo = Repository.open(path, options);
    start();
  }

  private void start() throws IOException {
    pipeline = new IngestPipeline(repo, new IngestSettings(64 << 20, 2, Duration.ofMillis(100), 4),
        Clock.systemUTC());
    chunks = ChunkReader.of(repo);
    ns = Namespace.open(repo.index(), clock);
    files = new FileReader(ns, chunks, 4 << 20);
    reader = new SnapshotReader(chunks, 4 << 20);
    snapshots = Snapshots.open(repo, ns, pipeline, () -> { });
  }

  @Override
  public void close() throws IOException {
    if (repo == null) {
      return;
    }
    Repository closing = repo;
    repo = null;
    try {
      pipeline.close();
    } finally {
      chunks.close();
      closing.close();
    }
  }

  // ---------------------------------------------------------------- building trees

  long mkdir(long parent, String name) throws IOException {
    return ns.mknod(parent, Name.of(name), DIR, 0, 0, 0).number();
  }

  long mkfile(long parent, String name) throws IOException {
    return ns.mknod(parent, Name.of(name), FILE, 0, 0, 0).number();
  }

  /** Creates (or overwrites from 0) a file with {@code size} deterministic bytes, committed. */
  long writeFile(long parent, String name, int size, long seed) throws Exception {
    Name n = Name.of(name);
    long inode = ns.lookup(parent, n).isPresent() ? ns.lookup(parent, n).get().number()
        : ns.mknod(parent, n, FILE, 0, 0, 0).number();
    write(inode, 0, bytes(size, seed));
    return inode;
  }

  void write(long inode, long offset, byte[] data) throws Exception {
    FileWriter w = new FileWriter(inode, ns.getattr(inode).size(), ns, pipeline);
    w.write(offset, ByteBuffer.wrap(data));
    w.flush();
  }

  /**
   * Hands {@code data} to the pipeline as one DATA chunk without waiting; usable in extents after
   * {@link #flushChunks()}. Much faster than a {@link FileWriter} per file when a test needs many.
   */
  ChunkId storeChunk(byte[] data) throws InterruptedException {
    pipeline.store(ChunkKind.DATA, data);
    return repo.chunkIds().newHasher().idOf(data);
  }

  void flushChunks() throws Exception {
    pipeline.flush();
  }

  /** Replaces {@code [offset, offset + length)} of a file with one extent of a stored chunk. */
  void setContent(long inode, long offset, ChunkId chunk, int chunkOffset, int length) throws IOException {
    ns.replaceRange(inode, offset, length, List.of(new Extent(offset, chunk, chunkOffset, length)), ns.now());
  }

  static byte[] bytes(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static Name name(String s) {
    return Name.of(s);
  }

  SnapshotRecord snapshot(String name) throws Exception {
    return snapshots.create(Name.of(name));
  }

  long newTreeChunks(IngestStats before) {
    return pipeline.stats().newChunks() - before.newChunks();
  }

  /** Every {@code trees} entry of the index: directory → tree id, bytes, files, directories. */
  Map<Long, String> cachedTrees() throws IOException {
    return repo.index().read(tx -> {
      Map<Long, String> out = new TreeMap<>();
      for (IndexTransaction.Entry e : tx.scanFrom(Table.TREES, new byte[] {0}, new byte[] {0}, Integer.MAX_VALUE)) {
        out.put(ByteBuffer.wrap(e.key()).getLong(), HexFormat.of().formatHex(e.value()));
      }
      return out;
    });
  }

  /** Deletes every {@code trees} entry, so that the next snapshot serializes the whole tree. */
  void clearTreeCache() throws IOException {
    repo.index().write(tx -> {
      for (List<IndexTransaction.Entry> page; !(page = tx.scanFrom(Table.TREES, new byte[] {0}, new byte[] {0}, 256))
          .isEmpty(); ) {
        page.forEach(e -> tx.delete(Table.TREES, e.key()));
      }
      return null;
    });
  }

  // ---------------------------------------------------------------- reading

  /** All of a live file's bytes. */
  byte[] liveBytes(long inode) throws IOException {
    long size = ns.getattr(inode).size();
    byte[] out = new byte[Math.toIntExact(size)];
    ByteBuffer dst = ByteBuffer.wrap(out);
    while (dst.hasRemaining()) {
      int n = files.read(inode, dst.position(), dst.slice(dst.position(), Math.min(dst.remaining(), 100_000)));
      if (n == 0) {
        fail("live read stopped at " + dst.position() + " of " + size);
      }
      dst.position(dst.position() + n);
    }
    return out;
  }

  /** All of a snapshot file's bytes, read through the snapshot's extents in pieces of {@code piece} bytes. */
  byte[] snapshotBytes(TreeEntry file, int piece) throws IOException {
    long size = file.inode().size();
    byte[] out = new byte[Math.toIntExact(size)];
    for (int off = 0; off < size; ) {
      int len = (int) Math.min(piece, size - off);
      ByteBuffer dst = ByteBuffer.wrap(out, off, len).slice();
      int n = files.read(new Namespace.FileRange(size, reader.extents(file, off, len)), off, dst);
      assertEquals(len, n, "snapshot read at " + off);
      off += n;
    }
    return out;
  }

  /** Every name of a live directory, in pages. */
  List<DirEntry> liveList(long dir) throws IOException {
    List<DirEntry> out = new ArrayList<>();
    Name after = null;
    for (List<DirEntry> page; !(page = ns.list(dir, after, 97)).isEmpty(); after = page.get(page.size() - 1).name()) {
      out.addAll(page);
    }
    return out;
  }

  List<TreeEntry> snapshotList(TreeEntry dir) throws IOException {
    List<TreeEntry> out = new ArrayList<>();
    Name after = null;
    for (List<TreeEntry> page; !(page = reader.list(dir, after, 89)).isEmpty(); after = page.get(page.size() - 1).name()) {
      out.addAll(page);
    }
    return out;
  }

  // ---------------------------------------------------------------- images

  /** A tree flattened: path → description. Also the totals a snapshot record carries. */
  record Image(TreeMap<String, String> entries, long bytes, long files, long directories) {}

  /** The live tree, read one directory at a time (the caller keeps it still). */
  Image liveImage() throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    long[] totals = new long[3];
    Inode root = ns.getattr(Namespace.ROOT);
    out.put("/", describe(root, liveXattrs(Namespace.ROOT), null, null, null));
    Deque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {Namespace.ROOT, ""});
    while (!stack.isEmpty()) {
      Object[] top = stack.pop();
      long dir = (Long) top[0];
      String prefix = (String) top[1];
      for (DirEntry e : liveList(dir)) {
        Inode i = ns.getattr(e.inode());
        assertEquals(e.type(), i.type(), "dirent type of " + prefix + "/" + e.name());
        String p = prefix + "/" + printable(e.name().bytes());
        byte[] target = i.type() == Mode.S_IFLNK ? ns.readlink(i.number()) : null;
        List<Extent> extents = i.type() == Mode.S_IFREG ? ns.extents(i.number(), 0, i.size()) : null;
        byte[] data = i.type() == Mode.S_IFREG ? liveBytes(i.number()) : null;
        out.put(p, describe(i, liveXattrs(i.number()), target, extents, data));
        if (i.isDirectory()) {
          totals[2]++;
          stack.push(new Object[] {i.number(), p});
        } else {
          totals[1]++;
          totals[0] += i.type() == Mode.S_IFREG ? i.size() : 0;
        }
      }
    }
    return new Image(out, totals[0], totals[1], totals[2]);
  }

  private List<TreeSource.Xattr> liveXattrs(long inode) throws IOException {
    List<TreeSource.Xattr> out = new ArrayList<>();
    for (byte[] n : ns.listXattrs(inode)) {
      out.add(new TreeSource.Xattr(n, ns.getXattr(inode, n)));
    }
    return out;
  }

  /**
   * A snapshot flattened the same way, through {@link SnapshotReader} only; also checks that
   * every listed name is found by lookup and resolve as the same entry.
   */
  Image snapshotImage(SnapshotRecord record) throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    long[] totals = new long[3];
    TreeEntry root = record.root();
    out.put("/", describe(root.inode(), root.xattrs(), null, null, null));
    Deque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {root, ""});
    while (!stack.isEmpty()) {
      Object[] top = stack.pop();
      TreeEntry dir = (TreeEntry) top[0];
      String prefix = (String) top[1];
      Name previous = null;
      for (TreeEntry e : snapshotList(dir)) {
        if (previous != null && java.util.Arrays.compareUnsigned(repo.index().sealing().entryOrderKey(previous.bytes()),
            repo.index().sealing().entryOrderKey(e.name().bytes())) >= 0) {
          fail("snapshot listing of " + prefix + "/ out of order at " + e.name());
        }
        previous = e.name();
        String p = prefix + "/" + printable(e.name().bytes());
        TreeEntry found = reader.lookup(dir, e.name()).orElseThrow(() -> new AssertionError("lookup of " + p));
        assertEquals(TreeCodec.encodeEntry(e).length, TreeCodec.encodeEntry(found).length, "lookup of " + p);
        assertEquals(HexFormat.of().formatHex(TreeCodec.encodeEntry(e)),
            HexFormat.of().formatHex(TreeCodec.encodeEntry(found)), "lookup of " + p);
        Inode i = e.inode();
        List<Extent> extents = e.isRegularFile() ? reader.extents(e, 0, i.size()) : null;
        byte[] data = e.isRegularFile() ? snapshotBytes(e, 77_777) : null;
        out.put(p, describe(i, e.xattrs(), e.target(), extents, data));
        if (e.isDirectory()) {
          totals[2]++;
          stack.push(new Object[] {e, p});
        } else {
          totals[1]++;
          totals[0] += e.isRegularFile() ? i.size() : 0;
        }
      }
    }
    return new Image(out, totals[0], totals[1], totals[2]);
  }

  static String describe(Inode i, List<TreeSource.Xattr> xattrs, byte[] target, List<Extent> extents, byte[] data) {
    StringBuilder s = new StringBuilder();
    s.append("ino=").append(i.number()).append(" mode=").append(Integer.toOctalString(i.mode()))
        .append(" uid=").append(i.uid()).append(" gid=").append(i.gid()).append(" nlink=").append(i.nlink())
        .append(" size=").append(i.size()).append(" atime=").append(i.atimeNanos()).append(" mtime=")
        .append(i.mtimeNanos()).append(" ctime=").append(i.ctimeNanos()).append(" rdev=").append(i.rdev());
    s.append(" xattrs=[");
    for (TreeSource.Xattr x : xattrs) {
      s.append(printable(x.name())).append('=').append(digest(x.value())).append('/').append(x.value().length)
          .append(';');
    }
    s.append(']');
    if (target != null) {
      s.append(" target=").append(printable(target));
    }
    if (extents != null) {
      s.append(" extents=").append(extents.size()).append(':').append(digest(extents.toString()
          .getBytes(StandardCharsets.UTF_8)));
    }
    if (data != null) {
      s.append(" data=").append(digest(data));
    }
    return s.toString();
  }

  static String digest(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b), 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static String printable(byte[] name) {
    StringBuilder s = new StringBuilder();
    for (byte b : name) {
      if (b >= 0x21 && b < 0x7f && b != '\\' && b != '/') {
        s.append((char) b);
      } else {
        s.append(String.format("\\x%02x", b & 0xff));
      }
    }
    return s.length() > 60 ? s.substring(0, 40) + "…(" + name.length + ")" + digest(name) : s.toString();
  }

  /** Asserts two images are equal, naming the first path where they differ. */
  static void assertSameImage(Image expected, Image actual, String context) {
    for (Map.Entry<String, String> e : expected.entries().entrySet()) {
      String got = actual.entries().get(e.getKey());
      if (got == null) {
        fail(context + ": " + e.getKey() + " missing; expected " + e.getValue());
      }
      assertEquals(e.getValue(), got, context + ": " + e.getKey());
    }
    for (String k : actual.entries().keySet()) {
      if (!expected.entries().containsKey(k)) {
        fail(context + ": unexpected " + k + " = " + actual.entries().get(k));
      }
    }
    assertEquals(expected.bytes(), actual.bytes(), context + ": bytes");
    assertEquals(expected.files(), actual.files(), context + ": files");
    assertEquals(expected.directories(), actual.directories(), context + ": directories");
  }

  /** The snapshot equals the live tree now, and its record's totals equal the tree's. */
  void assertSnapshotIsLive(SnapshotRecord record, String context) throws IOException {
    Image live = liveImage();
    Image snap = snapshotImage(record);
    assertSameImage(live, snap, context);
    assertRecordTotals(record, snap, context);
  }

  static void assertRecordTotals(SnapshotRecord record, Image image, String context) {
    assertEquals(image.bytes(), record.bytes(), context + ": record bytes");
    assertEquals(image.files(), record.files(), context + ": record files");
    assertEquals(image.directories(), record.directories(), context + ": record directories");
  }

  static byte[] concat(byte[]... parts) {
    int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  /** A clock that moves 1.000001 ms at every reading, so that every change has its own times. */
  static final class TickingClock extends Clock {
    private final AtomicLong nanos = new AtomicLong(1_790_000_000_000_000_000L);

    long peek() {
      return nanos.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochSecond(0, nanos.addAndGet(1_000_001));
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
