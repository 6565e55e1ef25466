#!/usr/bin/env bash
# The README's main command: scan → analyze → build the site → serve it on 127.0.0.1.
#
#   scripts/run.sh                 scan the live network from the embedded seed list
#   scripts/run.sh --simnet        scan a simulated network on 127.0.0.0/8 instead (offline)
#
# Options:
#   --servers N          simnet size (default 60)
#   --seed S             simnet seed (default 1)
#   --servers-file FILE  live mode: scan this Electrum servers.json instead of the seed list
#   --data DIR           data directory (default: data, or data/simnet with --simnet)
#   --port P             port of the local web server (default 8080)
#   --no-serve           stop after building the site (tests, CI)
#   -h, --help           this text
#
# A fresh machine gets what it lacks from scripts/setup/ (Rust and its wasm target, GeoIP
# data, trunk and wasm-bindgen-cli); each setup script skips what is already installed.
# OBSERVATORY_BIN=path/to/observatory skips the release build (tests use the debug binary).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SIMNET=0
SERVERS=60
SEED=1
SERVERS_FILE=""
DATA=""
PORT=8080
SERVE=1
# The simnet runs in the background for the scan only and never outlives this bound.
SIMNET_MAX_DURATION=30m
# How long to wait for the simnet to bind its sockets and write its ground truth.
SIMNET_READY_SECONDS=120
# Setup scripts the pipeline needs (the test-only ones are left to scripts/test.sh).
SETUP_SCRIPTS="00-rust 20-geoip 30-site-tools"

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --simnet) SIMNET=1 ;;
    --servers) SERVERS="${2:?--servers needs a number}"; shift ;;
    --seed) SEED="${2:?--seed needs a number}"; shift ;;
    --servers-file) SERVERS_FILE="${2:?--servers-file needs a file}"; shift ;;
    --data) DATA="${2:?--data needs a directory}"; shift ;;
    --port) PORT="${2:?--port needs a number}"; shift ;;
    --no-serve) SERVE=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$DATA" ]; then
  # data/simnet/ is gitignored: simulated results never end up next to real ones.
  if [ "$SIMNET" = 1 ]; then DATA=data/simnet; else DATA=data; fi
fi

echo "== setup (installs only what is missing)"
for name in $SETUP_SCRIPTS; do
  script="scripts/setup/$name.sh"
  if [ -e "$script" ]; then
    echo "-- $script"
    bash "$script"
  else
    echo "-- $script not present, skipped"
  fi
done

if [ -n "${OBSERVATORY_BIN:-}" ]; then
  OBS="$OBSERVATORY_BIN"
  echo "== using $OBS"
else
  echo "== build observatory (release)"
  cargo build --release -p observatory
  OBS="$PWD/target/release/observatory"
fi

SIMPID=""
stop_simnet() {
  if [ -n "$SIMPID" ] && kill -0 "$SIMPID" 2>/dev/null; then
    kill "$SIMPID" 2>/dev/null || true
    wait "$SIMPID" 2>/dev/null || true
  fi
  SIMPID=""
}
trap stop_simnet EXIT

# The run directory a scan printed (its last line of stdout).
run_dir_of() { tail -n 1 "$1"; }

mkdir -p "$DATA"
SCANLOG="$(mktemp)"
if [ "$SIMNET" = 1 ]; then
  SIMDIR="$DATA/net"
  mkdir -p "$SIMDIR"
  rm -f "$SIMDIR/ground_truth.json" "$SIMDIR/servers.json"
  echo "== simnet: $SERVERS servers on 127.0.0.0/8 (seed $SEED), log in $SIMDIR/simnet.log"
  "$OBS" simnet --servers "$SERVERS" --seed "$SEED" --out "$SIMDIR" --duration "$SIMNET_MAX_DURATION" \
    >"$SIMDIR/simnet.log" 2>&1 &
  SIMPID=$!
  for _ in $(seq 1 "$SIMNET_READY_SECONDS"); do
    [ -s "$SIMDIR/ground_truth.json" ] && break
    if ! kill -0 "$SIMPID" 2>/dev/null; then
      echo "run.sh: the simnet exited early:" >&2
      cat "$SIMDIR/simnet.log" >&2
      exit 1
    fi
    sleep 1
  done
  [ -s "$SIMDIR/ground_truth.json" ] || { echo "run.sh: the simnet did not come up in ${SIMNET_READY_SECONDS}s" >&2; exit 1; }
  echo "== scan the simnet (ground truth in $SIMDIR/ground_truth.json)"
  "$OBS" scan --servers "$SIMDIR/servers.json" --allow-loopback --crawl --out "$DATA" | tee "$SCANLOG"
  stop_simnet
else
  if [ -n "$SERVERS_FILE" ]; then
    echo "== scan the servers in $SERVERS_FILE"
    source_args=(--servers "$SERVERS_FILE")
  else
    echo "== scan the live network (embedded seed list)"
    source_args=()
  fi
  "$OBS" scan "${source_args[@]}" --out "$DATA" | tee "$SCANLOG" || true
  manifest="$(run_dir_of "$SCANLOG")/manifest.json"
  # The manifest counts records by status; no "success" means no server answered at all.
  if [ ! -s "$manifest" ] || ! grep -q '"success"' "$manifest"; then
    cat >&2 <<EOF

run.sh: no Electrum server answered: the live network looks unreachable from this machine
(no internet access, DNS not working, or outbound ports 50001/50002 blocked).
To run the whole pipeline offline on a simulated network instead, use:

    scripts/run.sh --simnet

EOF
    exit 1
  fi
fi
rm -f "$SCANLOG"

echo "== analyze"
if [ "$SIMNET" = 1 ]; then
  # Stand-in public addresses give the simulated servers a place on the map (never contacted).
  # The executive summary stays with the simulated data, never over docs/results_summary.md.
  "$OBS" analyze --data "$DATA" --ip-aliases "$SIMDIR/ip-aliases.json" --summary "$DATA/results_summary.md"
else
  # A live run refreshes the published executive summary.
  "$OBS" analyze --data "$DATA" --write-summary
fi

echo "== build the site"
if [ -e scripts/build-site.sh ]; then
  bash scripts/build-site.sh "$DATA"
else
  echo "run.sh: scripts/build-site.sh is missing; cannot build the site" >&2
  exit 1
fi

if [ "$SERVE" = 1 ]; then
  echo "== serve (the URL is printed below; Ctrl-C stops)"
  exec "$OBS" serve --dir dist --port "$PORT"
fi
echo "== done: data in $DATA/, site in dist/"
