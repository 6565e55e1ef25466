#!/usr/bin/env bash
# The browser for scripts/e2e/40-site-browser.sh: Debian chromium (+
# chromium-driver for wasm-bindgen-test-runner) and npm playwright-core, which
# drives it and never downloads a browser of its own. Building the site does
# not need this (scripts/setup/30-site-tools.sh does).
# Idempotent: skips what is present.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh

readonly PLAYWRIGHT_CORE_VERSION="1.65.1"
readonly NODE_DIR="$OBSERVATORY_TOOLS/node"

if [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ] \
  || ! grep -q "\"version\": \"$PLAYWRIGHT_CORE_VERSION\"" "$NODE_DIR/node_modules/playwright-core/package.json"; then
  mkdir -p "$NODE_DIR"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$NODE_DIR" --no-audit --no-fund \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi

if [ -x /usr/lib/chromium/chromium ] && command -v chromedriver >/dev/null; then
  echo "chromium present"
else
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update
  # Another installer may hold the dpkg lock on a shared machine: wait for it.
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -o DPkg::Lock::Timeout=600 \
    chromium chromium-driver
fi
