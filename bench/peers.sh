#!/usr/bin/env bash
# dedupfs side by side with borg and restic (issue 7), on the same data and machine, in one run.
# Datasets made from data on the machine (kept in --data between invocations when given):
#   tree     a copy of /usr/share and /usr/lib, a deterministic sample of --tree-bytes (all of it
#            when smaller);
#   big      the first --big-bytes of `tar cf - /usr/lib /usr/share`, and a copy of it with a
#            dozen scattered 4 KiB edits;
#   versions --versions successive versions of a source tree, each with --change-percent of its
#            files edited (a line inserted in the middle) and a tenth of that added: the kernel
#            source of Debian's linux-source package (--versions-src kernel, installed if
#            missing), /usr/share/doc + /usr/lib/python3* (local, the --quick default), or DIR.
# Steps, each tool in turn (the order rotates every run), --runs times, each run into new
# repositories: dedupfs through a real mount (`rsync -a` in, `mkdir .snapshots/N`), borg
# (`init -e none`, `create --compression zstd,3`), restic (`init` with a password file, `backup`):
#   1 ingest     the tree, first time          2 unchanged  the tree again, nothing changed
#   3a big new   the big file                  3b big edit  its edited copy at the same path
#   4a version 1 the first version             4b versions  the next ones, one snapshot each
#   5a mount     a new mount, until it answers 5b find      find SNAPSHOT | wc -l
#   5c read      every file of the snapshot    6 restore    cp -a / borg extract / restic restore
#   7 prune      the versions to the last half and reclaim the space (dedupfs prune --keep-last
#                [it collects too]; borg prune + compact; restic forget --prune)
# Figures per step: wall time; CPU time (user+sys of the command plus that of the tool's mount
# process for dedupfs and for borg/restic mounts, from /proc/PID/stat); peak RSS (the command's
# plus the mount process's VmHWM, reset with clear_refs at the start of the step); peak RssAnon of
# dedupfs's filesystem process (sampled every 0.2 s); stored bytes (du -sb of the repository).
# Caches outside the repository (borg's and restic's, in the work directory) are not counted.
# Prints the medians with each figure's ratio to the best peer (borg or restic), and writes
# OUT/peers.csv (medians), OUT/peers-runs.csv (every run, every version) and OUT/peers.svg.
#   bench/peers.sh [--quick] [--runs 3] [--memory 256M] [--tree-bytes 2500M] [--big-bytes 2200M]
#     [--versions 6] [--change-percent 3] [--versions-src kernel|local|DIR] [--versions-bytes SIZE]
#     [--data DIR [--prepare]] [--out DIR] [--work DIR]
# --quick (first, the options after it win): 1 run, a 60M tree, a 64M big file, 4 versions of a
# 30M sample of the local tree. --data DIR keeps the datasets there for the next invocation;
# with --prepare it only makes them (no tool is run), e.g. while the machine is busy.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/bench/lib.sh"
runs=3 memory=256M tree_bytes=2500M big_bytes=2200M versions=6 change_pct=3 vsrc=kernel
data="" out="" work_parent=/tmp versions_bytes=1P prepare_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) runs=1 tree_bytes=60M big_bytes=64M versions=4 vsrc=local versions_bytes=30M; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --memory) memory="$2"; shift 2 ;;
    --tree-bytes) tree_bytes="$2"; shift 2 ;;
    --big-bytes) big_bytes="$2"; shift 2 ;;
    --versions) versions="$2"; shift 2 ;;
    --change-percent) change_pct="$2"; shift 2 ;;
    --versions-src) vsrc="$2"; shift 2 ;;
    --versions-bytes) versions_bytes="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --prepare) prepare_only=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --work) work_parent="$2"; shift 2 ;;
    *) echo "usage: $0 [--quick] [--runs N] [--memory SIZE] [--tree-bytes SIZE] [--big-bytes SIZE]" \
         "[--versions N] [--change-percent P] [--versions-src kernel|local|DIR] [--versions-bytes SIZE]" \
         "[--data DIR [--prepare]] [--out DIR]" \
         "[--work DIR]" >&2; exit 2 ;;
  esac
