#!/usr/bin/env bash
# The report site in a real headless Chromium (Debian's, driven by npm
# playwright-core; no downloaded browser):
#   1. builds the site under the sub-path /electrum-observatory/ with the
#      committed fixture snapshot (site/fixtures/, which includes a server whose
#      banner, software string, certificate and error are XSS payloads);
#   2. serves it on 127.0.0.1 and checks: the map canvas has drawn pixels, the
#      ranking rows are the fixture in score order (served shuffled), search and
#      sort work, a server page opens by deep URL, the XSS banner shows as
#      literal text with no dialog and no injected element, every page renders
#      without a script error, and the missing-index and unknown-schema states;
#   3. prints the wasm+js size (raw and gzip) and the time to first render of
#      2,000-server snapshots (figures only, nothing asserted on time).
# Screenshots: target/e2e-screenshots/ (uploaded as CI artifacts).
# Needs scripts/setup/30-site-tools.sh and 30-site-browser.sh; when a tool is missing this
# fails unless OBSERVATORY_REQUIRE_TOOLS=0, which lets it skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh

readonly SUB_PATH="/electrum-observatory/"
readonly WORK="$PWD/target/e2e-site"
readonly SHOT_DIR="$PWD/target/e2e-screenshots"
readonly PLAYWRIGHT_DIR="$OBSERVATORY_TOOLS/node/node_modules/playwright-core"
readonly CHROMIUM_BIN="${CHROMIUM:-/usr/lib/chromium/chromium}"
# Size of the synthetic snapshot for the first-render figure (the issue's 2,000).
readonly MEASURE_SERVERS="${SITE_MEASURE_SERVERS:-2000}"

missing=()
[ -x "$CHROMIUM_BIN" ] || missing+=("chromium ($CHROMIUM_BIN)")
command -v node >/dev/null || missing+=("node")
[ -f "$PLAYWRIGHT_DIR/package.json" ] || missing+=("playwright-core ($PLAYWRIGHT_DIR)")
command -v trunk >/dev/null || missing+=("trunk")
command -v wasm-bindgen >/dev/null || missing+=("wasm-bindgen")
if [ "${#missing[@]}" -gt 0 ]; then
  echo "site-browser: missing ${missing[*]} (install with scripts/setup/30-site-tools.sh and 30-site-browser.sh)" >&2
  if [ "${OBSERVATORY_REQUIRE_TOOLS:-1}" != 0 ]; then
    echo "site-browser: FAILED (tools are required unless OBSERVATORY_REQUIRE_TOOLS=0)" >&2
    exit 1
  fi
  echo "site-browser: skipped" >&2
  exit 0
fi

rm -rf "$WORK" "$SHOT_DIR"
mkdir -p "$WORK/data/snapshots" "$SHOT_DIR"
cp site/fixtures/index.json site/fixtures/snapshot.json "$WORK/data/snapshots/"
# The site lives at $WORK/root$SUB_PATH, served from $WORK/root, like a Pages project site.
bash scripts/build-site.sh "$WORK/data" --public-url "$SUB_PATH" --dist "$WORK/root$SUB_PATH"

echo "== site-browser: functional checks"
SITE_ROOT="$WORK/root" SITE_PATH="$SUB_PATH" FIXTURE="site/fixtures/snapshot.json" SHOTS="$SHOT_DIR" \
  CHROMIUM="$CHROMIUM_BIN" PLAYWRIGHT="$PLAYWRIGHT_DIR" MODE=test \
  node scripts/e2e/site-browser.mjs

echo "== site-browser: size of the WebAssembly and its JavaScript glue"
for f in "$WORK/root$SUB_PATH"*.wasm "$WORK/root$SUB_PATH"*.js; do
  printf '  %-8s raw %8d B   gzip -9 %8d B   %s\n' \
    "${f##*.}" "$(wc -c <"$f")" "$(gzip -9c "$f" | wc -c)" "${f##*/}"
done

# Two 2,000-server snapshots: the site's synthetic one (with locations, so the
# map draws every marker) and one written by the real analysis pipeline from a
# synthetic raw run (no locations unless GeoIP databases are installed).
cargo run --quiet -p observatory-site --example fixtures -- "$WORK/synthetic" "$MEASURE_SERVERS"
cargo run --quiet -p observatory-site --example analyzed -- "$WORK/analyzed" "$MEASURE_SERVERS"
analyzed_snapshot="$(ls "$WORK"/analyzed/snapshots/*.json | grep -v '/index.json$' | head -n 1)"
for labelled in "synthetic=$WORK/synthetic/snapshot.json" "analyzed=$analyzed_snapshot"; do
  label="${labelled%%=*}"
  snapshot="${labelled#*=}"
  echo "== site-browser: time to first render, $label snapshot ($snapshot)"
  SITE_ROOT="$WORK/root" SITE_PATH="$SUB_PATH" SHOTS="$SHOT_DIR" CHROMIUM="$CHROMIUM_BIN" PLAYWRIGHT="$PLAYWRIGHT_DIR" \
    MODE=measure MEASURE_SNAPSHOT="$snapshot" MEASURE_LABEL="$label" \
    node scripts/e2e/site-browser.mjs
done
echo "site-browser: passed (screenshots in $SHOT_DIR)"
