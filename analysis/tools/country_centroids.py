#!/usr/bin/env python3
"""Generates analysis/data/country-centroids.csv: one row per ISO 3166-1 country.

Columns: alpha2, name, continent, lat, lon, source.

Why a table: country-only GeoIP databases (DB-IP Lite country) carry no
coordinates and no continent, yet the site's map needs a point per server and
the centralization metrics need a continent. Sources, all offline:

* lat/lon: area-weighted centroid of the country's largest polygon in
  data/geo/countries-110m.json (world-atlas 2.0.2, Natural Earth, public
  domain); countries too small for the 110m map fall back to the principal
  city of the country's first zone in tzdata's zone.tab (public domain).
* continent: from the tzdata zone prefix (Europe/, Africa/, Asia/, ...);
  America/ is split into NA/SA by a fixed list, ocean prefixes and a few
  transcontinental countries follow the GeoIP vendors' convention (overrides).
* names and the numeric -> alpha-2 mapping: Debian iso-codes (iso_3166-1.json).

Usage: python3 analysis/tools/country_centroids.py > analysis/data/country-centroids.csv
"""
import csv
import json
import sys

TOPO = "data/geo/countries-110m.json"
ZONE_TAB = "/usr/share/zoneinfo/zone.tab"
ISO = "/usr/share/iso-codes/json/iso_3166-1.json"

SOUTH_AMERICA = set("AR BO BR CL CO EC FK GF GY PE PY SR UY VE".split())
PREFIX_CONTINENT = {
    "Europe": "EU", "Africa": "AF", "Asia": "AS", "Australia": "OC", "Pacific": "OC",
    "Antarctica": "AN", "Arctic": "EU",
}
# Ocean-prefixed zones and transcontinental countries, following MaxMind/DB-IP.
OVERRIDES = {
    "TR": "AS", "CY": "EU", "RU": "EU", "GE": "AS", "AM": "AS", "AZ": "AS", "KZ": "AS",
    "IS": "EU", "FO": "EU", "PT": "EU", "ES": "EU", "BM": "NA", "CV": "AF", "SH": "AF",
    "GS": "AN", "TF": "AN", "BV": "AN", "HM": "AN", "MV": "AS", "IO": "AS", "CX": "AS",
    "CC": "AS", "MU": "AF", "SC": "AF", "RE": "AF", "YT": "AF", "KM": "AF", "MG": "AF",
    "EG": "AF", "GL": "NA", "UM": "OC", "SJ": "EU", "FK": "SA",
}
# Polygons that cross the antimeridian in the 110m map give meaningless planar centroids.
FIXED = {"RU": (61.524, 105.319), "FJ": (-17.713, 178.065), "KI": (1.870, -157.363)}


def decode_arcs(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def ring(arcs, idxs):
    pts = []
    for i in idxs:
        a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(a if not pts else a[1:])
    return pts


def centroid(pts):
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if abs(a) < 1e-12:
        return abs(a), pts[0]
    return abs(a) / 2, (cx / (3 * a), cy / (3 * a))


def main():
    iso = json.load(open(ISO))["3166-1"]
    by_numeric = {c["numeric"]: c["alpha_2"] for c in iso}
    names = {c["alpha_2"]: c.get("common_name", c["name"]) for c in iso}
    topo = json.load(open(TOPO))
    arcs = decode_arcs(topo)
    shapes = {}
    for g in topo["objects"]["countries"]["geometries"]:
        a2 = by_numeric.get(str(g.get("id", "")).zfill(3))
        if not a2 or g.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
        best = max((centroid(ring(arcs, p[0])) for p in polys), key=lambda t: t[0])
        shapes[a2] = best[1]
    zones = {}
    for line in open(ZONE_TAB):
        if line.startswith("#"):
            continue
        cc, coord, tz = line.split("\t")[:3]
        if cc in zones:
            continue
        zones[cc] = (parse_iso6709(coord), tz.strip())
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["alpha2", "name", "continent", "lat", "lon", "source"])
    for a2 in sorted(names):
        if a2 in FIXED:
            lat, lon = FIXED[a2]
            src = "fixed"
        elif a2 in shapes:
            lon, lat = shapes[a2]
            src = "natural-earth-110m"
        elif a2 in zones:
            lat, lon = zones[a2][0]
            src = "tzdata-zone.tab"
        else:
            continue
        cont = OVERRIDES.get(a2)
        if cont is None and a2 in zones:
            prefix = zones[a2][1].split("/")[0]
            cont = ("SA" if a2 in SOUTH_AMERICA else "NA") if prefix == "America" else PREFIX_CONTINENT.get(prefix, "")
        w.writerow([a2, names[a2], cont or "", f"{lat:.3f}", f"{lon:.3f}", src])


def parse_iso6709(s):
    # +DDMM+DDDMM or +DDMMSS+DDDMMSS
    i = max(s.rfind("+"), s.rfind("-"))
    return dms(s[:i], 2), dms(s[i:], 3)


def dms(s, deg_digits):
    sign = -1 if s[0] == "-" else 1
    s = s[1:]
    d = int(s[:deg_digits])
    m = int(s[deg_digits:deg_digits + 2])
    sec = int(s[deg_digits + 2:] or 0)
    return sign * (d + m / 60 + sec / 3600)


if __name__ == "__main__":
    main()