done
[ "$versions" -ge 2 ] || { echo "--versions must be at least 2" >&2; exit 2; }
tree_bytes=$(numfmt --from=iec "$tree_bytes")
big_bytes=$(numfmt --from=iec "$big_bytes")
versions_bytes=$(numfmt --from=iec "$versions_bytes")
out="${out:-$here/bench/out/peers-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
work="$(mktemp -d "$work_parent/dedupfs-peers-XXXXXX")"
[ -n "$data" ] || data="$work/data"
mkdir -p "$data"
mnt="$work/mnt"
mkdir -p "$mnt"
sampler=""  # the RssAnon sampler running, if any
cleanup() {
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  if mountpoint -q "$mnt"; then
    "$here/dedupfs" umount "$mnt" > /dev/null 2>&1 || fusermount -u "$mnt" || true
  fi
  wait 2>/dev/null || true
  rm -rf "${work:?}"
}
trap cleanup EXIT
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# --- tools -----------------------------------------------------------------------------------
if ! command -v borg > /dev/null || ! command -v restic > /dev/null; then
  log "installing borgbackup and restic from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q borgbackup restic > "$work/apt.log" 2>&1 \
    || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q borgbackup restic > "$work/apt.log" 2>&1; } \
    || { cat "$work/apt.log" >&2; exit 1; }
fi
export BORG_BASE_DIR="$work/borg-home" BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes \
  BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_CHECK_I_KNOW_WHAT_I_AM_DOING=YES
export RESTIC_CACHE_DIR="$work/restic-cache" RESTIC_PASSWORD_FILE="$work/restic-password"
echo "peers-benchmark" > "$RESTIC_PASSWORD_FILE"
"$here/dedupfs" --version > /dev/null  # builds the jar if it is stale, before anything is timed
tools_line="$("$here/dedupfs" --version | head -1); $(borg --version); $(restic version | cut -d' ' -f1-2)"

# --- datasets --------------------------------------------------------------------------------
# sample DEST BYTES DIR...: copies about BYTES of the files and symlinks under DIR... to DEST
# (paths kept), every k-th in path order so the sample spreads over the whole of them.
sample() {
  local dest=$1 bytes=$2 total rc; shift 2
  find "$@" -xdev \( -type f -o -type l \) -printf '%s\t%p\n' 2>/dev/null | LC_ALL=C sort -t$'\t' -k2 > "$work/all.lst"
  total=$(awk -F'\t' '{s += $1} END {print s + 0}' "$work/all.lst")
  awk -F'\t' -v f="$(echo "$bytes $total" | awk '{f = $2 > 0 ? $1 / $2 : 1; print (f > 1 ? 1 : f)}')" \
    'int(NR * f) > int((NR - 1) * f) {print substr($2, 2)}' "$work/all.lst" > "$work/sample.lst"
  mkdir -p "$dest"
  # 23, 24: some files vanished or were unreadable meanwhile
  rsync -a --files-from="$work/sample.lst" / "$dest/" 2>/dev/null || { rc=$?; [ $rc -eq 23 ] || [ $rc -eq 24 ] || return $rc; }
  rm -f "$work/all.lst" "$work/sample.lst"
}
tree="$data/tree" big_a="$data/big/a/big.img" big_b="$data/big/b/big.img"
# A dataset is made again when its marker (DATASET.done) does not hold the options it was made with.
made() { [ "$(cat "$data/$1.done" 2>/dev/null)" = "$2" ]; }
if ! made tree "$tree_bytes"; then
  log "tree: sampling $(numfmt --to=iec "$tree_bytes") of /usr/share + /usr/lib into $tree"
  rm -rf "$tree"; mkdir -p "$tree"
  sample "$tree" "$tree_bytes" /usr/lib /usr/share
  echo "$tree_bytes" > "$data/tree.done"
fi
if ! made big "$big_bytes"; then
  log "big file: the first $(numfmt --to=iec "$big_bytes") of tar cf - /usr/lib /usr/share, and a copy with 12 4 KiB edits"
  mkdir -p "$(dirname "$big_a")" "$(dirname "$big_b")"
  { tar cf - /usr/lib /usr/share 2>/dev/null || true; } | head -c "$big_bytes" > "$big_a"
  cp "$big_a" "$big_b"
  size=$(stat -c %s "$big_b")
  for k in $(seq 1 12); do
    printf "edit %02d of the big file. %.0s" $(seq 1 160) | head -c 4096 \
      | dd of="$big_b" bs=4096 seek=$(( size / 4096 * k / 13 )) conv=notrunc status=none
  done
  echo "$big_bytes" > "$data/big.done"
