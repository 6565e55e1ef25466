#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each). Not part of
# the CI test run: run it by hand or on a schedule. Crashes land in
# fuzz/artifacts/<target>/ (git-ignored); copy each into fuzz/regressions/<target>/,
# where scanner/tests/fuzz_corpus.rs replays it in every test run, then fix the parser.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
secs="${1:-60}"; shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "corpus/$t/." "$work/" 2>/dev/null || true
  echo "== fuzz $t for ${secs}s"
  # -s none: the stable toolchain has no sanitizers; libFuzzer still finds panics, hangs and OOMs.
  cargo fuzz run -s none "$t" "$work" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10
  rm -rf "$work"
done
