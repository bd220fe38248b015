#!/usr/bin/env bash
# What encryption costs, on the same data, median of N runs each (plain and encrypted runs
# alternate, each into a new repository, the inputs read once beforehand so the page cache is warm):
#   1. bench ingest PATH... (no FUSE): MB/s plain and encrypted, and the ratio;
#   2. check --read-data of the last repository of each kind: seconds, and MB/s of pack bytes read;
#   3. the key derivation: seconds for dedupfs key change-passphrase (Argon2id twice: unlock, rewrap).
#   bench/encryption-figures.sh [--memory 256M] [--runs 3] PATH...
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
memory=256M
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --memory) memory="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--memory SIZE] [--runs N] PATH..." >&2; exit 2; }
work="$(mktemp -d /tmp/dedupfs-encryption-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
source "$here/bench/lib.sh"
export DEDUPFS_PASSPHRASE="benchmark passphrase"
export DEDUPFS_NEW_PASSPHRASE="another benchmark passphrase"

find "$@" -type f -print0 2>/dev/null | xargs -0 cat > /dev/null 2>&1 || true
: > "$work/plain.mbs"; : > "$work/encrypted.mbs"
for i in $(seq 1 "$runs"); do
  for kind in plain encrypted; do
    rm -rf "$work/$kind"
    flag=(); [ "$kind" = encrypted ] && flag=(--encrypt)
    "$here/dedupfs" bench ingest "${flag[@]}" --repo "$work/$kind" --memory "$memory" "$@" > "$work/$kind-$i.txt"
    grep -oP 'throughput \K[0-9.]+' "$work/$kind-$i.txt" | head -1 >> "$work/$kind.mbs"
  done
done
plain=$(median < "$work/plain.mbs")
encrypted=$(median < "$work/encrypted.mbs")
echo "ingest, median of $runs: plain $plain MB/s ($(tr '\n' ' ' < "$work/plain.mbs")), encrypted $encrypted MB/s ($(tr '\n' ' ' < "$work/encrypted.mbs"))"
echo "$plain $encrypted" | awk '{printf "encryption costs %.1f%% of ingest throughput\n", 100 * (1 - $2 / $1)}'

for kind in plain encrypted; do
  bytes=$(du -sb "$work/$kind/packs" | cut -f1)
  start=$(now)
  "$here/dedupfs" check --read-data "$work/$kind" > "$work/check-$kind.txt"
  took=$(since "$start")
  echo "$kind check --read-data: $took s for $bytes pack bytes ($(echo "$bytes $took" | awk '{printf "%.1f", $1 / 1e6 / $2}') MB/s); $(tail -1 "$work/check-$kind.txt")"
done
start=$(now)
"$here/dedupfs" key change-passphrase "$work/encrypted" > /dev/null
echo "key change-passphrase (two Argon2id derivations and a JVM start): $(since "$start") s"
