#!/usr/bin/env bash
# The wasm32 target for the schema crate and the site.
set -euo pipefail
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
