"""The map page, built once with folium and served from local files.

folium writes the Leaflet skeleton (map, basemap tiles, GeoJSON overlays, layer control); every
script and stylesheet it links comes from installed packages (xstatic-leaflet,
xstatic-leaflet-markercluster, xstatic-jquery) or from ``console.resources/map``, copied next
to the page, so the page works with no network and no CDN URL remains in it. The live markers
are not part of the page: ``rcmap.js`` attaches to the folium map and the view pushes marker
diffs into it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import folium
import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster
from branca.element import Element, MacroElement
from jinja2 import Template

from console.files import make_private, private_dir, write_private

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
OFFLINE_NOTICE = "Offline: no basemap configured"
ASSET_DIR = "assets"
DEMO_PACK = "hartford"
PACK_MANIFEST = "basemap.json"
BASEMAP_KINDS = ("boundary", "areas", "streets", "arterials", "points", "lines")
"""How a basemap layer is drawn: the city line, named areas (neighbourhoods), thin street
lines, bolder arterials, named points (hospitals), or a site's own GeoJSON (``lines``)."""
DARK_BG = "#161a1f"
LIGHT_BG = "#e9edf1"


class MapConfigError(ValueError):
    """A map setting or overlay file that cannot be used; the message names it."""


@dataclass(frozen=True)
class Overlay:
    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class BasemapLayer:
    """One layer of a vector basemap (drawn by rcmap.js under every overlay and marker)."""

    name: str
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PageOptions:
    tile_url: str | None
    tile_attribution: str
    overlays: Sequence[Overlay]
    center: tuple[float, float]
    zoom: int
    dark: bool = False
    notices: Sequence[str] = field(default_factory=tuple)
    basemap: Sequence[BasemapLayer] = field(default_factory=tuple)
    basemap_attribution: str = ""
    tile_max_zoom: int = 19
    legend: dict[str, Any] = field(default_factory=dict)
    basemap_failed: bool = False
    """The configured basemap could not be used (its own notice says why)."""


def load_overlay(name: str, path: Path) -> Overlay:
    """Read a GeoJSON overlay; a clear ``MapConfigError`` for a missing or bad file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MapConfigError(f"map overlay {name!r}: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise MapConfigError(f"map overlay {name!r}: cannot read {path}: {e}") from None
    except json.JSONDecodeError as e:
        raise MapConfigError(f"map overlay {name!r}: {path} is not JSON ({e})") from None
    if not isinstance(data, dict) or data.get("type") not in (
        "FeatureCollection",
        "Feature",
        "Polygon",
        "MultiPolygon",
        "LineString",
        "MultiLineString",
        "Point",
        "MultiPoint",
        "GeometryCollection",
    ):
        raise MapConfigError(f"map overlay {name!r}: {path} is not a GeoJSON object")
    return Overlay(name, data)


def pack_dir(name: str = DEMO_PACK) -> Traversable:
    """The shipped basemap pack ``name`` (``console.resources/map/basemap/<name>``)."""
    return own_resources() / "basemap" / name


def load_pack(name: str = DEMO_PACK, *, key: str = "map.basemap") -> tuple[list[BasemapLayer], str]:
    """The layers of a shipped basemap pack and its attribution; ``MapConfigError`` names
    ``key`` when the pack is missing or damaged."""
    d = pack_dir(name)
    try:
        manifest = json.loads((d / PACK_MANIFEST).read_text(encoding="utf-8"))
        layers = []
        for item in manifest["layers"]:
            kind = str(item["kind"])
            if kind not in BASEMAP_KINDS:
                raise ValueError(f"layer kind {kind!r}")
            data = json.loads((d / str(item["file"])).read_text(encoding="utf-8"))
            layers.append(BasemapLayer(str(item["name"]), kind, data))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MapConfigError(f"{key}: the {name!r} basemap pack cannot be read ({e})") from None
    return layers, str(manifest.get("attribution", ""))


def load_geojson_basemap(path: Path, *, key: str = "map.basemap") -> BasemapLayer:
    """A site's own GeoJSON drawn as the basemap (lines, area edges, named points)."""
    try:
        ov = load_overlay(Path(path).stem, Path(path))
    except MapConfigError as e:
        raise MapConfigError(f"{key}: {e}") from None
    return BasemapLayer(f"Basemap ({Path(path).name})", "lines", ov.data)