fi
if ! made versions "$vsrc $versions $change_pct $versions_bytes"; then
  vwanted="$vsrc $versions $change_pct $versions_bytes"
  base="$data/versions/v1"
  rm -rf "$data/versions"; mkdir -p "$base"
  case "$vsrc" in
    kernel)
      tarball=$(ls /usr/src/linux-source-*.tar.* 2>/dev/null | sort -V | tail -1 || true)
      if [ -z "$tarball" ]; then
        log "versions: installing linux-source from Debian"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-source > "$work/apt.log" 2>&1 || true
        tarball=$(ls /usr/src/linux-source-*.tar.* 2>/dev/null | sort -V | tail -1 || true)
      fi
      if [ -n "$tarball" ]; then
        log "versions: v1 is $tarball"
        tar xf "$tarball" -C "$base" --strip-components=1
        echo "$(basename "$tarball")" > "$data/versions.src"
      else
        log "versions: linux-source is not installable here; using /usr/share/doc + /usr/lib/python3*"
        vsrc=local
      fi ;;
  esac
  case "$vsrc" in
    kernel) ;;
    local)
      sample "$base" "$versions_bytes" /usr/share/doc /usr/lib/python3*
      echo "/usr/share/doc + /usr/lib/python3*$([ "$versions_bytes" -lt 1000000000000 ] && echo " (sample of $(numfmt --to=iec "$versions_bytes"))")" > "$data/versions.src" ;;
    *) rsync -a "$vsrc/" "$base/"; echo "$vsrc" > "$data/versions.src" ;;
  esac
  # Version k: the files of version k-1 (hard links), change-percent of them edited (a line
  # inserted at the middle line break, by writing a new file: the links stay as they were) and a
  # tenth of that added (edited copies under a new name). Deterministic: the same every time.
  for k in $(seq 2 "$versions"); do
    cp -al "$data/versions/v$((k - 1))" "$data/versions/v$k"
    perl -e '
      use strict; use File::Find; my ($dir, $k, $pct) = @ARGV; my @files;
      find({wanted => sub { push @files, $File::Find::name if -f $_ && !-l $_ }, no_chdir => 1}, $dir);
      @files = sort @files; srand($k);
      for my $f (@files) {
        my $r = rand(100); my $edit = $r < $pct; my $add = $r >= 100 - $pct / 10;
        next unless $edit || $add;
        open(my $in, "<:raw", $f) or next; local $/; my $c = <$in> // ""; close $in;
        my $mid = index($c, "\n", int(length($c) / 2)); $mid = length($c) if $mid < 0;
        substr($c, $mid, 0, "\n/* dedupfs-peers: version $k edits this file */");
        my $to = $add ? "$f.v$k" : $f; my $mode = (stat $f)[2] & 07777;
        open(my $o, ">:raw", "$to.tmp") or die "$to.tmp: $!"; print $o $c; close $o;
        chmod $mode, "$to.tmp"; rename "$to.tmp", $to or die "$to: $!";
      }' "$data/versions/v$k" "$k" "$change_pct"
  done
  echo "$vwanted" > "$data/versions.done"
fi
tree_files=$(find "$tree" -type f | wc -l); tree_size=$(du -sb --apparent-size "$tree" | cut -f1)
big_size=$(stat -c %s "$big_a")
v_files=$(find "$data/versions/v1" -type f | wc -l); v_size=$(du -sb --apparent-size "$data/versions/v1" | cut -f1)
vsrc_name=$(cat "$data/versions.src")
keep=$(( versions / 2 ))
if [ "$prepare_only" = 1 ]; then
  [ "$data" != "$work/data" ] || { echo "--prepare needs --data DIR" >&2; exit 2; }
  log "datasets ready in $data"; rmdir "$out" 2>/dev/null || true; exit 0
fi
log "tree $tree_files files $((tree_size / 1000000)) MB; big file $((big_size / 1000000)) MB;" \
  "versions: $versions of $vsrc_name ($v_files files, $((v_size / 1000000)) MB)"

