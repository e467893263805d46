"""Build the demo basemap pack (Hartford, CT) shipped in ``resources/map/basemap/hartford``.

The pack is derived from the public Hartford geography (HandsOnDataViz, MIT; census data is
public domain): the city outline, the neighbourhoods with their names, the census block edges
(they follow the street grid: the offline street stand-in), the bus routes (the arterials) and
the Connecticut hospitals. Geometry is simplified (Douglas-Peucker) and coordinates rounded to
5 decimals (about a metre) so the pack stays small; block edges shared by two blocks are kept
once. Plain Python, no GIS library.

    python installer/build_basemap.py ../shared/data/geo/hartford [resources/map/basemap/hartford]
"""

from __future__ import annotations

import itertools
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

Point = tuple[float, float]

DECIMALS = 5
# Tolerances in degrees (1e-4 deg is about 8-11 m here).
TOL_BOUNDARY = 0.00008
TOL_EDGES = 0.00006
TOL_ROUTES = 0.0001
# Bus routes reach across the county: keep what lies near the city.
CLIP_MARGIN = 0.004
SNAP_DECIMALS = 4
LICENSE = "LICENSE.HandsOnDataViz-book.txt"
SOURCE = "HandsOnDataViz/book and HandsOnDataViz/census-divisions-hartford (MIT); census data public domain"


def _r(p: Any) -> Point:
    return (round(float(p[0]), DECIMALS), round(float(p[1]), DECIMALS))


def _snap(p: Any) -> Point:
    return (round(float(p[0]), SNAP_DECIMALS), round(float(p[1]), SNAP_DECIMALS))


def _perp2(p: Point, a: Point, b: Point) -> float:
    """Squared distance from ``p`` to the segment ``a``-``b``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return (p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    x, y = a[0] + t * dx, a[1] + t * dy
    return (p[0] - x) ** 2 + (p[1] - y) ** 2


def simplify(points: list[Point], tol: float) -> list[Point]:
    """Douglas-Peucker, iterative: the points of ``points`` within ``tol`` of the original."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    tol2 = tol * tol
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        best, at = -1.0, -1
        for k in range(i + 1, j):
            d = _perp2(points[k], points[i], points[j])
            if d > best:
                best, at = d, k
        if at >= 0 and best > tol2:
            keep[at] = True
            stack.append((i, at))
            stack.append((at, j))
    return [p for p, k in zip(points, keep, strict=True) if k]


def _dedupe(points: list[Point]) -> list[Point]:
    out: list[Point] = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    return out


def simplify_ring(ring: list[Any], tol: float) -> list[Point] | None:
    pts = _dedupe([_r(p) for p in ring])
    if len(pts) < 4:
        return None
    # Split the closed ring in two so both halves keep their far point.
    half = len(pts) // 2
    a = simplify(pts[: half + 1], tol)
    b = simplify(pts[half:], tol)
    out = a[:-1] + b
    return out if len(out) >= 4 else None


def _polygons(geom: dict[str, Any]) -> list[list[list[Any]]]:
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    if geom["type"] == "MultiPolygon":
        return list(geom["coordinates"])
    return []


def _lines(geom: dict[str, Any]) -> list[list[Any]]:
    if geom["type"] == "LineString":
        return [geom["coordinates"]]
    if geom["type"] == "MultiLineString":
        return list(geom["coordinates"])
    return []


def _polygon_feature(props: dict[str, Any], geom: dict[str, Any], tol: float) -> dict[str, Any]:
    polys = []
    for poly in _polygons(geom):
        rings = [r for r in (simplify_ring(ring, tol) for ring in poly) if r]
        if rings:
            polys.append([[list(p) for p in r] for r in rings])
    g: dict[str, Any] = (
        {"type": "Polygon", "coordinates": polys[0]}
        if len(polys) == 1
        else {"type": "MultiPolygon", "coordinates": polys}
    )
    return {"type": "Feature", "properties": props, "geometry": g}


def block_edges(blocks: dict[str, Any], tol: float) -> list[list[Point]]:
    """Every block edge once (an edge two blocks share is one line), chained and simplified."""
    runs = [
        _dedupe([_r(p) for p in ring])
        for f in blocks["features"]
        for poly in _polygons(f["geometry"])
        for ring in poly
    ]
    return dissolve(runs, tol)


def dissolve(runs: list[list[Point]], tol: float) -> list[list[Point]]:
    """The segments of ``runs``, each drawn once, chained into lines and simplified."""
    count: dict[tuple[Point, Point], int] = defaultdict(int)
    for pts in runs:
        for a, b in itertools.pairwise(pts):
            if a != b:
                count[(a, b) if a < b else (b, a)] += 1
    adj: dict[Point, list[Point]] = defaultdict(list)
    for a, b in count:
        adj[a].append(b)
        adj[b].append(a)
    used: set[tuple[Point, Point]] = set()

    def key(a: Point, b: Point) -> tuple[Point, Point]:
        return (a, b) if a < b else (b, a)

    def walk(start: Point, nxt: Point) -> list[Point]:
        line = [start, nxt]
        used.add(key(start, nxt))
        prev, cur = start, nxt
        while len(adj[cur]) == 2:
            a, b = adj[cur]
            step = b if a == prev else a
            if key(cur, step) in used:
                break
            used.add(key(cur, step))
            line.append(step)
            prev, cur = cur, step
        return line

    lines: list[list[Point]] = []
    # From every junction or end first, then whatever closed loops remain.
    for node in sorted(adj):
        if len(adj[node]) != 2:
            for n in adj[node]:
                if key(node, n) not in used:
                    lines.append(walk(node, n))
    for node in sorted(adj):
        for n in adj[node]:
            if key(node, n) not in used:
                lines.append(walk(node, n))
    out = []
    for line in lines:
        if line[0] == line[-1] and len(line) > 3:
            half = len(line) // 2
            s = simplify(line[: half + 1], tol)[:-1] + simplify(line[half:], tol)
        else:
            s = simplify(line, tol)
        if len(s) >= 2:
            out.append(s)
    return out