def _asset_sources() -> dict[str, Path]:
    """Files the page links, by their name under ``assets/``."""
    leaflet = Path(xs_leaflet.BASE_DIR)
    cluster = Path(xs_cluster.BASE_DIR)
    jquery = Path(xs_jquery.BASE_DIR)
    return {
        "leaflet.js": leaflet / "leaflet.js",
        "leaflet.css": leaflet / "leaflet.css",
        "images/layers.png": leaflet / "images" / "layers.png",
        "images/layers-2x.png": leaflet / "images" / "layers-2x.png",
        "images/marker-icon.png": leaflet / "images" / "marker-icon.png",
        "images/marker-icon-2x.png": leaflet / "images" / "marker-icon-2x.png",
        "images/marker-shadow.png": leaflet / "images" / "marker-shadow.png",
        "leaflet.markercluster.js": cluster / "leaflet.markercluster.js",
        "MarkerCluster.css": cluster / "MarkerCluster.css",
        "MarkerCluster.Default.css": cluster / "MarkerCluster.Default.css",
        "jquery.min.js": jquery / "jquery.min.js",
    }


_OWN_ASSETS = ("rcmap.js", "rcmap.css")


def install_assets(directory: Path) -> None:
    """Copy the page's scripts and styles into ``directory/assets`` (skips unchanged files)."""
    dest = directory / ASSET_DIR
    private_dir(dest / "images")
    for rel, src in _asset_sources().items():
        target = dest / rel
        if not target.exists() or target.stat().st_size != src.stat().st_size:
            write_private(target, src.read_bytes())
        else:
            make_private(target)  # copied by an earlier version with a wider mode
    own = own_resources()
    for name in _OWN_ASSETS:
        write_private(dest / name, (own / name).read_bytes())


def own_resources() -> Traversable:
    """``console.resources/map``: from a source checkout, its own ``resources/map`` (an
    editable install of another checkout must not supply it); installed, the package data."""
    import console

    checkout = Path(console.__file__).resolve().parents[1] / "resources"
    if (checkout / "__init__.py").is_file() and (checkout / "map" / "rcmap.js").is_file():
        return checkout / "map"
    return resources.files("console.resources") / "map"


_JS = [
    ("leaflet", f"{ASSET_DIR}/leaflet.js"),
    ("jquery", f"{ASSET_DIR}/jquery.min.js"),
    ("markercluster", f"{ASSET_DIR}/leaflet.markercluster.js"),
    ("rcmap", f"{ASSET_DIR}/rcmap.js"),
]
_CSS = [
    ("leaflet_css", f"{ASSET_DIR}/leaflet.css"),
    ("markercluster_css", f"{ASSET_DIR}/MarkerCluster.css"),
    ("markercluster_default_css", f"{ASSET_DIR}/MarkerCluster.Default.css"),
    ("rcmap_css", f"{ASSET_DIR}/rcmap.css"),
]


