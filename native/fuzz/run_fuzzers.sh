#!/usr/bin/env bash
# Runs every fuzz target of a ROOMLINK_FUZZ build for a fixed time each, starting from the seeds
# generated from docs/vectors, and fails if any target finds a crash, leak or failed invariant;
# the crashing input is printed in hex so the CI log alone reproduces it.
#   native/fuzz/run_fuzzers.sh <build dir> [seconds per target, default 60]
set -euo pipefail
build=${1:?usage: run_fuzzers.sh <build dir> [seconds]}
seconds=${2:-60}
work="$build/fuzz-run"
failed=0
for target in "$build"/native/fuzz/*_fuzz; do
  name=$(basename "$target")
  rm -rf "$work/$name" && mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
  cp "$build/fuzz-seeds/$name"/* "$work/$name/corpus/"
  echo "== fuzz $name for ${seconds}s"
  # The seed copy grows with what the run finds; the generated seeds stay as they are.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$target" -max_total_time="$seconds" -print_final_stats=1 \
      -max_len=70000 -artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" \
      >"$work/$name/log" 2>&1; then
    failed=1
    tail -n 60 "$work/$name/log"
    for artifact in "$work/$name/artifacts"/*; do
      [ -e "$artifact" ] || continue
      echo "== $name crash input $(basename "$artifact") ($(stat -c %s "$artifact") bytes, hex):"
      od -An -v -tx1 "$artifact" | head -n 200
    done
  else
    grep -E '^(stat::|Done|INFO: .*corpus)' "$work/$name/log" | tail -n 12 || true
  fi
done
exit $failed
