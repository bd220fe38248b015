package io.dedupfs.store.repo;

import io.dedupfs.store.RepositoryLockedException;
import java.nio.file.Path;

/**
 * Child-process main for {@link RepositoryTest}: {@code hold REPO} opens the repository, prints
 * {@code opened pid=<pid>} and keeps it open until killed (or stdin closes); {@code try REPO}
 * tries once and prints {@code opened} or {@code locked <message>}, then exits.
 */
public final class LockHolderChild {
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Path repo = Path.of(args[1]);
    try {
      Repository r = Repository.open(repo, Repository.OpenOptions.DEFAULT);
      System.out.println("opened pid=" + ProcessHandle.current().pid());
      System.out.flush();
      if (mode.equals("hold")) {
        // stay until killed; a closed stdin (parent gone) also ends us
        while (System.in.read() >= 0) {
          // keep holding
        }
      }
      r.close();
    } catch (RepositoryLockedException e) {
      System.out.println("locked " + e.getMessage());
    } catch (Exception e) {
      System.out.println("error " + e);
    }
    System.out.flush();
  }
}
