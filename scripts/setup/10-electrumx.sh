#!/usr/bin/env bash
# Real ElectrumX servers for the scanner's integration tests, in python venvs:
#   $OBSERVATORY_TOOLS/electrumx-2.0.0/bin/electrumx_server
#   $OBSERVATORY_TOOLS/electrumx-1.16.0/bin/electrumx_server
# plus openssl (certificates are made the way ElectrumX's HOWTO does).
# Idempotent: a venv whose electrumx_server imports is left alone.
set -euo pipefail
: "${OBSERVATORY_TOOLS:=$HOME/.cache/electrum-observatory}"
mkdir -p "$OBSERVATORY_TOOLS"

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

install_one() {
  local version="$1" dir="$OBSERVATORY_TOOLS/electrumx-$1"
  # 1.16.0 installs electrumx_server without the executable bit: tests run it with the venv python.
  if [ -f "$dir/bin/electrumx_server" ] && "$dir/bin/python" -c 'import electrumx, plyvel' >/dev/null 2>&1; then
    echo "electrumx $version: present"
    return
  fi
  echo "electrumx $version: installing into $dir"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --upgrade pip
  # 1.16.0 has no `leveldb` extra (plyvel is a plain dependency there); naming plyvel covers both.
  if ! "$dir/bin/pip" install -q "e-x[leveldb]==$version" plyvel; then
    # plyvel needs a compiler and libleveldb when no wheel fits this python.
    if command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential libleveldb-dev
    fi
    "$dir/bin/pip" install -q "e-x[leveldb]==$version" plyvel
  fi
  "$dir/bin/python" -c 'import electrumx, plyvel'
  test -f "$dir/bin/electrumx_server"
}

install_one 2.0.0
install_one 1.16.0
