#!/usr/bin/env bash
# Builds the hotline binary twice from the same commit, in two different directories, and
# compares the results byte for byte. Paths are mapped away (-ffile-prefix-map, and
# -fdebug-prefix-map for the BPF objects), timestamps come from SOURCE_DATE_EPOCH (the
# commit's time), and the BPF skeletons embed deterministic objects.
# Usage: scripts/check-reproducible.sh [COMMIT]   (default HEAD; uncommitted changes are not built)
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse "${1:-HEAD}")
export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct "$commit")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sums=()
for side in a b; do
  dir=$work/$side-$RANDOM/hotline
  mkdir -p "$dir"
  git archive "$commit" | tar -x -C "$dir"
  echo "check-reproducible: building $commit in $dir" >&2
  cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$work/$side.log" 2>&1
  cmake --build "$dir/build" -j "$(nproc)" --target hotline >> "$work/$side.log" 2>&1 ||
    { tail -20 "$work/$side.log"; exit 1; }
  cp "$dir/build/hotline" "$work/hotline-$side"
  sums+=("$(sha256sum < "$work/hotline-$side" | cut -d' ' -f1)")
done
if [[ ${sums[0]} != "${sums[1]}" ]]; then
  echo "check-reproducible: the two builds differ:" >&2
  cmp -l "$work/hotline-a" "$work/hotline-b" | head -5 >&2 || true
  for s in a b; do readelf -S --wide "$work/hotline-$s" > "$work/sections-$s"; done
  diff "$work/sections-a" "$work/sections-b" | head -10 >&2 || true
  strings -a "$work/hotline-a" | grep -F "$work" | head -5 >&2 || true
  exit 1
fi
echo "check-reproducible: identical builds of $commit (sha256 ${sums[0]})"
