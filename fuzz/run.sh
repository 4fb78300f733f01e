#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, on a corpus seeded from real inputs, after
# replaying the kept crashers in fuzz/regressions/TARGET/. Exits non-zero on any finding;
# the crashing input is left in BUILD_DIR/artifacts/ (copy it to fuzz/regressions/ with
# the fix). Usage: fuzz/run.sh BUILD_DIR SECONDS [extra libFuzzer flags]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
seconds=$2
shift 2
seeds=fuzz/seeds
mkdir -p "$build/artifacts"
declare -A seed_files=(
  [duration]="$seeds/duration.txt $seeds/window.txt"
  [proc_maps]="$seeds/maps.txt"
  [perf_map]="$seeds/perf.map"
  [kallsyms]="$seeds/kallsyms.txt"
  [elf]="$build/tests/fixtures/nodebug $build/tests/fixtures/libhot.so $build/tests/fixtures/inline"
  [recording]=""
  [cfi]="$build/tests/fixtures/nofp_gcc $build/tests/fixtures/nofp_clang $build/tests/fixtures/libhot.so /usr/lib/x86_64-linux-gnu/libgcc_s.so.1"
)
for target in duration proc_maps perf_map kallsyms elf recording cfi; do
  corpus=$build/corpus/$target
  mkdir -p "$corpus"
  for f in ${seed_files[$target]}; do cp -f "$f" "$corpus/seed-$(basename "$f")"; done
  if [[ $target == recording && ! -f $corpus/seed.db ]]; then
    sqlite3 "$corpus/seed.db" < "$seeds/recording.sql"          # schema 2
    sqlite3 "$corpus/seed-v3.db" < "$seeds/recording-v3.sql"    # schema 3
    sqlite3 "$corpus/seed-v4.db" < "$seeds/recording-v4.sql"    # schema 4: off-CPU time, events
  fi
  if [[ -d fuzz/regressions/$target ]] && compgen -G "fuzz/regressions/$target/*" > /dev/null; then
    echo "fuzz: $target: replaying kept crashers"
    "$build/fuzz/fuzz_$target" fuzz/regressions/$target/* > "$build/artifacts/$target-regressions.log" 2>&1 ||
      { tail -30 "$build/artifacts/$target-regressions.log"; exit 1; }
  fi
  echo "fuzz: $target for ${seconds}s"
  if ! "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
      -artifact_prefix="$build/artifacts/$target-" "$@" "$corpus" > "$build/artifacts/$target.log" 2>&1; then
    tail -40 "$build/artifacts/$target.log"
    echo "fuzz: $target found a problem; input in $build/artifacts/" >&2
    exit 1
  fi
  grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$build/artifacts/$target.log" | tail -1
done