def clip_lines(
    lines: list[list[Point]], box: tuple[float, float, float, float]
) -> list[list[Point]]:
    """Runs of points inside ``box`` (west, south, east, north); a segment leaving it ends a run."""
    w, s, e, n = box
    out: list[list[Point]] = []
    run: list[Point] = []
    for line in lines:
        for p in line:
            if w <= p[0] <= e and s <= p[1] <= n:
                run.append(p)
            else:
                if len(run) >= 2:
                    out.append(run)
                run = []
        if len(run) >= 2:
            out.append(run)
        run = []
    return out


def _bbox(geojson: dict[str, Any]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for f in geojson["features"]:
        for poly in _polygons(f["geometry"]):
            for ring in poly:
                for p in ring:
                    xs.append(p[0])
                    ys.append(p[1])
    return min(xs), min(ys), max(xs), max(ys)


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _write(path: Path, data: dict[str, Any]) -> int:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def build(src: Path, dest: Path) -> dict[str, int]:
    def load(name: str) -> dict[str, Any]:
        return dict(json.loads((src / f"{name}.geojson").read_text(encoding="utf-8")))

    dest.mkdir(parents=True, exist_ok=True)
    outline = load("hartford-outline")
    hoods = load("hartford-neighborhoods")
    blocks = load("census-hartford-blocks")
    routes = load("CT_Transit_Bus_Routes")
    hospitals = load("ct-hospitals-points-cms")

    layers: list[dict[str, Any]] = []
    sizes: dict[str, int] = {}

    def add(file: str, name: str, kind: str, data: dict[str, Any]) -> None:
        sizes[file] = _write(dest / file, data)
        layers.append({"name": name, "file": file, "kind": kind, "features": len(data["features"])})

    add(
        "outline.geojson",
        "City outline",
        "boundary",
        _fc(
            [
                _polygon_feature({"name": "Hartford"}, f["geometry"], TOL_BOUNDARY)
                for f in outline["features"]
            ]
        ),
    )
    add(
        "neighborhoods.geojson",
        "Neighborhoods",
        "areas",
        _fc(
            [
                _polygon_feature({"name": f["properties"]["name"]}, f["geometry"], TOL_BOUNDARY)
                for f in sorted(hoods["features"], key=lambda f: f["properties"]["name"])
            ]
        ),
    )
    edges = block_edges(blocks, TOL_EDGES)
    add(
        "streets.geojson",
        "Streets (census block edges)",
        "streets",
        _fc(
            [
                {
                    "type": "Feature",
                    "properties": {"name": "Census block edges"},
                    "geometry": {
                        "type": "MultiLineString",
                        "coordinates": [[list(p) for p in line] for line in edges],
                    },
                }
            ]
        ),
    )
    w, s, e, n = _bbox(outline)
    box = (w - CLIP_MARGIN, s - CLIP_MARGIN, e + CLIP_MARGIN, n + CLIP_MARGIN)
    # Many routes run along the same street (and both ways): snapped to a ~10 m grid, a
    # street several routes share is one line.
    runs: list[list[Point]] = []
    for f in routes["features"]:
        lines = [_dedupe([_snap(p) for p in line]) for line in _lines(f["geometry"])]
        runs.extend(clip_lines(lines, box))
    arterials = dissolve(runs, TOL_ROUTES)
    add(
        "arterials.geojson",
        "Arterials (bus routes)",
        "arterials",
        _fc(
            [
                {
                    "type": "Feature",
                    "properties": {"name": "Bus routes"},
                    "geometry": {
                        "type": "MultiLineString",
                        "coordinates": [[list(p) for p in line] for line in arterials],
                    },
                }
            ]
        ),
    )
    points = []
    for f in hospitals["features"]:
        p = f["properties"]
        city = str(p.get("City", "")).title()
        inferred = p.get("name_inferred")
        name = (
            str(inferred).replace(" (inferred from CMS CCN)", "")
            if inferred
            else f"Hospital, {city}"
        )
        points.append(
            {
                "type": "Feature",
                "properties": {"name": name, "city": city, "cms_id": p.get("Facility ID")},
                "geometry": {
                    "type": "Point",
                    "coordinates": list(_r(f["geometry"]["coordinates"])),
                },
            }
        )
    add("hospitals.geojson", "Hospitals", "points", _fc(points))

    manifest = {
        "name": "Hartford, CT (demo)",
        "attribution": "Geography: HandsOnDataViz (MIT), US Census",
        "source": SOURCE,
        "license": LICENSE,
        "layers": layers,
    }
    sizes["basemap.json"] = _write(dest / "basemap.json", manifest)
    shutil.copyfile(src / LICENSE, dest / LICENSE)
    sizes[LICENSE] = (dest / LICENSE).stat().st_size
    return sizes


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    src = Path(argv[0])
    dest = (
        Path(argv[1])
        if len(argv) > 1
        else Path(__file__).resolve().parents[1] / "resources" / "map" / "basemap" / "hartford"
    )
    sizes = build(src, dest)
    for name, size in sizes.items():
        print(f"{size:>9,d}  {name}")
    print(f"{sum(sizes.values()):>9,d}  total in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
