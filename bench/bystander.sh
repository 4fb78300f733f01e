#!/usr/bin/env bash
# What heap exact mode's probes cost processes hotline does not profile, and hotline itself
# (docs/benchmarks.md, "Heap exact mode: other processes").
#  1. An unrelated process's malloc(64)/free pairs (bench/alloc_loop, timed by itself) while
#     hotline records an idle target: with --heap off (the baseline: the same contention),
#     --heap exact with per-process probes (the default), and --heap exact --heap-probes
#     shared (every process mapping libc traps). Paired rounds, medians, ratios to the same
#     round's baseline; the guard is off (--max-overhead 100) to see the cost itself.
#  2. A 4 s unrelated loop under shared probes with the default guard (--max-overhead 5): how
#     long the others pay before the guard detaches the probes.
#  3. hotline's own CPU time for 10 s of a busy target at 999 Hz (its own allocations trap
#     under shared probes): --heap off, exact per-process, exact shared.
#
# Usage: bench/bystander.sh [ROUNDS]   (as root; after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
PAIRS=${PAIRS:-5000000}       # about 50 ms unprofiled
SHARED_PAIRS=${SHARED_PAIRS:-100000}  # seconds under shared probes
HOTLINE=$PWD/build/hotline
LOOP=$PWD/build/bench/alloc_loop
tmp=$(mktemp -d)
cleanup() { kill "${target:-}" "${busy:-}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
meta() { "$HOTLINE" query "$1" "SELECT value FROM meta WHERE key = '$2'" --csv | tail -1; }

sleep 600 & target=$!
sleep 0.3

# One unrelated loop of PAIRS pairs while hotline records with ARGS (started 2 s before).
during() {
  local pairs=$1; shift
  "$HOTLINE" record -q -f -d 60s --pid "$target" "$@" >/dev/null 2>&1 &
  local rec=$!
  sleep 2
  "$LOOP" "$pairs"
  kill -TERM "$rec" 2>/dev/null; wait "$rec" 2>/dev/null || true
}

declare -a base perproc shared
for ((r = 0; r < ROUNDS; ++r)); do
  base+=("$(during "$PAIRS" --heap off -o "$tmp/b.db")")
  perproc+=("$(during "$PAIRS" --heap exact --max-overhead 100 -o "$tmp/p.db")")
  shared+=("$(during "$SHARED_PAIRS" --heap exact --heap-probes shared --max-overhead 100 -o "$tmp/s.db")")
done
b=$(printf '%s\n' "${base[@]}" | median)
p=$(printf '%s\n' "${perproc[@]}" | median)
s=$(printf '%s\n' "${shared[@]}" | median)
echo "another process's malloc/free pair while hotline records an idle target: ${b} ns (--heap off)," \
     "${p} ns under per-process exact-mode probes ($(ratio "$p" "$b")x), ${s} ns under shared ones ($(ratio "$s" "$b")x)"
echo "meta: per-process run heap_probe_scope $(meta "$tmp/p.db" heap_probe_scope), heap_bystander_calls" \
     "$(meta "$tmp/p.db" heap_bystander_calls); shared run heap_bystander_calls $(meta "$tmp/s.db" heap_bystander_calls)"

LONG=$(echo "4 * 1000000000 / $b" | bc)
alone=$( { /usr/bin/time -f '%e' "$LOOP" "$LONG" >/dev/null; } 2>&1 )
"$HOTLINE" record -q -f --heap exact --heap-probes shared -d 60s -o "$tmp/g.db" --pid "$target" >/dev/null 2>&1 &
rec=$!
sleep 2
guarded=$( { /usr/bin/time -f '%e' "$LOOP" "$LONG" >/dev/null; } 2>&1 )
kill -TERM "$rec"; wait "$rec" || true
echo "an unrelated loop of ${alone} s took ${guarded} s under shared probes with the default guard; heap_mode" \
     "$(meta "$tmp/g.db" heap_mode)"

build/tests/fixtures/deep & busy=$!
sleep 0.3
declare -a off pp sh
for ((r = 0; r < ROUNDS; ++r)); do
  for mode in off per-process shared; do
    heap=(--heap exact --heap-probes "$mode")
    [[ $mode == off ]] && heap=(--heap off)
    /usr/bin/time -f '%U %S' -o "$tmp/t" "$HOTLINE" record -q -f -F 999 "${heap[@]}" --max-overhead 100 -d 10s \
      -o "$tmp/c.db" --pid "$busy" >/dev/null 2>&1 || true
    cpu=$(awk '{print $1 + $2}' "$tmp/t")
    case $mode in off) off+=("$cpu") ;; per-process) pp+=("$cpu") ;; shared) sh+=("$cpu") ;; esac
  done
done
o=$(printf '%s\n' "${off[@]}" | median)
q=$(printf '%s\n' "${pp[@]}" | median)
h=$(printf '%s\n' "${sh[@]}" | median)
echo "hotline's own CPU for 10 s of a busy target at 999 Hz: ${o} s (--heap off), ${q} s (exact, per-process," \
     "$(ratio "$q" "$o")x), ${h} s (exact, shared, $(ratio "$h" "$o")x)"
