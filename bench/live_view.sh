#!/usr/bin/env bash
# The live view's cost per refresh as a recording grows: a 10-minute recording of Debian's
# python3.11 running a JSON workload (CPU and sampled heap), replayed checkpoint by
# checkpoint; after each, one refresh of the view's model read incrementally (today) and one
# full re-read of the file (what every refresh did before), timed in the same run.
#
# Usage: bench/live_view.sh [SECONDS | RECORDING.db]   (as root; after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
arg=${1:-600}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -f $arg ]]; then
  rec=$arg
else
  rec=$tmp/long.db
  build/hotline record -q -d "${arg}s" -o "$rec" -- /usr/bin/python3.11 -c '
import json, random
keep = []
while True:
    d = [{"a": random.random(), "b": str(j)} for j in range(1000)]
    keep.append(json.loads(json.dumps(d))[:10])
    if len(keep) > 2000: keep = keep[1000:]
' > /dev/null
fi
build/bench/live_view_bench "$rec" "$tmp/replay.db"