# --- measuring -------------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
raw="$out/peers-runs.csv"
echo "run,tool,step,wall_s,cpu_s,peak_rss_mib,rss_anon_mib,stored_bytes,growth_bytes,data_bytes" > "$raw"
ticks() { [ -n "$1" ] && [ -e "/proc/$1/stat" ] && awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" || echo 0; }
hwm_kb() { [ -n "$1" ] && awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
sample_anon() { # pid file: the peak RssAnon (kB) of pid, until killed
  local max=0 v
  echo 0 > "$2"
  while [ -e "/proc/$1/status" ]; do
    v=$(awk '/RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$max" ] && max=$v && echo "$max" > "$2"
    sleep 0.2
  done
}
stored() { du -sb "$1" | cut -f1; }
# measure STEP REPO DATA_BYTES SCRIPT: runs SCRIPT with bash under /usr/bin/time and records a row
# for $tool in run $run. $server is the tool's mount process, if any (its CPU and VmHWM count).
server=""
measure() {
  local step=$1 repo=$2 bytes=$3 script=$4 before c0=0 wall user sys maxkb
  before=$(stored "$repo")
  if [ -n "$server" ]; then
    echo 5 > "/proc/$server/clear_refs"; c0=$(ticks "$server")
    if [ "$tool" = dedupfs ]; then sample_anon "$server" "$work/anon" & sampler=$!; fi
  fi
  sync
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" bash -euo pipefail -c "$script"
  read -r wall user sys maxkb < <(tail -1 "$work/time")
  record "$step" "$repo" "$bytes" "$before" "$wall" \
    "$(echo "$user $sys $(ticks "$server") $c0 $hz" | awk '{print $1 + $2 + ($3 - $4) / $5}')" \
    "$(( maxkb + $(hwm_kb "$server") ))" "$sampler"
}
record() { # step repo bytes stored_before wall cpu peak_kb sampler
  local anon="" after
  if [ -n "$8" ]; then kill "$8" 2>/dev/null || true; wait "$8" 2>/dev/null || true; sampler=""; anon=$(cat "$work/anon"); fi
  after=$(stored "$2")
  echo "$run,$tool,$1,$5,$6,$(( $7 / 1024 )),${anon:+$(( anon / 1024 ))},$after,$(( after - $4 )),$3" >> "$raw"
  log "run $run $tool $1: $5 s, CPU $6 s, peak RSS $(( $7 / 1024 )) MiB${anon:+, RssAnon $(( anon / 1024 )) MiB}, stored $after"
}
export tree big_a big_b mnt work data
sq() { printf '%q' "$1"; }  # a value quoted for a bash -c script

# mount_repo REPO NAME: mounts, timed from the start until the mountpoint answers (step 5a when
# NAME is given, else not recorded); sets $server and $root, the snapshot's directory.
mount_repo() {
  local repo=$1 name=${2:-} t0 before cpu0=0 peak=0
  before=$(stored "$repo")
  t0=$(now)
  case "$tool" in
    dedupfs)
      server=$(/usr/bin/time -f '%U %S %M' -o "$work/time" "$here/dedupfs" mount "$repo" "$mnt" --memory "$memory" \
        | grep -oP '\(process \K[0-9]+')
      read -r u s peak < <(tail -1 "$work/time"); cpu0=$(echo "$u $s" | awk '{print $1 + $2}')
      root="$mnt/.snapshots/${3:-}" ;;
    borg)
      borg mount -f "$repo::$3" "$mnt" > "$work/mount.log" 2>&1 & server=$!
      root="$mnt" ;;
    restic)
      local id
      id=$(restic -r "$repo" snapshots --tag "$3" --json | grep -oP '"short_id":"\K[^"]+' | head -1)
      restic -r "$repo" mount "$mnt" > "$work/mount.log" 2>&1 & server=$!
      root="$mnt/ids/$id" ;;
  esac
  until mountpoint -q "$mnt" && [ -d "$root" ]; do
    [ -e "/proc/$server" ] || { cat "$work/mount.log" >&2; exit 1; }
    sleep 0.02
  done
  if [ -n "$name" ]; then
    record "$name" "$repo" 0 "$before" "$(since "$t0")" \
      "$(echo "$cpu0 $(ticks "$server") $hz" | awk '{print $1 + $2 / $3}')" "$(( peak + $(hwm_kb "$server") ))" ""
  fi
}
umount_repo() {
  if [ "$tool" = dedupfs ]; then "$here/dedupfs" umount "$mnt" > /dev/null
  else fusermount -u "$mnt"; wait "$server" 2>/dev/null || true; fi
  server=""
}

