#!/usr/bin/env bash
# The project's test command (README "Run the tests"): installs what a fresh
# machine lacks, then runs every test suite. Idempotent: installs already
# present are skipped. Run from anywhere inside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

echo "== setup"
for s in scripts/setup/*.sh; do
  echo "-- $s"
  bash "$s"
done

echo "== build (native workspace, schema crate for wasm32)"
cargo build --workspace --all-targets
cargo build -p observatory-model --target wasm32-unknown-unknown
cargo check --manifest-path fuzz/Cargo.toml --lib --bins --target-dir "${CARGO_TARGET_DIR:-target}"

echo "== unit and integration tests"
cargo test --workspace --no-fail-fast

echo "== end-to-end tests"
for t in scripts/e2e/*.sh; do
  [ -e "$t" ] || continue
  echo "-- $t"
  bash "$t"
done
echo "== all tests passed"
