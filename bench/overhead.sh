#!/usr/bin/env bash
# Overhead on the profiled program: a fixed-work, CPU-bound fixture (tests/fixtures/work.c,
# which times its own work) under no profiler, `hotline record` (BPF sampler, and the
# perf_event fallback as "fallback") and `perf record -g`, at
# 99 Hz and 999 Hz. Paired rounds: every round runs each mode once, in a rotated order, and
# each mode's time is divided by that round's baseline. Prints the median ratio per mode.
#
# Usage: bench/overhead.sh [ROUNDS] [WORK_ROUNDS]   (as root; after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
WORK=${2:-20000}
HOTLINE=build/hotline
FIXTURE=build/tests/fixtures/work
PERF=$(command -v perf || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_mode() {
  case "$1" in
    none) "$FIXTURE" "$WORK" ;;
    hotline99) "$HOTLINE" record -q -f -F 99 -o "$tmp/h.db" -- "$FIXTURE" "$WORK" ;;
    hotline999) "$HOTLINE" record -q -f -F 999 -o "$tmp/h.db" -- "$FIXTURE" "$WORK" ;;
    fallback99) "$HOTLINE" record -q -f -F 99 --cpu-backend perf -o "$tmp/h.db" -- "$FIXTURE" "$WORK" ;;
    fallback999) "$HOTLINE" record -q -f -F 999 --cpu-backend perf -o "$tmp/h.db" -- "$FIXTURE" "$WORK" ;;
    perf99) "$PERF" record -q -g -F 99 -o "$tmp/p.data" -- "$FIXTURE" "$WORK" 2>/dev/null ;;
    perf999) "$PERF" record -q -g -F 999 -o "$tmp/p.data" -- "$FIXTURE" "$WORK" 2>/dev/null ;;
  esac
}

modes=(none hotline99 fallback99 perf99 hotline999 fallback999 perf999)
[[ -n "$PERF" ]] || modes=(none hotline99 fallback99 hotline999 fallback999)
declare -A ratios
for ((r = 0; r < ROUNDS; r++)); do
  declare -A t=()
  for ((i = 0; i < ${#modes[@]}; i++)); do
    m=${modes[$(((i + r) % ${#modes[@]}))]}
    t[$m]=$(run_mode "$m" | tail -n 1)
  done
  for m in "${modes[@]}"; do
    ratios[$m]+="$(awk -v a="${t[$m]}" -v b="${t[none]}" 'BEGIN { printf "%.5f ", a / b }')"
  done
  echo "round $((r + 1)): baseline $(awk -v n="${t[none]}" 'BEGIN { printf "%.3f s", n / 1e9 }')" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf "| mode | median time ratio vs no profiler | slowdown | min..max ratio |\n|---|---|---|---|\n"
for m in "${modes[@]}"; do
  [[ $m == none ]] && continue
  med=$(echo "${ratios[$m]}" | median)
  lo=$(echo "${ratios[$m]}" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1)
  hi=$(echo "${ratios[$m]}" | tr ' ' '\n' | grep -v '^$' | sort -g | tail -1)
  printf "| %s | %.4f | %+.2f%% | %.4f..%.4f |\n" "$m" "$med" "$(awk -v m="$med" 'BEGIN { print (m - 1) * 100 }')" "$lo" "$hi"
done
