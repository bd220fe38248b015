#!/usr/bin/env bash
# Figures of the FUSE mount, median of N runs, each into a new repository mounted with --memory:
#   1. rsync -a SRC/ into the mount (MB/s, files/s); 2. the same rsync again, nothing changed (s);
#   3. dd bs=1M of a big file of real data into the mount, fsync included (MB/s);
#   4. dd of it back out after a new mount, so nothing is cached (MB/s);
#   and the peak RssAnon of the filesystem process, sampled every 0.2 s.
#   bench/mount-figures.sh [--memory 64M] [--runs 3] [--big-file FILE] SRC
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
memory=64M
runs=3
big=""
while [ $# -gt 0 ]; do
  case "$1" in
    --memory) memory="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --big-file) big="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--memory SIZE] [--runs N] [--big-file FILE] SRC" >&2; exit 2; }
src="$1"
work="$(mktemp -d /tmp/dedupfs-mount-bench-XXXXXX)"
cleanup() { mountpoint -q "$work/mnt" && "$here/dedupfs" umount "$work/mnt" >/dev/null; rm -rf "$work"; }
trap cleanup EXIT
source "$here/bench/lib.sh"
mkdir -p "$work/mnt"
files=$(find "$src" -type f | wc -l)
bytes=$(du -sb --apparent-size "$src" | cut -f1)
big_bytes=0
[ -z "$big" ] || big_bytes=$(stat -c %s "$big")

peak_rss() { # pid outfile: samples RssAnon (kB) until the process exits
  local max=0 v
  while [ -e "/proc/$1/status" ]; do
    v=$(awk '/RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$max" ] && max=$v && echo "$max" > "$2"
    sleep 0.2
  done
}
mount_repo() {
  "$here/dedupfs" mount "$work/repo" "$work/mnt" --memory "$memory" | grep -oP '\(process \K[0-9]+'
}

for i in $(seq 1 "$runs"); do
  rm -rf "$work/repo"; "$here/dedupfs" init "$work/repo" >/dev/null
  # The page cache is reclaimed after about a minute idle: read the inputs right before timing.
  find "$src" -type f -print0 | xargs -0 cat > /dev/null 2>&1 || true
  pid=$(mount_repo); peak_rss "$pid" "$work/rss.$i" & sampler=$!
  t0=$(now); rsync -a "$src/" "$work/mnt/tree/"; t1=$(now)
  rsync -a "$src/" "$work/mnt/tree/"; t2=$(now)
  echo "$t0 $t1" | awk -v b="$bytes" '{print b/($2-$1)/1e6}' >> "$work/rsync.mbs"
  echo "$t0 $t1" | awk -v f="$files" '{print f/($2-$1)}' >> "$work/rsync.fps"
  echo "$t1 $t2" | awk '{print $2-$1}' >> "$work/unchanged.s"
  if [ -n "$big" ]; then
    cat "$big" > /dev/null
    t0=$(now); dd if="$big" of="$work/mnt/big" bs=1M conv=fsync status=none; t1=$(now)
    echo "$t0 $t1" | awk -v b="$big_bytes" '{print b/($2-$1)/1e6}' >> "$work/write.mbs"
  fi
  "$here/dedupfs" umount "$work/mnt" >/dev/null; wait "$sampler" || true
  if [ -n "$big" ]; then
    mount_repo >/dev/null
    t0=$(now); dd if="$work/mnt/big" of=/dev/null bs=1M status=none; t1=$(now)
    echo "$t0 $t1" | awk -v b="$big_bytes" '{print b/($2-$1)/1e6}' >> "$work/read.mbs"
    "$here/dedupfs" umount "$work/mnt" >/dev/null
  fi
  echo "run $i: rsync $(tail -1 "$work/rsync.mbs") MB/s $(tail -1 "$work/rsync.fps") files/s, unchanged $(tail -1 "$work/unchanged.s") s, peak RssAnon $(( $(cat "$work/rss.$i") / 1024 )) MiB" \
    "${big:+, big write $(tail -1 "$work/write.mbs") MB/s, cold read $(tail -1 "$work/read.mbs") MB/s}" >&2
done

echo "source $src: $files files, $((bytes / 1000000)) MB; --memory $memory; median of $runs runs"
printf 'rsync -a into the mount   %8.1f MB/s %8.0f files/s\n' "$(median < "$work/rsync.mbs")" "$(median < "$work/rsync.fps")"
printf 'rsync -a, nothing changed %8.2f s\n' "$(median < "$work/unchanged.s")"
if [ -n "$big" ]; then
  printf 'dd write %s (%d MB)  %8.1f MB/s (fsync included)\n' "$(basename "$big")" "$((big_bytes / 1000000))" "$(median < "$work/write.mbs")"
  printf 'dd read after remount    %8.1f MB/s\n' "$(median < "$work/read.mbs")"
fi
printf 'peak RssAnon              %8.0f MiB\n' "$(cat "$work"/rss.* | median | awk '{print $1/1024}')"
