#!/usr/bin/env bash
# Figures of snapshots, median of N runs, each into a new repository mounted with --memory, the
# tree copied in with rsync -a (not timed):
#   1. mkdir .snapshots/s1 right after the rsync: every directory is new (s);
#   2. mkdir .snapshots/s2 with one file changed since s1 (s; goal <= 0.5 s for 100k files);
#   3. mkdir .snapshots/s3 after touch of every file: every directory changed (s);
#   then a new mount, so the filesystem process has nothing cached (the page cache stays warm):
#   4. find MOUNT/.snapshots/s1 | wc -l (s; goal <= 2 s for 100k files);
#   5. tar cf - of s1 into wc -c: every file of the snapshot read (MB/s of file data, files/s).
# Without SRC, a tree of --files small files (1-8 KB, 100 directories in 10) is made once in /tmp.
#   bench/snapshot-figures.sh [--memory 64M] [--runs 3] [--files 100000] [SRC]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
memory=64M
runs=3
files=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --memory) memory="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -le 1 ] || { echo "usage: $0 [--memory SIZE] [--runs N] [--files N] [SRC]" >&2; exit 2; }
work="$(mktemp -d /tmp/dedupfs-snapshot-bench-XXXXXX)"
mnt="$work/mnt"
cleanup() { mountpoint -q "$mnt" && "$here/dedupfs" umount "$mnt" >/dev/null; rm -rf "$work"; }
trap cleanup EXIT
source "$here/bench/lib.sh"

# 10 x 10 directories of files of one size each, from 1000 to 8000 bytes of base64 text.
make_tree() {
  local per=$(( ($2 + 99) / 100 )) i j size
  for i in $(seq 0 9); do
    for j in $(seq 0 9); do
      size=$(( (i * 10 + j) % 8 * 1000 + 1000 ))
      mkdir -p "$1/a$i/b$j"
      # size is a multiple of 4, so the base64 of per * size * 3/4 bytes is per * size characters.
      head -c $(( per * size / 4 * 3 )) /dev/urandom | base64 -w 0 | (cd "$1/a$i/b$j" && split -a 6 -d -b "$size" - f)
    done
  done
}

if [ $# -eq 1 ]; then
  src="$1"
else
  src="$work/src"
  echo "making $files files in $src ..." >&2
  make_tree "$src" "$files"
fi
mkdir -p "$mnt"
count=$(find "$src" -type f | wc -l)
entries=$(find "$src" | wc -l)
data_bytes=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
one=$(cd "$src" && find . -type f -print -quit)
[ -n "$one" ] || { echo "$src has no files" >&2; exit 1; }

for i in $(seq 1 "$runs"); do
  rm -rf "$work/repo"; "$here/dedupfs" init "$work/repo" >/dev/null
  "$here/dedupfs" mount "$work/repo" "$mnt" --memory "$memory" >/dev/null
  rsync -a "$src/" "$mnt/tree/"
  t=$(now); mkdir "$mnt/.snapshots/s1"; since "$t" >> "$work/first.s"
  echo "changed in run $i" >> "$mnt/tree/$one"
  t=$(now); mkdir "$mnt/.snapshots/s2"; since "$t" >> "$work/one-changed.s"
  find "$mnt/tree" -type f -print0 | xargs -0 touch
  t=$(now); mkdir "$mnt/.snapshots/s3"; since "$t" >> "$work/all-changed.s"
  "$here/dedupfs" umount "$mnt" >/dev/null
  "$here/dedupfs" mount "$work/repo" "$mnt" --memory "$memory" >/dev/null
  t=$(now); found=$(find "$mnt/.snapshots/s1" | wc -l); since "$t" >> "$work/find.s"
  # find lists s1 itself and tree/ besides the source's entries.
  [ "$found" -eq $(( entries + 1 )) ] || echo "run $i: find listed $found entries in s1, the source has $entries (+1 expected)" >&2
  t=$(now); tar cf - -C "$mnt/.snapshots/s1" . | wc -c > /dev/null; since "$t" >> "$work/read.s"
  "$here/dedupfs" umount "$mnt" >/dev/null
  echo "run $i: snapshot first $(tail -1 "$work/first.s") s, one file changed $(tail -1 "$work/one-changed.s") s," \
    "all changed $(tail -1 "$work/all-changed.s") s; find $(tail -1 "$work/find.s") s; tar read $(tail -1 "$work/read.s") s" >&2
done

read_s=$(median < "$work/read.s")
echo "source $src: $count files, $entries entries, $(awk -v b="$data_bytes" 'BEGIN {printf "%.1f", b / 1e6}') MB of data;" \
  "--memory $memory; median of $runs runs"
printf 'mkdir .snapshots/s1, first snapshot   %8.3f s\n' "$(median < "$work/first.s")"
printf 'mkdir .snapshots/s2, one file changed %8.3f s\n' "$(median < "$work/one-changed.s")"
printf 'mkdir .snapshots/s3, every file touched %6.3f s\n' "$(median < "$work/all-changed.s")"
printf 'find .snapshots/s1 | wc -l, new mount %8.3f s\n' "$(median < "$work/find.s")"
printf 'tar cf - .snapshots/s1 | wc -c        %8.1f MB/s %8.0f files/s (%.1f s)\n' \
  "$(echo "$data_bytes $read_s" | awk '{print $1/$2/1e6}')" "$(echo "$count $read_s" | awk '{print $1/$2}')" "$read_s"
