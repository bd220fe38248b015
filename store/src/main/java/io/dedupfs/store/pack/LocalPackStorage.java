package io.dedupfs.store.pack;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Packs as files under {@code REPO/packs/HH/}, and packs set aside in {@code REPO/lost+found/}
 * beside it (FORMAT.md §2). Opens a descriptor per read rather
 * than keeping one per pack: a repository has more packs than a process may hold open files.
 */
public final class LocalPackStorage implements PackStorage {
  /** Lowercase hex, first digit 0–7: the names of non-negative 64-bit pack numbers. */
  private static final java.util.regex.Pattern PACK_NAME = java.util.regex.Pattern.compile("[0-7][0-9a-f]{15}");

  static final String LOST_AND_FOUND = "lost+found";

  private final Path root;

  public LocalPackStorage(Path root) {
    this.root = root;
  }

  Path pathOf(PackNumber number) {
    return root.resolve(number.directoryName()).resolve(number.fileName());
  }

  @Override
  public PackOutput create(PackNumber number) throws IOException {
    Path dir = root.resolve(number.directoryName());
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      syncDirectory(root);
    }
    FileChannel channel = FileChannel.open(pathOf(number), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    return new LocalPackOutput(channel, dir);
  }

  @Override
  public void read(PackNumber number, long offset, ByteBuffer dst) throws IOException {
    try (FileChannel channel = FileChannel.open(pathOf(number), StandardOpenOption.READ)) {
      long at = offset;
      while (dst.hasRemaining()) {
        int n = channel.read(dst, at);
        if (n < 0) {
          throw new EOFException("pack " + number + " ends before byte " + (at + dst.remaining()));
        }
        at += n;
      }
    }
  }

  @Override
  public long size(PackNumber number) throws IOException {
    return Files.size(pathOf(number));
  }

  @Override
  public List<PackNumber> list() throws IOException {
    List<PackNumber> packs = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return packs;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path dir : dirs) {
        if (!Files.isDirectory(dir)) {
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
          for (Path file : files) {
            // Only names this storage would write, in the directory it would write them to:
            // anything else is not a pack and must not stop the listing.
            String name = file.getFileName().toString();
            if (PACK_NAME.matcher(name).matches() && Files.isRegularFile(file)) {
              PackNumber number = PackNumber.parse(name);
              if (number.directoryName().equals(dir.getFileName().toString())) {
                packs.add(number);
              }
            }
          }
        }
      }
    }
    Collections.sort(packs);
    return packs;
  }

  @Override
  public void delete(PackNumber number) throws IOException {
    try {
      Files.delete(pathOf(number));
    } catch (NoSuchFileException e) {
      return;
    }
    syncDirectory(pathOf(number).getParent());
  }

  @Override
  public String setAside(PackNumber number) throws IOException {
    Path lostAndFound = root.resolveSibling(LOST_AND_FOUND);
    Files.createDirectories(lostAndFound);
    Path target = lostAndFound.resolve(number.fileName());
    // A pack of the same number set aside earlier (its number was free to use again) stays too.
    for (int n = 1; Files.exists(target); n++) {
      target = lostAndFound.resolve(number.fileName() + "." + n);
    }
    Files.move(pathOf(number), target);
    syncDirectory(lostAndFound);
    syncDirectory(pathOf(number).getParent());
    return target.toString();
  }

  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static final class LocalPackOutput implements PackOutput {
    private final FileChannel channel;
    private final Path directory;
    private long position;

    LocalPackOutput(FileChannel channel, Path directory) {
      this.channel = channel;
      this.directory = directory;
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
      while (src.hasRemaining()) {
        position += channel.write(src, position);
      }
    }

    @Override
    public long position() {
      return position;
    }

    @Override
    public void seal() throws IOException {
      try {
        channel.force(false);
      } finally {
        channel.close();
      }
      syncDirectory(directory);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
