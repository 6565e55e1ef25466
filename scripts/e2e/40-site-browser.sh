#!/usr/bin/env bash
# The report site in a real headless Chromium (Debian's, driven by npm
# playwright-core; no downloaded browser):
#   1. a build whose documentation lacks a listed page fails (before compiling);
#   2. builds the site under the sub-path /electrum-observatory/ with the
#      committed fixture snapshot (site/fixtures/, which includes a server whose
#      banner, software string, certificate and error are XSS payloads) and the
#      CSVs the real analysis pipeline writes (so every download link resolves);
#   3. serves it on 127.0.0.1 and checks (scripts/e2e/site-browser.mjs, MODE=test):
#      the map draws every located server in its level's colour over the country
#      outlines, hover and click show the marker's servers, a missing outline file
#      is reported while the markers stay; the ranking is the fixture in score
#      order, search, level filter, mouse and keyboard sorting work; a server page
#      opens by deep URL, the XSS banner is literal text with no dialog and no
#      injected element, history across runs is listed; every page shows its
#      content, fits a 390 px phone, and carries the simulated banner exactly when
#      the snapshot is flagged; every download answers 200; the missing-index and
#      unknown-schema states;
#   4. prints the wasm+js size (raw and gzip) and the time to first render of
#      2,000-server snapshots (figures only, nothing asserted on time).
# Screenshots: target/e2e-screenshots/site/, copied to ci-artifacts/screenshots/site/
# (uploaded by .github/workflows/ci.yml), also when a check fails.
# Needs scripts/setup/30-site-tools.sh and 30-site-browser.sh; when a tool is missing this
# fails unless OBSERVATORY_REQUIRE_TOOLS=0, which lets it skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
source scripts/e2e/lib/browser.sh

readonly SUB_PATH="/electrum-observatory/"
readonly WORK="$PWD/target/e2e-site"
readonly SHOT_DIR="$SCREENSHOT_ROOT/site"
# Size of the synthetic snapshots for the first-render figure (the issue's 2,000).
readonly MEASURE_SERVERS="${SITE_MEASURE_SERVERS:-2000}"

browser_tools_present || exit 0

rm -rf "$WORK" "$SHOT_DIR"
mkdir -p "$WORK/data/snapshots" "$SHOT_DIR"
trap 'keep_screenshots "$SHOT_DIR"' EXIT

echo "== site-browser: a missing listed document fails the build"
mkdir -p "$WORK/docs-without-ethics"
cp docs/*.md "$WORK/docs-without-ethics/"
rm "$WORK/docs-without-ethics/ethics.md"
if bash scripts/build-site.sh "$WORK/data" --docs "$WORK/docs-without-ethics" --dist "$WORK/unused" 2>"$WORK/docs.err"; then
  echo "site-browser: FAILED: build-site.sh built a site without docs/ethics.md" >&2
  exit 1
fi
grep -q "ethics.md is missing" "$WORK/docs.err" || { cat "$WORK/docs.err" >&2; exit 1; }

# Two 2,000-server snapshots for the measurements: the site's synthetic one
# (with locations, so the map draws every marker) and one written by the real
# analysis pipeline from a synthetic raw run (no locations unless GeoIP
# databases are installed). The latter's CSVs are the fixture build's downloads.
cargo run --quiet -p observatory-site --example fixtures -- "$WORK/synthetic" "$MEASURE_SERVERS"
cargo run --quiet -p observatory-site --example analyzed -- "$WORK/analyzed" "$MEASURE_SERVERS"

cp site/fixtures/index.json site/fixtures/snapshot.json "$WORK/data/snapshots/"
cp -r "$WORK/analyzed/processed" "$WORK/data/processed"
# The site lives at $WORK/root$SUB_PATH, served from $WORK/root, like a Pages project site.
bash scripts/build-site.sh "$WORK/data" --public-url "$SUB_PATH" --dist "$WORK/root$SUB_PATH"

echo "== site-browser: functional checks"
site_browser SITE_ROOT="$WORK/root" SITE_PATH="$SUB_PATH" FIXTURE="site/fixtures/snapshot.json" SHOTS="$SHOT_DIR" MODE=test

echo "== site-browser: size of the WebAssembly and its JavaScript glue"
for f in "$WORK/root$SUB_PATH"*.wasm "$WORK/root$SUB_PATH"*.js; do
  printf '  %-8s raw %8d B   gzip -9 %8d B   %s\n' \
    "${f##*.}" "$(wc -c <"$f")" "$(gzip -9c "$f" | wc -c)" "${f##*/}"
done

analyzed_snapshot="$(ls "$WORK"/analyzed/snapshots/*.json | grep -v '/index.json$' | head -n 1)"
for labelled in "synthetic=$WORK/synthetic/snapshot.json" "analyzed=$analyzed_snapshot"; do
  label="${labelled%%=*}"
  snapshot="${labelled#*=}"
  echo "== site-browser: time to first render, $label snapshot ($snapshot)"
  site_browser SITE_ROOT="$WORK/root" SITE_PATH="$SUB_PATH" SHOTS="$SHOT_DIR" \
    MODE=measure MEASURE_SNAPSHOT="$snapshot" MEASURE_LABEL="$label"
done
echo "site-browser: passed (screenshots in $SHOT_DIR and ci-artifacts/screenshots/site)"
