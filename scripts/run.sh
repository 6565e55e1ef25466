#!/usr/bin/env bash
# The README's main command: scan → analyze → build the site → serve it on 127.0.0.1.
#
#   scripts/run.sh                 scan the live network from the embedded seed list
#   scripts/run.sh --simnet        scan a simulated network on 127.0.0.0/8 instead (offline)
#
# Options:
#   --servers N     simnet size (default 60)
#   --seed S        simnet seed (default 1)
#   --data DIR      data directory (default: data, or data-simnet with --simnet)
#   --port P        port of the local web server (default 8080)
#   --no-serve      stop after building the site (tests, CI)
#   -h, --help      this text
#
# A fresh machine gets what it lacks from scripts/setup/ (Rust wasm target, GeoIP data,
# trunk and wasm-bindgen-cli); each setup script skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SIMNET=0
SERVERS=60
SEED=1
DATA=""
PORT=8080
SERVE=1
# The simnet is started in the background for the scan only and never outlives this bound.
SIMNET_MAX_DURATION=30m
# How long to wait for the simnet to bind its sockets and write its ground truth.
SIMNET_READY_SECONDS=120

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --simnet) SIMNET=1 ;;
    --servers) SERVERS="${2:?--servers needs a number}"; shift ;;
    --seed) SEED="${2:?--seed needs a number}"; shift ;;
    --data) DATA="${2:?--data needs a directory}"; shift ;;
    --port) PORT="${2:?--port needs a number}"; shift ;;
    --no-serve) SERVE=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$DATA" ]; then
  if [ "$SIMNET" = 1 ]; then DATA=data-simnet; else DATA=data; fi
fi

echo "== setup (installs only what is missing)"
for name in 00-rust 20-geoip 30-site-tools; do
  script="scripts/setup/$name.sh"
  if [ -e "$script" ]; then
    echo "-- $script"
    bash "$script"
  else
    echo "-- $script not present, skipped"
  fi
done

echo "== build observatory (release)"
cargo build --release -p observatory
OBS="$PWD/target/release/observatory"

SIMPID=""
stop_simnet() {
  if [ -n "$SIMPID" ] && kill -0 "$SIMPID" 2>/dev/null; then
    kill "$SIMPID" 2>/dev/null || true
    wait "$SIMPID" 2>/dev/null || true
  fi
  SIMPID=""
}
trap stop_simnet EXIT

mkdir -p "$DATA"
if [ "$SIMNET" = 1 ]; then
  SIMDIR="$DATA/simnet"
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
  echo "== scan the simnet"
  "$OBS" scan --servers "$SIMDIR/servers.json" --allow-loopback --crawl --out "$DATA"
  stop_simnet
else
  echo "== scan the live network (embedded seed list)"
  "$OBS" scan --out "$DATA" || true
  latest="$(ls -1t "$DATA"/raw 2>/dev/null | head -n 1)"
  manifest="$DATA/raw/$latest/manifest.json"
  if [ -z "$latest" ] || ! grep -q '"success"' "$manifest" 2>/dev/null; then
    cat >&2 <<EOF

run.sh: no Electrum server answered: the live network looks unreachable from this machine
(no internet access, or outbound ports 50001/50002 blocked).
To run the whole pipeline offline on a simulated network, use:

    scripts/run.sh --simnet

EOF
    exit 1
  fi
fi

echo "== analyze"
"$OBS" analyze --data "$DATA"

echo "== build the site"
if [ -e scripts/build-site.sh ]; then
  OBSERVATORY_DATA="$DATA" bash scripts/build-site.sh
else
  echo "-- scripts/build-site.sh not present, site not built" >&2
fi

if [ "$SERVE" = 1 ]; then
  if [ -d dist ]; then
    echo "== serve"
    exec "$OBS" serve --dir dist --port "$PORT"
  fi
  echo "run.sh: no dist/ to serve (the site was not built)" >&2
  exit 1
fi
echo "== done: data in $DATA/, site in dist/"