# backup REPO SRC NAME: one snapshot of SRC named NAME, as each tool takes it.
backup_script() {
  case "$tool" in
    dedupfs) echo "rsync -a --delete $(sq "$2/") $(sq "$mnt/$4/"); mkdir $(sq "$mnt/.snapshots/$3")" ;;
    borg) echo "cd $(sq "$2") && borg create --compression zstd,3 $(sq "$1::$3") ." ;;
    restic) echo "cd $(sq "$2") && restic -r $(sq "$1") backup -q --tag $(sq "$3") ." ;;
  esac
}
init_repo() {
  rm -rf "$1"
  case "$tool" in
    dedupfs) "$here/dedupfs" init "$1" > /dev/null; mount_repo "$1" ;;
    borg) borg init -e none "$1" ;;
    restic) restic -r "$1" init -q > /dev/null ;;
  esac
}
drop_repo() { [ -z "$server" ] || umount_repo; rm -rf "$1"; }

run_tool() {
  local r="$work/repo-$tool" k
  # 1, 2: the tree, then again with nothing changed.
  init_repo "$r"
  measure "1 ingest" "$r" "$tree_size" "$(backup_script "$r" "$tree" t1 tree)"
  measure "2 unchanged" "$r" "$tree_size" "$(backup_script "$r" "$tree" t2 tree)"
  [ -z "$server" ] || umount_repo
  # 5: browse and read back the first snapshot, after a new mount.
  mount_repo "$r" "5a mount" t1
  local find_s="find $(sq "$root/") | wc -l > $(sq "$work/found.$tool")"
  [ "$tool" = dedupfs ] && find_s="find $(sq "$root/tree/") | wc -l > $(sq "$work/found.$tool")"
  measure "5b find" "$r" 0 "$find_s"
  log "run $run $tool: find listed $(cat "$work/found.$tool") entries (the tree: $(( $(find "$tree" | wc -l) - 1 )) below it)"
  measure "5c read" "$r" "$tree_size" "tar cf - -C $(sq "$root") . | wc -c > /dev/null"
  umount_repo
  # 6: restore to local disk.
  rm -rf "$work/restore"; mkdir "$work/restore"
  case "$tool" in
    dedupfs)
      mount_repo "$r" "" t1
      measure "6 restore" "$r" "$tree_size" "cp -a $(sq "$root/tree/.") $(sq "$work/restore/")"
      umount_repo ;;
    borg) measure "6 restore" "$r" "$tree_size" "cd $(sq "$work/restore") && borg extract $(sq "$r::t1")" ;;
    restic) measure "6 restore" "$r" "$tree_size" "restic -r $(sq "$r") restore -q $(restic -r "$r" snapshots --tag t1 --json | grep -oP '"short_id":"\K[^"]+' | head -1) --target $(sq "$work/restore")" ;;
  esac
  [ "$(find "$work/restore" -type f | wc -l)" -eq "$tree_files" ] \
    || log "run $run $tool: restored $(find "$work/restore" -type f | wc -l) files, the tree has $tree_files"
  rm -rf "$work/restore"
  drop_repo "$r"
  # 3: the big file, then its edited copy at the same path.
  init_repo "$r"
  mkdir -p "$work/bigsrc"; cp "$big_a" "$work/bigsrc/big.img"
  measure "3a big new" "$r" "$big_size" "$(backup_script "$r" "$work/bigsrc" b1 big)"
  cp "$big_b" "$work/bigsrc/big.img"
  measure "3b big edit" "$r" "$big_size" "$(backup_script "$r" "$work/bigsrc" b2 big)"
  rm -rf "$work/bigsrc"
  drop_repo "$r"
  # 4: the versions, one snapshot each, then 7: prune to the last half.
  init_repo "$r"
  rm -rf "$work/vsrc"
  for k in $(seq 1 "$versions"); do
    rsync -a --delete "$data/versions/v$k/" "$work/vsrc/"
    measure "$( [ "$k" = 1 ] && echo "4a version 1" || echo "4b version $k")" "$r" \
      "$(du -sb --apparent-size "$work/vsrc" | cut -f1)" "$(backup_script "$r" "$work/vsrc" "v$k" src)"
  done
  rm -rf "$work/vsrc"
  [ -z "$server" ] || umount_repo
  case "$tool" in
    dedupfs) measure "7 prune" "$r" 0 "$(sq "$here/dedupfs") -q prune $(sq "$r") --keep-last $keep > /dev/null" ;;
    borg) measure "7 prune" "$r" 0 "borg prune --keep-last $keep $(sq "$r") && borg compact $(sq "$r")" ;;
    restic) measure "7 prune" "$r" 0 "restic -r $(sq "$r") forget -q --keep-last $keep --prune > /dev/null" ;;
  esac
  drop_repo "$r"
  rm -rf "$BORG_BASE_DIR" "$RESTIC_CACHE_DIR"
}

