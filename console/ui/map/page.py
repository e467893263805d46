"""The map page, built once with folium and served from local files.

folium writes the Leaflet skeleton (map, basemap tiles, GeoJSON overlays, layer control); every
script and stylesheet it links comes from installed packages (xstatic-leaflet,
xstatic-leaflet-markercluster, xstatic-jquery) or from ``console.resources/map``, copied next
to the page, so the page works with no network and no CDN URL remains in it. The live markers
are not part of the page: ``rcmap.js`` attaches to the folium map and the view pushes marker
diffs into it.
"""

from __future__ import annotations

import json
import shutil
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
from branca.element import MacroElement
from jinja2 import Template

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
OFFLINE_NOTICE = "Offline: no basemap configured"
ASSET_DIR = "assets"


class MapConfigError(ValueError):
    """A map setting or overlay file that cannot be used; the message names it."""


@dataclass(frozen=True)
class Overlay:
    name: str
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
    (dest / "images").mkdir(parents=True, exist_ok=True)
    for rel, src in _asset_sources().items():
        target = dest / rel
        if not target.exists() or target.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, target)
    own = own_resources()
    for name in _OWN_ASSETS:
        (dest / name).write_bytes((own / name).read_bytes())


def own_resources() -> Traversable:
    """``console.resources/map``; from a source checkout whose editable install predates the
    ``console.resources`` mapping, the top-level ``resources/map`` directory."""
    try:
        return resources.files("console.resources") / "map"
    except ModuleNotFoundError:
        import console

        fallback = Path(console.__file__).resolve().parents[1] / "resources" / "map"
        if not fallback.is_dir():
            raise
        return fallback


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
            RcMap.attach({{ this._parent.get_name() }}, {{ this.options_json }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "RcMapInit"
        # Inside a <script> element: "</" must not end it early (a notice may quote a path).
        self.options_json = json.dumps(options).replace("</", "<\\/")


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
    if opts.tile_url:
        folium.TileLayer(
            tiles=opts.tile_url,
            attr=opts.tile_attribution or " ",
            name="Basemap",
            max_zoom=19,
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
    if opts.overlays or opts.tile_url:
        folium.LayerControl(position="topright", collapsed=True).add_to(m)
    return m


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
    if not opts.tile_url and not opts.overlays:
        notices.insert(0, OFFLINE_NOTICE)
    return {
        "dark": opts.dark,
        "notices": notices,
        "overlayBounds": bounds,
        "hasTiles": bool(opts.tile_url),
    }


def render_page(opts: PageOptions, *, live: bool = True) -> tuple[str, folium.Map]:
    """The page's HTML. ``live`` attaches rcmap.js (the live view); off for a static page."""
    m = build_folium_map(opts)
    if live:
        m.add_child(_RcMapInit(page_options_json(opts)))
    return m.get_root().render(), m


def write_page(directory: Path, html: str, name: str = "index.html") -> Path:
    """Write ``html`` into ``directory`` next to its assets; the file to load."""
    directory.mkdir(parents=True, exist_ok=True)
    install_assets(directory)
    path = directory / name
    path.write_text(html, encoding="utf-8")
    return path
