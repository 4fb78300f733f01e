#!/usr/bin/env bash
# Heap profiling cost and accuracy (docs/benchmarks.md, "Heap").
#  1. Per-allocation cost: bench/alloc_loop (malloc(64)/free pairs, timed by itself) under no
#     profiler, hotline's sampled mode, hotline's exact mode (uprobes) and heaptrack, as ns
#     per pair. Paired rounds, medians; ratios to the same round's baseline.
#  2. Slowdown on an allocation-heavy C++ workload (bench/heap_workload: a std::map<string,
#     vector<int>> of N entries built and destroyed R times): none, sampled, heaptrack.
#  3. Accuracy on that workload: each allocation site's share of the allocation count in
#     sampled mode, exact mode and heaptrack (sites are functions: heaptrack's folded stacks
#     name functions; the workload has one allocating function per site).
#
# Usage: bench/heap.sh [ROUNDS] [ENTRIES]   (as root; after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SKIP_TIMING=${SKIP_TIMING:-}
ENTRIES=${2:-1000000}
PAIRS=10000000
EXACT_PAIRS=20000
HOTLINE=build/hotline
LOOP=build/bench/alloc_loop
WORK=build/bench/heap_workload
HEAPTRACK=$(command -v heaptrack || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

loop_mode() {
  case "$1" in
    none) "$LOOP" "$PAIRS" ;;
    sampled) "$HOTLINE" record -q -f --heap sampled -o "$tmp/h.db" -- "$LOOP" "$PAIRS" ;;
    exact) "$HOTLINE" record -q -f --heap exact --max-overhead 100 -o "$tmp/h.db" -- "$LOOP" "$EXACT_PAIRS" ;;
    heaptrack) "$HEAPTRACK" -o "$tmp/ht" "$LOOP" "$PAIRS" 2>/dev/null | grep -E '^[0-9.]+$' ;;
  esac
}
work_mode() {
  case "$1" in
    none) "$WORK" "$ENTRIES" 3 ;;
    sampled) "$HOTLINE" record -q -f --heap sampled -o "$tmp/w.db" -- "$WORK" "$ENTRIES" 3 ;;
    heaptrack) "$HEAPTRACK" -o "$tmp/wt" "$WORK" "$ENTRIES" 3 2>/dev/null | grep -E '^[0-9.]+$' ;;
  esac
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

paired() {  # paired FUNCTION MODES...: prints "mode median ratio"
  local fn=$1
  shift
  local modes=("$@")
  declare -A values=() ratios=()
  for ((r = 0; r < ROUNDS; r++)); do
    declare -A t=()
    for ((i = 0; i < ${#modes[@]}; i++)); do
      m=${modes[$(((i + r) % ${#modes[@]}))]}
      t[$m]=$("$fn" "$m" | tail -n 1)
    done
    for m in "${modes[@]}"; do
      values[$m]+="${t[$m]} "
      ratios[$m]+="$(awk -v a="${t[$m]}" -v b="${t[none]}" 'BEGIN {printf "%.4f", a / b}') "
    done
  done
  for m in "${modes[@]}"; do
    printf '%-10s %10s %8sx\n' "$m" "$(tr ' ' '\n' <<<"${values[$m]}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${ratios[$m]}" | grep . | median)"
  done
}

if [[ -z "$SKIP_TIMING" ]]; then
modes=(none sampled exact)
[[ -n "$HEAPTRACK" ]] && modes+=(heaptrack)
echo "### malloc(64)+free, ns per pair (median of $ROUNDS paired rounds; exact runs $EXACT_PAIRS pairs)"
echo "mode       ns/pair    vs none"
paired loop_mode "${modes[@]}"

modes=(none sampled)
[[ -n "$HEAPTRACK" ]] && modes+=(heaptrack)
echo
echo "### heap_workload $ENTRIES entries x 3 rounds, ms (median of $ROUNDS paired rounds)"
echo "mode       ms         vs none"
paired work_mode "${modes[@]}"
fi

# Accuracy. The workload's site shares do not depend on its size (each site allocates on a
# fixed pattern of i), so exact mode, at microseconds per call, runs a tenth of it once;
# sampled mode and heaptrack run the full workload.
N=$((ENTRIES / 10))
"$HOTLINE" record -q -f --heap sampled -o "$tmp/as.db" -- "$WORK" "$ENTRIES" 3 >/dev/null
"$HOTLINE" record -q -f --heap exact --max-overhead 100 -o "$tmp/ae.db" -- "$WORK" "$N" 1 >/dev/null
"$HOTLINE" top heap "$tmp/as.db" --metric alloc --by function --json -n 100 >"$tmp/as.json"
"$HOTLINE" top heap "$tmp/ae.db" --metric alloc --by function --json -n 100 >"$tmp/ae.json"
folded=""
if [[ -n "$HEAPTRACK" ]]; then
  "$HEAPTRACK" -o "$tmp/at" "$WORK" "$ENTRIES" 3 >/dev/null 2>&1
  heaptrack_print -f "$tmp/at.zst" --print-flamegraph "$tmp/folded" --flamegraph-cost-type allocations >/dev/null
  folded="$tmp/folded"
fi
echo
echo "### allocation sites of heap_workload: share of bytes and of allocations, % (sampled and heaptrack: $ENTRIES x 3; exact: $N x 1)"
python3 - "$tmp/as.json" "$tmp/ae.json" "$folded" <<'PY'
import json, sys
sites = ["site_key", "site_value", "site_node", "site_log", "site_scratch", "site_list"]
def shares(path, field):
    entries = json.load(open(path))["entries"]
    per = {s: 0 for s in sites}
    for e in entries:
        for s in sites:
            if s in e["function"]:
                per[s] += e[field]
                break
    total = sum(e[field] for e in entries)
    return {s: 100.0 * v / total for s, v in per.items()}
def heaptrack_counts(path):
    per = {s: 0 for s in sites}
    total = 0
    for line in open(path):
        stack, _, n = line.rstrip().rpartition(" ")
        total += int(n)
        frames = stack.split(";")
        for f in reversed(frames):  # the innermost site function on the stack
            hit = next((s for s in sites if s in f), None)
            if hit:
                per[hit] += int(n)
                break
    return {s: 100.0 * v / total for s, v in per.items()}
sb, eb = shares(sys.argv[1], "alloc_bytes"), shares(sys.argv[2], "alloc_bytes")
sc, ec = shares(sys.argv[1], "alloc_count"), shares(sys.argv[2], "alloc_count")
hc = heaptrack_counts(sys.argv[3]) if sys.argv[3] else None
print(f"{'site':13} {'bytes:sampled':>13} {'exact':>7} {'count:sampled':>14} {'exact':>7} {'heaptrack':>10}")
worst_b = worst_c = worst_h = 0.0
for s in sorted(sites, key=lambda s: -eb[s]):
    h = f"{hc[s]:10.2f}" if hc else f"{'-':>10}"
    print(f"{s:13} {sb[s]:13.2f} {eb[s]:7.2f} {sc[s]:14.2f} {ec[s]:7.2f} {h}")
    worst_b = max(worst_b, abs(sb[s] - eb[s]))
    worst_c = max(worst_c, abs(sc[s] - ec[s]))
    if hc: worst_h = max(worst_h, abs(hc[s] - ec[s]))
print(f"largest share difference, percentage points: sampled vs exact {worst_b:.2f} (bytes), {worst_c:.2f} (count)"
      + (f"; heaptrack vs exact {worst_h:.2f} (count)" if hc else ""))
PY