order=(dedupfs borg restic)
for run in $(seq 1 "$runs"); do
  for i in 0 1 2; do
    tool=${order[$(( (i + run - 1) % 3 ))]}
    # The page cache is reclaimed after about a minute idle: read the inputs right before.
    tar cf - -C "$data" . 2>/dev/null | wc -c > /dev/null
    run_tool
  done
done

# --- report ----------------------------------------------------------------------------------
summary="$out/peers.csv"
# Medians over runs; 4b sums the versions after the first (wall, CPU, growth), stored is after
# the last, peak RSS the highest.
awk -F, 'NR > 1 {
    step = $3; if (step ~ /^4b /) { key = $1 SUBSEP $2 SUBSEP "4b versions"
      w[key] += $4; c[key] += $5; if ($6 > r[key]) r[key] = $6; if ($7 > a[key]) a[key] = $7
      s[key] = $8; g[key] += $9; d[key] += $10; next }
    print $1 "," $2 "," step "," $4 "," $5 "," $6 "," $7 "," $8 "," $9 "," $10 }
  END { for (k in w) { split(k, p, SUBSEP); print p[1] "," p[2] "," p[3] "," w[k] "," c[k] "," r[k] "," a[k] "," s[k] "," g[k] "," d[k] } }' \
  "$raw" > "$work/rows.csv"
median_or_empty() { local v; v=$(cat); [ -z "$v" ] || echo "$v" | median; }
steps=("1 ingest" "2 unchanged" "3a big new" "3b big edit" "4a version 1" "4b versions" "5a mount" "5b find" "5c read" "6 restore" "7 prune")
echo "step,tool,wall_s,cpu_s,peak_rss_mib,rss_anon_mib,stored_bytes,growth_bytes,mb_per_s,wall_x_best_peer,cpu_x_best_peer,rss_x_best_peer,stored_x_best_peer,growth_x_best_peer" > "$summary"
for step in "${steps[@]}"; do
  for t in dedupfs borg restic; do
    line="$t"
    for col in 4 5 6 7 8 9 10; do
      line="$line,$(awk -F, -v s="$step" -v t="$t" -v c="$col" '$3 == s && $2 == t && $c != "" {print $c}' "$work/rows.csv" | median_or_empty)"
    done
    echo "$line"
  done > "$work/step.csv"
  # ratio of each figure to the lower of borg's and restic's
  awk -F, -v s="$step" '{ t[NR] = $0; for (c = 2; c <= 8; c++) v[NR, c] = $c
      if ($1 != "dedupfs") for (c = 2; c <= 8; c++) if (!((c) in best) || $c < best[c]) best[c] = $c }
    function ratio(x, b) { return b > 0 ? sprintf("%.2f", x / b) : "" }
    END { for (i = 1; i <= NR; i++) { split(t[i], f, ",")
      mbs = (f[8] > 0 && f[2] > 0) ? sprintf("%.1f", f[8] / f[2] / 1e6) : ""
      print s "," f[1] "," f[2] "," f[3] "," f[4] "," f[5] "," f[6] "," f[7] "," mbs "," \
        ratio(f[2], best[2]) "," ratio(f[3], best[3]) "," ratio(f[4], best[4]) "," \
        (s ~ /^[5-6]/ ? "" : ratio(f[6], best[6])) "," (s ~ /^[134]/ ? ratio(f[7], best[7]) : "") } }' "$work/step.csv" >> "$summary"
done

echo
echo "dedupfs vs borg and restic — $tools_line"
echo "tree: $tree_files files, $((tree_size / 1000000)) MB (sample of /usr/share + /usr/lib); big file: $((big_size / 1000000)) MB;" \
  "versions: $versions of $vsrc_name ($v_files files, $((v_size / 1000000)) MB), $change_pct % of files changed each"
echo "dedupfs --memory $memory; median of $runs run(s); ×best = figure / best of borg and restic (lower is better);" \
  "4b: versions 2..$versions summed;" \
  "7: to the last $keep, growth = what it freed (negative)"
echo "RSS: the command's peak plus the mount process's (VmHWM); CPU: user+sys of both;" \
  "RssAnon: dedupfs's filesystem process; stored: du -sb of the repository after the step"
