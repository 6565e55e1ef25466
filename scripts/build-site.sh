#!/usr/bin/env bash
# Builds the report site into dist/ from a data directory:
#   scripts/build-site.sh [DATA_DIR] [--public-url URL] [--dist DIR]
# DATA_DIR (default: data) must hold snapshots/ (index.json + snapshot files,
# written by `observatory analyze`) and optionally processed/ (CSVs); both are
# copied into dist/data/ together with the world outlines and docs/*.md, so
# the built site is self-contained. --public-url is the path the site is served
# under (default "/"; GitHub Pages project sites use "/<repo>/").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

data_dir="data"
public_url="/"
dist="dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --public-url) public_url="$2"; shift 2 ;;
    --dist) dist="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) data_dir="$1"; shift ;;
  esac
done

if [ ! -f "$data_dir/snapshots/index.json" ]; then
  echo "warning: $data_dir/snapshots/index.json is missing; the site will show its 'no snapshot' state" >&2
fi

# wasm-opt from npm binaryen 132 first on PATH (see scripts/setup/30-site-tools.sh).
export PATH="$OBSERVATORY_TOOLS/node/node_modules/.bin:$PATH"
trunk build --release --public-url "$public_url" --dist "$dist"

mkdir -p "$dist/data/geo" "$dist/data/docs"
cp data/geo/countries-110m.json "$dist/data/geo/"
for sub in snapshots processed; do
  if [ -d "$data_dir/$sub" ]; then
    rm -rf "${dist:?}/data/$sub"
    cp -r "$data_dir/$sub" "$dist/data/$sub"
  fi
done
if compgen -G "docs/*.md" >/dev/null; then
  cp docs/*.md "$dist/data/docs/"
fi
# GitHub Pages: serve files as they are (no Jekyll processing of the data folder).
touch "$dist/.nojekyll"
echo "site built in $dist (public URL $public_url, data from $data_dir)"
