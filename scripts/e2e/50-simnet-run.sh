#!/usr/bin/env bash
# The README's main command, end to end, offline:
#   1. live mode with a server list no scan may reach says the network is unreachable and
#      suggests --simnet (the list names 127.0.0.1, which live mode refuses by policy, so
#      no packet leaves the machine);
#   2. `scripts/run.sh --simnet` scans a small simulated network, analyzes it, builds the
#      site, and `observatory serve` serves it on 127.0.0.1 at the URL it prints;
#   3. headless Chromium opens that site (scripts/e2e/site-browser.mjs, MODE=site): every
#      page renders without a console error or failed request, at desktop and phone width,
#      with the "Simulated network" banner; the map shows the snapshot's located servers;
#      the ranking has one row per server; every download link answers 200.
# Screenshots: target/e2e-screenshots/simnet/, copied to ci-artifacts/screenshots/simnet/.
# Uses the debug binary scripts/test.sh already built (OBSERVATORY_BIN skips the release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
source scripts/e2e/lib/browser.sh

# A small network keeps the scan near a minute; large enough for every role.
SERVERS=30
# The test server stops by itself after this long (the browser checks take a few minutes).
SERVE_SECONDS=900
readonly SHOT_DIR="$SCREENSHOT_ROOT/simnet"

cargo build -p observatory
export OBSERVATORY_BIN="$PWD/target/debug/observatory"
work="$(mktemp -d)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  keep_screenshots "$SHOT_DIR"
}
trap cleanup EXIT
fail() { echo "50-simnet-run: FAIL: $*" >&2; exit 1; }

echo "-- live mode, nothing reachable"
printf '{"127.0.0.1": {"pruning": "-", "t": "9", "version": "1.4"}}\n' >"$work/servers.json"
if scripts/run.sh --servers-file "$work/servers.json" --data "$work/live" --no-serve >"$work/live.out" 2>&1; then
  fail "run.sh succeeded without any reachable server"
fi
grep -q "live network looks unreachable" "$work/live.out" || { cat "$work/live.out"; fail "no 'unreachable' explanation"; }
grep -q "scripts/run.sh --simnet" "$work/live.out" || { cat "$work/live.out"; fail "no --simnet suggestion"; }

echo "-- simnet mode"
data="$work/simnet"
scripts/run.sh --simnet --servers "$SERVERS" --data "$data" --no-serve
[ -s "$data/net/ground_truth.json" ] || fail "no ground truth"
[ -s "$data/snapshots/index.json" ] || fail "analyze wrote no snapshot index"
snapshot="$(ls "$data"/snapshots/*.json | grep -v index.json | head -n 1)"
grep -q '"127\.50\.' "$snapshot" || fail "the snapshot does not show the simulated servers"
[ -s dist/index.html ] || fail "no dist/index.html"
[ -s dist/data/snapshots/index.json ] || fail "the site does not carry the snapshot"

echo "-- serve"
"$OBSERVATORY_BIN" serve --dir dist --port 0 --duration "${SERVE_SECONDS}s" >"$work/serve.out" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 50); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/serve.out" | head -n 1 || true)"
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || fail "serve printed no URL"
curl -fsS "$url" | grep -qi "<html" || fail "$url does not serve the site"
curl -fsS "${url}data/snapshots/index.json" >/dev/null || fail "$url does not serve the snapshot"

echo "-- the served site in headless Chromium"
if browser_tools_present; then
  rm -rf "$SHOT_DIR"
  site_browser MODE=site SITE_URL="$url" SNAPSHOT="$snapshot" EXPECT_SIMULATED=1 SHOTS="$SHOT_DIR" \
    || fail "the site built from the simnet scan does not render as expected"
fi
echo "50-simnet-run: ok ($url)"
