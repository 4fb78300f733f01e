#!/usr/bin/env bash
# The off-CPU collector's cost (record --offcpu, bpf/offcpu.bpf.c), in paired rounds (each
# round runs every mode once, rotated; ratios to that round's run without a profiler):
#  1. pingpong: two threads pass a byte over pipes, pinned to one CPU (as many context
#     switches a second as the machine does: every read blocks);
#  2. server: a mostly sleeping loop (1 ms sleep, 20 us work).
# Modes: hotline CPU only, hotline --offcpu (default minimum 1us, and 1ms), and perf record
# --off-cpu (perf's own BPF off-CPU profiler) where this perf really records it.
# Usage: bench/offcpu.sh [ROUNDS]   (as root; after `make build`; nothing else running)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
HOTLINE=build/hotline
W=build/bench/pingpong
PERF=$(command -v perf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# perf accepts --off-cpu even when it was built without its BPF skeletons, and then records
# no off-CPU event at all (Debian's perf 6.1): a peer only when the event is there.
perf_offcpu=0
if "$PERF" record -q --off-cpu -o "$tmp/p.data" -- sleep 0.1 2>/dev/null &&
  "$PERF" evlist -i "$tmp/p.data" 2>/dev/null | grep -q offcpu-time; then
  perf_offcpu=1
fi

run_mode() {  # mode workload args...
  local mode=$1
  shift
  case "$mode" in
    none) "$@" ;;
    cpu) "$HOTLINE" record -q -f --heap off -o "$tmp/h.db" -- "$@" ;;
    offcpu) "$HOTLINE" record -q -f --heap off --offcpu -o "$tmp/h.db" -- "$@" ;;
    offcpu1ms) "$HOTLINE" record -q -f --heap off --offcpu --offcpu-min 1ms -o "$tmp/h.db" -- "$@" ;;
    perfoffcpu) "$PERF" record -q --off-cpu -g -o "$tmp/p.data" -- "$@" 2>/dev/null ;;
  esac
}
modes=(none cpu offcpu offcpu1ms)
((perf_offcpu)) && modes+=(perfoffcpu)
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench() {  # title workload...
  local title=$1
  shift
  echo "### $title"
  declare -A ratios=()
  for ((r = 0; r < ROUNDS; r++)); do
    declare -A t=()
    for ((i = 0; i < ${#modes[@]}; i++)); do
      m=${modes[$(((i + r) % ${#modes[@]}))]}
      t[$m]=$(run_mode "$m" "$@" | tail -n 1)
    done
    for m in "${modes[@]}"; do
      ratios[$m]+="$(awk -v a="${t[$m]}" -v b="${t[none]}" 'BEGIN { printf "%.5f ", a / b }')"
    done
    echo "round $((r + 1)): baseline $(awk -v n="${t[none]}" 'BEGIN { printf "%.3f s", n / 1e9 }')" >&2
  done
  printf "| mode | median time ratio vs no profiler | slowdown |\n|---|---|---|\n"
  for m in "${modes[@]}"; do
    [[ $m == none ]] && continue
    med=$(echo "${ratios[$m]}" | median)
    awk -v m="$m" -v r="$med" 'BEGIN { printf "| %s | %.4f | %+.2f%% |\n", m, r, (r - 1) * 100 }'
  done
}

bench "pingpong, 300000 round trips on one CPU" taskset -c 0 "$W" pingpong 300000
bench "server, 2000 x (sleep 1 ms, work 20 us)" "$W" server 2000
# What the collector saw of the ping-pong: blocks a second, and hotline's own CPU time.
"$HOTLINE" record -q -f --heap off --offcpu -o "$tmp/h.db" -- taskset -c 0 "$W" pingpong 300000 > /dev/null
sqlite3 "$tmp/h.db" "SELECT key, value FROM meta WHERE key LIKE 'offcpu_%'" | tr '\n' ' '
echo
