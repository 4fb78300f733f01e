#!/usr/bin/env bash
# hotline's own cost while recording a busy 2-thread process (the demo) for D seconds at
# 99 Hz: its CPU time as a share of one core, and its peak RSS (GNU time).
#
# Usage: bench/footprint.sh [SECONDS] [HZ]   (as root; after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_=${1:-60}
HZ=${2:-99}
tmp=$(mktemp -d)
build/tests/fixtures/demo &
target=$!
trap 'kill $target 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
/usr/bin/time -f "%U %S %M %e" -o "$tmp/time" ${HOTLINE:-build/hotline} record -q -F "$HZ" -d "${SECONDS_}s" \
  -o "$tmp/rec.db" --pid "$target"
read -r user sys rss_kb elapsed < "$tmp/time"
samples=$(build/hotline query "$tmp/rec.db" "SELECT SUM(count) FROM cpu_samples" --csv | tail -1)
size=$(stat -c %s "$tmp/rec.db")
awk -v u="$user" -v s="$sys" -v e="$elapsed" -v rss="$rss_kb" -v n="$samples" -v sz="$size" -v hz="$HZ" 'BEGIN {
  printf "| metric | value |\n|---|---|\n"
  printf "| recording | %.1f s at %d Hz, %d samples |\n", e, hz, n
  printf "| hotline CPU time | %.2f s user + %.2f s sys = %.2f%% of one core |\n", u, s, (u + s) / e * 100
  printf "| hotline peak RSS | %.1f MB |\n", rss / 1024
  printf "| recording size | %.1f KB (%.1f bytes/sample) |\n", sz / 1024, sz / n
}'
