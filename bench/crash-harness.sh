#!/usr/bin/env bash
# The crash harness (CrashPointsIT in tools' integration tests) at its full count: N rounds, each a
# kill -9 of the filesystem process during ingest, a snapshot, a pack seal, a collection or its
# pack rewrites, then check --read-data, a new mount, and every fsync'ed file and every snapshot
# verified. Builds with Maven and runs only that test through failsafe (CI runs the same test in
# `mvn verify` with its default of 10 rounds); prints the table of rounds and the totals, and
# exits non-zero if a round found a problem (its failures are listed).
#   bench/crash-harness.sh [--rounds 60] [--seed N] [MAVEN_OPTION ...]    (e.g. -o, offline)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds=60
seed=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seed) seed=("-Dit.seed=$2"); shift 2 ;;
    *) break ;;
  esac
done
log="$(mktemp /tmp/dedupfs-crash-harness-XXXXXX)"
trap 'rm -f "$log"' EXIT
start=$(date +%s)
status=0
(cd "$here" && mvn -B verify -pl tools -am -Dit.test=CrashPointsIT -Dtest=NoSuchTest \
  -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dcrash.rounds="$rounds" "${seed[@]}" "$@") > "$log" 2>&1 || status=$?
# The test's own output, up to failsafe's verdict (which repeats the totals in a failure message).
awk '/\[ERROR\]|Tests run:/ { exit } /\[CrashPoints\]/' "$log"
if [ "$status" -ne 0 ] && ! grep -qF '[CrashPoints]' "$log"; then
  tail -n 40 "$log"
fi
echo "wall time $(( $(date +%s) - start )) s, build included; mvn exit $status"
exit "$status"
