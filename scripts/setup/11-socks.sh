#!/usr/bin/env bash
# A real SOCKS5 server (microsocks) for the scanner's SOCKS5/Tor path test.
# The test starts it on 127.0.0.1 itself; this only installs it. Idempotent.
set -euo pipefail
if command -v microsocks >/dev/null 2>&1; then
  echo "microsocks: present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "microsocks missing and no apt-get: install microsocks by hand" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq microsocks
command -v microsocks