awk -F, 'NR > 1 {
    if ($1 != last && NR > 2) print ""; last = $1
    printf "%-13s %-7s %8.2f %5s× %8.2f %5s× %7d %5s× %7s %9.1f %5s× %+9.1f %5s× %7s\n", \
      (seen[$1]++ ? "" : $1), $2, $3, $10, $4, $11, $5, $12, ($6 == "" ? "-" : $6), $7 / 1e6, $13, $8 / 1e6, $14, $9 }
  BEGIN { printf "%-13s %-7s %8s %6s %8s %6s %7s %6s %7s %9s %6s %9s %6s %7s\n", "step", "tool", "wall s", "×best", "CPU s", "×best", "RSS MiB", "×best", "RssAnon", "stored MB", "×best", "growth MB", "×best", "MB/s" }' \
  "$summary" | sed 's/  ×/   /g'
echo
echo "CSV: $summary (every run: $raw); chart: $out/peers.svg"

# --- chart: one panel per figure, bars per step grouped by tool, height = ratio to the best peer
awk -F, -v title="dedupfs vs borg and restic: each figure / best of borg and restic (lower is better)" \
    -v subtitle="$tools_line; median of $runs run(s)" -v subtitle2="tree $tree_files files $((tree_size / 1000000)) MB, big file $((big_size / 1000000)) MB, $versions versions of $vsrc_name" '
  NR > 1 { n = (step[$1] ? step[$1] : (step[$1] = ++ns)); names[n] = $1
    tool = $2; val[n, tool, 1] = $10; val[n, tool, 2] = $11; val[n, tool, 3] = $12; val[n, tool, 4] = ($1 ~ /^7/ ? $13 : $14)
    raw[n, tool, 1] = sprintf("%.2f s", $3); raw[n, tool, 2] = sprintf("%.2f s", $4)
    raw[n, tool, 3] = sprintf("%d MiB", $5); raw[n, tool, 4] = ($1 ~ /^7/ ? sprintf("%.1f MB after", $7 / 1e6) : sprintf("%+.1f MB", $8 / 1e6)) }
  END {
    split("wall time|CPU time|peak RSS|stored bytes (growth in the step; 7 prune: the size after it)", pt, "|"); split("dedupfs borg restic", tl, " ")
    col["dedupfs"] = "#d9534f"; col["borg"] = "#5b8fd9"; col["restic"] = "#5cb85c"
    cap = 4; pw = 70 * ns + 80; ph = 220; W = pw + 40; H = 4 * (ph + 60) + 100
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"20\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", title
    printf "<text x=\"20\" y=\"40\" fill=\"#555\">%s</text>\n", subtitle
    printf "<text x=\"20\" y=\"56\" fill=\"#555\">%s</text>\n", subtitle2
    for (t = 1; t <= 3; t++) printf "<rect x=\"%d\" y=\"66\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"76\">%s</text>\n", 20 + (t - 1) * 90, col[tl[t]], 36 + (t - 1) * 90, tl[t]
    for (p = 1; p <= 4; p++) {
      y0 = 120 + (p - 1) * (ph + 60); base = y0 + ph
      printf "<text x=\"20\" y=\"%d\" font-weight=\"bold\">%s (bars capped at %d×; hover for the value)</text>\n", y0 - 18, pt[p], cap
      for (g = 0; g <= cap; g++) { y = base - g * ph / cap
        printf "<line x1=\"60\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/><text x=\"54\" y=\"%.1f\" text-anchor=\"end\">%d×</text>\n", pw, y, y, (g == 1 ? "#333" : "#ddd"), y + 4, g }
      for (n = 1; n <= ns; n++) { x0 = 70 + (n - 1) * 70
        printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\">%s</text>\n", x0 + 27, base + 14, names[n]
        for (t = 1; t <= 3; t++) { v = val[n, tl[t], p]; if (v == "") continue
          h = (v > cap ? cap : v) * ph / cap; x = x0 + (t - 1) * 18
          printf "<rect x=\"%d\" y=\"%.1f\" width=\"16\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %s, %s× the best peer</title></rect>\n", x, base - h, h, col[tl[t]], names[n], tl[t], raw[n, tl[t], p], v
          if (tl[t] == "dedupfs" || v > cap) printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\">%s</text>\n", x + 8, base - h - 3, v } } }
    print "</svg>" }' "$summary" > "$out/peers.svg"
