#!/usr/bin/env bash
# Symbolization speed and agreement: every address of a large -g C++ binary's .text at
# 64-byte steps, with inline chains, by hotline's symbolizer, binutils addr2line and
# elfutils eu-addr2line (-i -f -C). Times and peak RSS from GNU time; answers compared with
# addr2line's (function without parameters, file basename, line, for every frame).
#
# Usage: bench/symbolize.sh [TRANSLATION_UNITS]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3}
work=build/bench/big$N
mkdir -p "$work"
if [[ ! -x $work/big ]]; then
  echo "generating and compiling the big binary ($N translation units)..." >&2
  bench/gen_big_cpp.sh "$work/src" "$N"
  for f in "$work"/src/*.cpp; do echo "$f"; done | xargs -P "$(nproc)" -I{} \
    sh -c 'g++ -std=c++17 -O2 -g -fno-omit-frame-pointer -c "$1" -o "${1%.cpp}.o"' _ {}
  g++ -o "$work/big" "$work"/src/*.o
fi
big=$work/big
debug_bytes=$(readelf -S --wide "$big" | python3 -c '
import sys
print(sum(int(l.split()[5], 16) for l in sys.stdin if ".debug_" in l and len(l.split()) > 6))')
read -r text_addr text_size < <(readelf -S --wide "$big" | awk '$2 == ".text" { print $4, $6 }')
python3 -c "
a, n = int('$text_addr', 16), int('$text_size', 16)
print('\n'.join('%x' % x for x in range(a, a + n, 64)))" > "$work/addrs"
count=$(wc -l < "$work/addrs")
prefixed=$work/addrs0x
sed 's/^/0x/' "$work/addrs" > "$prefixed"

measure() {  # name, output file, command...
  local name=$1 out=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" > "$out" 2>/dev/null
  read -r secs rss < "$work/$name.time"
  echo "$name $secs $rss"
}
results=()
results+=("$(measure hotline "$work/hotline.out" build/bench/symbolize_bench "$big" "$work/addrs")")
results+=("$(measure addr2line "$work/addr2line.out" addr2line -a -i -f -C -e "$big" @"$prefixed")")
# eu-addr2line walks the DIE tree for every address (minutes on this binary): it gets every
# EU_SAMPLE-th address, and its time is scaled up to the full set in the table.
EU_SAMPLE=${EU_SAMPLE:-20}
awk -v n="$EU_SAMPLE" 'NR % n == 1' "$prefixed" > "$work/addrs_eu"
results+=("$(measure eu-addr2line "$work/eu.out" sh -c "eu-addr2line -a -i -f -C -e '$big' < '$work/addrs_eu'")")
agree=$(bench/compare_addr2line.py "$work/hotline.out" "$work/addr2line.out")
eu_agree=$(bench/compare_addr2line.py "$work/eu.out" "$work/addr2line.out" --subset)

echo "binary: $(du -h "$big" | cut -f1), DWARF $(awk -v b="$debug_bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }'), $count addresses"
printf "| tool | time | peak RSS | RSS / DWARF size |\n|---|---|---|---|\n"
for r in "${results[@]}"; do
  read -r name secs rss <<< "$r"
  scale=1
  [[ $name == eu-addr2line ]] && scale=$EU_SAMPLE
  awk -v n="$name" -v s="$secs" -v r="$rss" -v d="$debug_bytes" -v k="$scale" \
    'BEGIN { printf "| %s | %.2f s%s | %.1f MB | %.2fx |\n", n, s * k, (k > 1 ? sprintf(" (%.2f s for 1/%d, scaled)", s, k) : ""), r / 1024, r * 1024 / d }'
done
echo "hotline vs addr2line: $agree"
echo "eu-addr2line vs addr2line: $eu_agree"
