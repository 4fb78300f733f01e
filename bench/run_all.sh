#!/usr/bin/env bash
# All benchmarks, in the order docs/benchmarks.md lists them. As root, after `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## overhead"; bench/overhead.sh "${ROUNDS:-11}"
echo "## footprint"; bench/footprint.sh "${FOOTPRINT_SECONDS:-60}"
echo "## live view over a long recording"; bench/live_view.sh "${LIVE_VIEW_SECONDS:-600}"
echo "## heap"; bench/heap.sh "${HEAP_ROUNDS:-5}"
echo "## heap exact mode: other processes"; bench/bystander.sh "${HEAP_ROUNDS:-5}"
if [[ -x bench/symbolize.sh ]]; then echo "## symbolization"; bench/symbolize.sh; fi
echo "## unwinding without frame pointers"; bench/unwind.sh "${ROUNDS:-7}"