class _RcMapInit(MacroElement):
    """Attaches rcmap.js to the folium map once Leaflet has built it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            RcMap.attach({{ this._parent.get_name() }}, {{ this.options_json }},
                {{ this.control_name or "null" }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict[str, Any], control_name: str | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "RcMapInit"
        # Inside a <script> element: "</" must not end it early (a notice may quote a path).
        self.options_json = json.dumps(options, separators=(",", ":")).replace("</", "<\\/")
        self.control_name = control_name


def _bounds(data: dict[str, Any]) -> list[list[float]] | None:
    """South-west / north-east corners of every coordinate in a GeoJSON object."""
    lats: list[float] = []
    lons: list[float] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, list):
            if len(obj) >= 2 and all(isinstance(v, int | float) for v in obj[:2]):
                lons.append(float(obj[0]))
                lats.append(float(obj[1]))
            else:
                for item in obj:
                    walk(item)
        elif isinstance(obj, dict):
            if "coordinates" in obj:
                walk(obj["coordinates"])
            for key in ("features", "geometries"):
                for item in obj.get(key, []) or []:
                    walk(item)
            if obj.get("geometry"):
                walk(obj["geometry"])

    walk(data)
    if not lats:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _feature_count(data: dict[str, Any]) -> int:
    return len(data.get("features", [])) if data.get("type") == "FeatureCollection" else 1


def _name_field(data: dict[str, Any]) -> str | None:
    feats = data.get("features", []) if data.get("type") == "FeatureCollection" else []
    if feats and all(
        isinstance(f.get("properties"), dict) and "name" in f["properties"] for f in feats
    ):
        return "name"
    return None


def build_folium_map(opts: PageOptions) -> folium.Map:
    """The folium map with basemap and overlays, its assets pointed at local files."""
    m = folium.Map(
        location=list(opts.center),
        zoom_start=opts.zoom,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    # Instance lists: folium's class-level defaults point at CDNs and are shared.
    m.default_js = list(_JS)
    m.default_css = list(_CSS)
    # The background before any stylesheet or script: no white flash in a dark room.
    bg = DARK_BG if opts.dark else LIGHT_BG
    m.get_root().header.add_child(  # type: ignore[attr-defined]
        Element(f"<style>html, body {{ background: {bg}; }}</style>"),
        name="rc_background",
        index=0,
    )
    if opts.tile_url:
        folium.TileLayer(
            tiles=opts.tile_url,
            attr=opts.tile_attribution or " ",
            name="Basemap",
            max_zoom=19,
            max_native_zoom=opts.tile_max_zoom,
        ).add_to(m)
    # Areas (many features) under boundaries (one feature), so the city line stays on top.
    ordered = sorted(opts.overlays, key=lambda o: _feature_count(o.data) <= 1)
    for ov in ordered:
        boundary = _feature_count(ov.data) <= 1
        cls = "rc-ov rc-ov-boundary" if boundary else "rc-ov rc-ov-area"
        style = {
            "className": cls,
            "weight": 3 if boundary else 1,
            "fill": not boundary,
            "fillOpacity": 0.06,
        }
        name_field = None if boundary else _name_field(ov.data)
        folium.GeoJson(
            ov.data,
            name=ov.name,
            style_function=lambda _f, s=style: s,
            tooltip=folium.GeoJsonTooltip(fields=[name_field], labels=False, sticky=True)
            if name_field
            else None,
            interactive=name_field is not None,
            marker=folium.CircleMarker(radius=4, fill=True),
        ).add_to(m)
    if opts.overlays or opts.tile_url or opts.basemap:
        folium.LayerControl(position="topright", collapsed=True).add_to(m)
    return m


def _layer_control(m: folium.Map) -> str | None:
    for child in m._children.values():
        if isinstance(child, folium.LayerControl):
            return str(child.get_name())
    return None


def _ring_centroid(ring: list[list[float]]) -> tuple[float, float, float] | None:
    """Signed-area centroid of a closed ring: (lat, lon, |area|)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if a == 0:
        return None
    return cy / (3 * a), cx / (3 * a), abs(a / 2)


def area_labels(layer: BasemapLayer) -> list[dict[str, Any]]:
    """A name label at the centroid of each named area's largest ring."""
    out = []
    for f in (
        layer.data.get("features", []) if layer.data.get("type") == "FeatureCollection" else []
    ):
        name = (f.get("properties") or {}).get("name")
        geom = f.get("geometry") or {}
        polys = (
            [geom.get("coordinates", [])]
            if geom.get("type") == "Polygon"
            else geom.get("coordinates", [])
            if geom.get("type") == "MultiPolygon"
            else []
        )
        best = None
        for poly in polys:
            c = _ring_centroid(poly[0]) if poly else None
            if c and (best is None or c[2] > best[2]):
                best = c
        if name and best:
            out.append({"name": str(name), "lat": round(best[0], 5), "lon": round(best[1], 5)})
    return out


def page_options_json(opts: PageOptions) -> dict[str, Any]:
    bounds: list[list[float]] | None = None
    for ov in opts.overlays:
        b = _bounds(ov.data)
        if b is None:
            continue
        if bounds is None:
            bounds = b
        else:
            bounds = [
                [min(bounds[0][0], b[0][0]), min(bounds[0][1], b[0][1])],
                [max(bounds[1][0], b[1][0]), max(bounds[1][1], b[1][1])],
            ]
    notices = list(opts.notices)
    if not opts.tile_url and not opts.overlays and not opts.basemap and not opts.basemap_failed:
        notices.insert(0, OFFLINE_NOTICE)
    labels = [lb for layer in opts.basemap if layer.kind == "areas" for lb in area_labels(layer)]
    return {
        "dark": opts.dark,
        "notices": notices,
        "overlayBounds": bounds,
        "hasTiles": bool(opts.tile_url),
        "basemap": [{"name": b.name, "kind": b.kind, "data": b.data} for b in opts.basemap],
        "basemapAttribution": opts.basemap_attribution,
        "labels": labels,
        "legend": opts.legend,
    }


def render_page(opts: PageOptions, *, live: bool = True) -> tuple[str, folium.Map]:
    """The page's HTML. ``live`` attaches rcmap.js (the live view); off for a static page."""
    m = build_folium_map(opts)
    if live:
        m.add_child(_RcMapInit(page_options_json(opts), _layer_control(m)))
    return m.get_root().render(), m


def write_page(directory: Path, html: str, name: str = "index.html") -> Path:
    """Write ``html`` into ``directory`` next to its assets; the file to load."""
    private_dir(directory)
    install_assets(directory)
    return write_private(directory / name, html)
