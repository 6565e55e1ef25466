# Sourced by the end-to-end scripts that drive the site in headless Chromium
# (40-site-browser.sh, 50-simnet-run.sh); not a test of its own (the test loop
# runs scripts/e2e/*.sh only). Needs scripts/env.sh sourced first.
#
#   browser_tools_present   0 when Chromium, node, playwright-core, trunk and
#                           wasm-bindgen are installed; otherwise says what is
#                           missing and exits 1 unless OBSERVATORY_REQUIRE_TOOLS=0,
#                           which makes it return 1 so the caller can skip.
#   site_browser ENV...     runs scripts/e2e/site-browser.mjs with the tool paths set.
#   keep_screenshots DIR    copies DIR (a folder under target/e2e-screenshots/) to
#                           ci-artifacts/screenshots/, the folder CI uploads.

readonly PLAYWRIGHT_DIR="$OBSERVATORY_TOOLS/node/node_modules/playwright-core"
readonly CHROMIUM_BIN="${CHROMIUM:-/usr/lib/chromium/chromium}"
readonly SCREENSHOT_ROOT="$PWD/target/e2e-screenshots"
readonly CI_SCREENSHOTS="$PWD/ci-artifacts/screenshots"

browser_tools_present() {
  local missing=()
  [ -x "$CHROMIUM_BIN" ] || missing+=("chromium ($CHROMIUM_BIN)")
  command -v node >/dev/null || missing+=("node")
  [ -f "$PLAYWRIGHT_DIR/package.json" ] || missing+=("playwright-core ($PLAYWRIGHT_DIR)")
  command -v trunk >/dev/null || missing+=("trunk")
  command -v wasm-bindgen >/dev/null || missing+=("wasm-bindgen")
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "site-browser: missing ${missing[*]} (install with scripts/setup/30-site-tools.sh and 30-site-browser.sh)" >&2
  if [ "${OBSERVATORY_REQUIRE_TOOLS:-1}" != 0 ]; then
    echo "site-browser: FAILED (tools are required unless OBSERVATORY_REQUIRE_TOOLS=0)" >&2
    exit 1
  fi
  echo "site-browser: skipped" >&2
  return 1
}

site_browser() {
  env CHROMIUM="$CHROMIUM_BIN" PLAYWRIGHT="$PLAYWRIGHT_DIR" "$@" node scripts/e2e/site-browser.mjs
}

keep_screenshots() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  mkdir -p "$CI_SCREENSHOTS"
  rm -rf "${CI_SCREENSHOTS:?}/$(basename "$dir")"
  cp -r "$dir" "$CI_SCREENSHOTS/"
}
