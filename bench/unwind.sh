#!/usr/bin/env bash
# The in-kernel unwinder (bpf/unwind.h) against frame pointers and perf:
#  1. BPF cost per sample (kernel.bpf_stats_enabled) on a 20-deep stack, tables vs the
#     kernel's frame-pointer walk, on the same binary (GCC -O2 with frame pointers, so both
#     find every frame but the leaf's caller for the walk);
#  2. the slowdown of a fixed-work -O2 program without frame pointers under hotline (tables),
#     hotline --unwind fp, perf --call-graph dwarf and perf -g, at 99 and 999 Hz, in paired
#     rounds (each round runs every mode once, rotated; ratios to that round's baseline);
#  3. table build time and size for libc, libstdc++, python3.11 and the big C++ binary;
#  4. completeness: the share of samples whose stack reaches its root, per program.
# Usage: bench/unwind.sh [ROUNDS] [WORK]   (as root; after `make build`; nothing else running)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
WORK=${2:-2000}
HOTLINE=build/hotline
NOFP=build/tests/fixtures/nofp_gcc
FP=build/tests/fixtures/nofp_gcc_fp
PERF=$(command -v perf)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; sysctl -q -w kernel.bpf_stats_enabled=0' EXIT

echo "### BPF cost per sample, 20-deep stack, 999 Hz"
sysctl -q -w kernel.bpf_stats_enabled=1
printf "| unwinding | ns per sample (run_time_ns / run_cnt) | samples |\n|---|---|---|\n"
for mode in fp tables fp tables; do
  "$HOTLINE" record -q -f -F 999 --heap off --unwind "$mode" -o "$tmp/c.db" -- "$FP" recurse 6 17 > /dev/null &
  pid=$!
  sleep 5
  line=$(bpftool prog show | grep 'name on_cpu_sample' | head -1)
  wait "$pid"
  awk -v m="$mode" '{ for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) } }
       END { printf "| %s | %.0f | %d |\n", m, t / c, c }' <<< "$line"
done
sysctl -q -w kernel.bpf_stats_enabled=0

echo "### slowdown of $NOFP work $WORK"
run_mode() {
  case "$1" in
    none) "$NOFP" work "$WORK" ;;
    tables99) "$HOTLINE" record -q -f -F 99 --heap off -o "$tmp/h.db" -- "$NOFP" work "$WORK" ;;
    tables999) "$HOTLINE" record -q -f -F 999 --heap off -o "$tmp/h.db" -- "$NOFP" work "$WORK" ;;
    fp99) "$HOTLINE" record -q -f -F 99 --heap off --unwind fp -o "$tmp/h.db" -- "$NOFP" work "$WORK" ;;
    fp999) "$HOTLINE" record -q -f -F 999 --heap off --unwind fp -o "$tmp/h.db" -- "$NOFP" work "$WORK" ;;
    perfdwarf99) "$PERF" record -q -e cpu-clock --call-graph dwarf -F 99 -o "$tmp/p.data" -- "$NOFP" work "$WORK" 2>/dev/null ;;
    perfdwarf999) "$PERF" record -q -e cpu-clock --call-graph dwarf -F 999 -o "$tmp/p.data" -- "$NOFP" work "$WORK" 2>/dev/null ;;
    perfg99) "$PERF" record -q -e cpu-clock -g -F 99 -o "$tmp/p.data" -- "$NOFP" work "$WORK" 2>/dev/null ;;
    perfg999) "$PERF" record -q -e cpu-clock -g -F 999 -o "$tmp/p.data" -- "$NOFP" work "$WORK" 2>/dev/null ;;
  esac
}
modes=(none tables99 fp99 perfdwarf99 perfg99 tables999 fp999 perfdwarf999 perfg999)
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
printf "| mode | median time ratio vs no profiler | slowdown |\n|---|---|---|\n"
for m in "${modes[@]}"; do
  [[ $m == none ]] && continue
  med=$(echo "${ratios[$m]}" | median)
  awk -v m="$m" -v r="$med" 'BEGIN { printf "| %s | %.4f | %+.2f%% |\n", m, r, (r - 1) * 100 }'
done

echo "### table build time and size"
big=$(ls -d build/bench/big*/big 2>/dev/null | head -1 || true)
build/bench/unwind_tables_bench /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 \
  /usr/bin/python3.11 ${big:+"$big"}

echo "### completeness: samples whose user stack reaches its root"
printf "| program | samples | reach the root | other stops |\n|---|---|---|---|\n"
cat > "$tmp/loop.py" <<'PY'
import time
def f(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s
end = time.time() + 5
while time.time() < end:
    f(100000)
PY
complete() {
  local name=$1
  shift
  "$HOTLINE" record -q -f -F 499 --heap off -o "$tmp/k.db" -- "$@" > /dev/null
  sqlite3 "$tmp/k.db" "SELECT key, value FROM meta WHERE key LIKE 'unwind_stop_%'" | awk -F'|' -v n="$name" '
    { v[$1] = $2; all += $2 } END {
      other = ""; for (k in v) if (k != "unwind_stop_root" && v[k] > 0) other = other sprintf("%s %d ", substr(k, 13), v[k])
      printf "| %s | %d | %.2f%% | %s |\n", n, all, 100 * v["unwind_stop_root"] / all, other }'
}
complete "nofp_gcc chain" "$NOFP" chain 5
complete "nofp_clang chain" build/tests/fixtures/nofp_clang chain 5
complete "nofp_gcc qsort (libc)" "$NOFP" qsort 5
complete "nofp_gcc write (libc, kernel)" "$NOFP" write 5
complete "nofp_sort (libstdc++)" build/tests/fixtures/nofp_sort 5
complete "python3.11 loop" /usr/bin/python3.11 "$tmp/loop.py"
