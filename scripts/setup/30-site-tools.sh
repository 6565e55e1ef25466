#!/usr/bin/env bash
# Tools for building and browser-testing the report site, all offline-capable
# once installed (Trunk.toml sets `offline = true`, so a missing tool is an
# error rather than a download attempt):
#   - trunk 0.21.14 (0.22 needs a newer rustc than the pinned toolchain);
#   - wasm-bindgen-cli equal to the `wasm-bindgen` crate in Cargo.lock
#     (Trunk refuses a mismatched CLI);
#   - wasm-opt from npm `binaryen@132` (Debian's binaryen 108 breaks the
#     externref table wasm-bindgen emits: blank page at load).
# The browser for the site's end-to-end test is scripts/setup/30-site-browser.sh.
# Idempotent: every step checks first and skips what is present, whether in
# $OBSERVATORY_TOOLS/bin or ~/.cargo/bin (both are on PATH via scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh

readonly TRUNK_VERSION="0.21.14"
readonly BINARYEN_VERSION="132.0.0"
readonly NODE_DIR="$OBSERVATORY_TOOLS/node"

# --- trunk -------------------------------------------------------------------
if trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then
  echo "trunk $TRUNK_VERSION present"
else
  cargo install trunk --version "$TRUNK_VERSION" --locked --root "$OBSERVATORY_TOOLS"
fi

# --- wasm-bindgen-cli (version from Cargo.lock) ------------------------------
wb_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [ -z "$wb_version" ]; then
  echo "cannot read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
if wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $wb_version"; then
  echo "wasm-bindgen-cli $wb_version present"
else
  # `--locked` on the published lock file fails on this registry mirror (it
  # wants webpki-roots 1.0.11, which the index lacks); that attempt still
  # unpacks the source into the cargo registry, so retry from a copy with
  # webpki-roots pinned to 1.0.10.
  if ! cargo install wasm-bindgen-cli --version "$wb_version" --locked --root "$OBSERVATORY_TOOLS"; then
    src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"wasm-bindgen-cli-$wb_version" | head -n1)"
    if [ -z "$src" ]; then
      echo "wasm-bindgen-cli $wb_version source not found in the cargo registry" >&2
      exit 1
    fi
    work="$(mktemp -d)"
    cp -r "$src" "$work/cli"
    (cd "$work/cli" \
      && cargo update -p webpki-roots --precise 1.0.10 \
      && cargo install --path . --locked --root "$OBSERVATORY_TOOLS")
    rm -rf "$work"
  fi
fi

# --- wasm-opt (npm binaryen) ---------------------------------------------------
mkdir -p "$NODE_DIR"
if [ ! -x "$NODE_DIR/node_modules/.bin/wasm-opt" ] \
  || ! "$NODE_DIR/node_modules/.bin/wasm-opt" --version | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  npm install --prefix "$NODE_DIR" --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
fi
ln -sf "$NODE_DIR/node_modules/.bin/wasm-opt" "$OBSERVATORY_TOOLS/bin/wasm-opt"
