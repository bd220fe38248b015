#!/usr/bin/env bash
# Ingest figures for a set of paths: median of N runs of a first ingest into a new repository,
# and of N runs over data already stored, with peak RssAnon. Prints one summary block.
#   bench/ingest-figures.sh [--memory 64M] [--runs 3] PATH...
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
memory=64M
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --memory) memory="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--memory SIZE] [--runs N] PATH..." >&2; exit 2; }

work="$(mktemp -d /tmp/dedupfs-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
source "$here/bench/lib.sh"
field() { grep -oP "$1" "$2" | head -1; }

# The page cache is reclaimed after about a minute idle: read the inputs once so every run sees the same cache.
find "$@" -type f -print0 2>/dev/null | xargs -0 cat > /dev/null 2>&1 || true

for kind in new stored; do
  : > "$work/$kind.mbs"; : > "$work/$kind.rss"; : > "$work/$kind.fps"
done
for i in $(seq 1 "$runs"); do
  rm -rf "$work/repo"
  "$here/dedupfs" bench ingest --repo "$work/repo" --memory "$memory" "$@" > "$work/new-$i.txt"
  "$here/dedupfs" bench ingest --repo "$work/repo" --memory "$memory" "$@" > "$work/stored-$i.txt"
  for kind in new stored; do
    f="$work/$kind-$i.txt"
    field 'throughput \K[0-9.]+' "$f" >> "$work/$kind.mbs"
    field 'MB/s, \K[0-9]+' "$f" >> "$work/$kind.fps"
    field 'peak RssAnon \K[0-9.]+ \S+' "$f" | awk '{v=$1; if ($2=="GiB") v*=1024; if ($2=="KiB") v/=1024; print v}' >> "$work/$kind.rss"
  done
done

echo "== $(field 'ingested +\K.*' "$work/new-1.txt") — memory budget $memory, $runs runs each"
for kind in new stored; do
  printf '%-7s median %7.1f MB/s  %6.0f files/s  peak RssAnon median %.1f MiB (runs: %s MB/s)\n' "$kind" \
    "$(median < "$work/$kind.mbs")" "$(median < "$work/$kind.fps")" "$(median < "$work/$kind.rss")" \
    "$(paste -sd' ' "$work/$kind.mbs")"
done
echo "-- first ingest, run 1:"
cat "$work/new-1.txt"
echo "-- same data again, run 1:"
cat "$work/stored-1.txt"
