#!/usr/bin/env bash
# Builds the report site into dist/ from a data directory:
#   scripts/build-site.sh [DATA_DIR] [--public-url URL] [--dist DIR] [--docs DIR]
# DATA_DIR (default: $OBSERVATORY_DATA, else data) must hold snapshots/
# (index.json + snapshot files, written by `observatory analyze`) and
# optionally processed/ (CSVs) and reports/; they are copied into dist/data/
# together with the world outlines and docs/*.md, so the built site is
# self-contained. --public-url is the path the site is served under (default
# $OBSERVATORY_PUBLIC_URL, else "/"; GitHub Pages project sites use "/<repo>/").
# --docs is the folder of the documentation pages (default docs).
# Tools: scripts/setup/30-site-tools.sh (trunk, wasm-bindgen-cli, wasm-opt).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

data_dir="${OBSERVATORY_DATA:-data}"
public_url="${OBSERVATORY_PUBLIC_URL:-/}"
dist="dist"
docs_dir="docs"
while [ $# -gt 0 ]; do
  case "$1" in
    --public-url) public_url="$2"; shift 2 ;;
    --dist) dist="$2"; shift 2 ;;
    --docs) docs_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) data_dir="$1"; shift ;;
  esac
done

if [ ! -f "$data_dir/snapshots/index.json" ]; then
  echo "warning: $data_dir/snapshots/index.json is missing; the site will show its 'no snapshot' state" >&2
fi

# The documentation pages, checked before the (slow) build: the listed ones
# first, then every other $docs_dir/*.md. A listed document that is missing, or a
# file whose stem the site cannot route to ([a-z0-9_-]), fails the build
# instead of silently leaving a page out.
readonly LISTED_DOCS="methodology ethics"
doc_stems=""
while IFS= read -r stem; do
  [ -n "$stem" ] || continue
  if [ ! -f "$docs_dir/$stem.md" ]; then
    echo "build-site: $docs_dir/$stem.md is missing (listed in LISTED_DOCS)" >&2
    exit 1
  fi
  if [[ ! "$stem" =~ ^[a-z0-9_-]+$ ]]; then
    echo "build-site: $docs_dir/$stem.md cannot be published: rename it to [a-z0-9_-].md" >&2
    exit 1
  fi
  case " $doc_stems " in *" $stem "*) ;; *) doc_stems="$doc_stems $stem" ;; esac
done < <(printf '%s\n' $LISTED_DOCS; cd "$docs_dir" && ls -- *.md 2>/dev/null | sed 's|\.md$||' | sort)

# wasm-opt from npm binaryen 132 first on PATH (see scripts/setup/30-site-tools.sh).
export PATH="$OBSERVATORY_TOOLS/node/node_modules/.bin:$PATH"
trunk build --release --public-url "$public_url" --dist "$dist"

mkdir -p "$dist/data/geo" "$dist/data/docs"
cp data/geo/countries-110m.json "$dist/data/geo/"
for sub in snapshots processed reports; do
  if [ -d "$data_dir/$sub" ]; then
    rm -rf "${dist:?}/data/$sub"
    cp -r "$data_dir/$sub" "$dist/data/$sub"
  fi
done
# docs/*.md plus data/docs/index.txt ("stem<TAB>title" per line, listed
# documents first), from which the site lists its documentation pages.
: >"$dist/data/docs/index.txt"
for stem in $doc_stems; do
  f="$docs_dir/$stem.md"
  cp "$f" "$dist/data/docs/"
  title="$(sed -n 's/^# \{1,\}//p' "$f" | head -n 1 | tr -d '\t\r`')"
  printf '%s\t%s\n' "$stem" "${title:-$stem}" >>"$dist/data/docs/index.txt"
done
# GitHub Pages: serve files as they are (no Jekyll processing of the data folder).
touch "$dist/.nojekyll"
echo "site built in $dist (public URL $public_url, data from $data_dir)"
