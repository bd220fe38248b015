#!/usr/bin/env bash
# Regenerates tools/src/main/resources/io/dedupfs/tools/class-data.lst: the classes that a mount
# serving reads and writes, and the everyday commands, load. ./dedupfs and `dedupfs install` archive
# them for class data sharing (ClassDataArchive), so that a JVM maps them instead of parsing them.
# Run it as root (it mounts) when those paths load other classes; a stale list only costs start-up
# time: classes it no longer names load the slow way, names that no longer exist are skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/tools/src/main/resources/io/dedupfs/tools/class-data.lst"
work="$(mktemp -d)"
trap 'mountpoint -q "$work/mnt" && fusermount -u "$work/mnt"; rm -rf "$work"' EXIT

# dedupfs ARGS..., its loaded classes listed in $work/NAME.lst.
listed() {
  local name=$1; shift
  DEDUPFS_JAVA_OPTS="-Xms32m -Xmx256m -XX:DumpLoadedClassList=$work/$name.lst" "$here/dedupfs" "$@"
}

listed version --version > /dev/null
listed init init "$work/repo" > /dev/null
mkdir "$work/mnt"
# In the foreground: the filesystem process's classes, in a list of its own.
listed mount mount "$work/repo" "$work/mnt" --foreground > /dev/null 2>&1 &
for _ in $(seq 300); do mountpoint -q "$work/mnt" && break; sleep 0.1; done
mountpoint -q "$work/mnt" || { echo "class-list.sh: the mount did not come up" >&2; exit 1; }
cp -a "$here/store/src" "$work/mnt/"
rsync -a "$here/fs/src" "$work/mnt/"
find "$work/mnt" -type f -exec cat {} + > /dev/null
mkdir "$work/mnt/.snapshots/first"
ls -lR "$work/mnt/.snapshots/first" > /dev/null
listed stats stats "$work/repo" > /dev/null
listed snapshots snapshot list "$work/repo" > /dev/null
listed umount umount "$work/mnt" > /dev/null
wait
listed check check "$work/repo" > /dev/null

{
  echo "# Made by tools/class-list.sh: the classes a mount and the everyday commands load (see there)."
  cat "$work"/*.lst | grep -v '^#' | awk '!seen[$0]++'
} > "$out"
echo "wrote $(grep -vc '^#' "$out") entries to $out"
