"""The map's basemap: the shipped Hartford pack, MBTiles files, bad settings; on the real page."""

from __future__ import annotations

import itertools
import json
import math
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.config import Basemap, ConfigError, parse_config
from console.domain.model import Call, CallStatus, CallType, Position, SafetyFlag, Team, TeamStatus
from console.domain.rules import Thresholds
from console.ui.map.markers import OVERDUE_COLOR, PRIORITY_COLORS, TEAM_STATUS_COLORS
from console.ui.map.page import OFFLINE_NOTICE, load_pack, pack_dir

NOW = datetime(2026, 3, 14, 3, 0, tzinfo=UTC)
TH = Thresholds()
DEMO = Basemap("pack", "hartford")


def js(qtbot: Any, view: Any, expr: str, timeout: int = 5000) -> Any:
    box: list[Any] = []
    view.run_js(f"JSON.stringify({expr})", box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    return json.loads(box[0]) if isinstance(box[0], str) else box[0]


@pytest.fixture
def make_view(qtbot: Any) -> Iterator[Callable[..., Any]]:
    from console.ui.map.view import MapView

    views: list[MapView] = []

    def make(size: tuple[int, int] = (1000, 750), **kw: Any) -> MapView:
        kw.setdefault("tile_url", None)
        view = MapView(**kw)
        view.resize(*size)
        view.show()
        views.append(view)
        qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
        return view

    yield make
    for view in views:
        view.dispose()


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _picture() -> tuple[list[Call], list[Team], dict[str, Position]]:
    """A 3 a.m. picture over Hartford: every team status on the map, calls of each kind."""
    statuses = [s for s in TeamStatus if s is not TeamStatus.OFF_DUTY]
    spots = [
        (41.7745, -72.7010),
        (41.7552, -72.6790),
        (41.7460, -72.6600),
        (41.7900, -72.6700),
        (41.7350, -72.6850),
        (41.7820, -72.6530),
        (41.7600, -72.7050),
        (41.7680, -72.6620),
    ]
    teams = []
    positions = {}
    for i, (st, (lat, lon)) in enumerate(zip(statuses, spots, strict=False)):
        tid = f"T-{i + 1:02d}"
        teams.append(Team(tid, st, NOW, provider="A", status_since=_ago(5 + 3 * i)))
        positions[tid] = Position(lat, lon, _ago(30 if i == 3 else 1))
    calls = [
        Call(
            "C-1",
            CallStatus.PENDING,
            1,
            CallType.MENTAL_HEALTH,
            _ago(9),
            NOW,
            lat=41.770,
            lon=-72.715,
        ),
        Call(
            "C-2",
            CallStatus.PENDING,
            2,
            CallType.EMOTIONAL_DISTRESS,
            _ago(1),
            NOW,
            lat=41.788,
            lon=-72.692,
        ),
        Call(
            "C-3",
            CallStatus.PENDING,
            3,
            CallType.SUBSTANCE_USE,
            _ago(1),
            NOW,
            lat=41.763,
            lon=-72.665,
            safety_flags=(SafetyFlag.WEAPON,),
        ),
    ]
    # Covered calls close together: grouped when zoomed out.
    for i in range(4):
        calls.append(
            Call(
                f"C-{10 + i}",
                CallStatus.ON_SCENE,
                3,
                CallType.WELFARE_CHECK,
                _ago(20),
                NOW,
                lat=41.7512 + 0.0006 * i,
                lon=-72.6985 + 0.0005 * i,
            )
        )
    return calls, teams, positions


# -- the pack itself (no page) ------------------------------------------------------------------


def test_demo_pack_is_small_complete_and_keeps_its_licence() -> None:
    d = Path(str(pack_dir()))
    files = [p for p in d.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 1_500_000
    assert (d / "LICENSE.HandsOnDataViz-book.txt").read_text().startswith("MIT License")
    layers, attribution = load_pack()
    assert "HandsOnDataViz" in attribution
    counts = {layer.kind: len(layer.data["features"]) for layer in layers}
    assert counts == {"boundary": 1, "areas": 17, "streets": 1, "arterials": 1, "points": 32}
    hoods = next(layer for layer in layers if layer.kind == "areas")
    assert "Asylum Hill" in {f["properties"]["name"] for f in hoods.data["features"]}
    hospitals = next(layer for layer in layers if layer.kind == "points")
    assert "Hartford Hospital" in {f["properties"]["name"] for f in hospitals.data["features"]}
    streets = next(layer for layer in layers if layer.kind == "streets")
    lines = streets.data["features"][0]["geometry"]["coordinates"]
    # Shared block edges drawn once: no segment appears twice.
    segs = [
        tuple(sorted((tuple(a), tuple(b)))) for line in lines for a, b in itertools.pairwise(line)
    ]
    assert len(lines) > 1000
    assert len(segs) == len(set(segs))
    # Coordinates rounded to 5 decimals.
    assert all(round(v, 5) == v for line in lines[:50] for p in line for v in p)


def test_demo_pack_ships_as_package_data() -> None:
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["console.resources.map"]
    pack = root / "resources" / "map" / "basemap" / "hartford"
    files = [p.relative_to(root / "resources" / "map").as_posix() for p in pack.iterdir()]
    assert len(files) == 7
    for rel in files:
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


def test_build_script_simplifies_within_tolerance() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_basemap", Path(__file__).resolve().parents[2] / "installer" / "build_basemap.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    zigzag = [(i * 0.001, 0.00001 * (i % 2)) for i in range(101)]
    assert mod.simplify(zigzag, 0.0001) == [zigzag[0], zigzag[-1]]
    corner = [(0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0)]
    assert mod.simplify(corner, 0.01) == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]
    # Two unit squares sharing an edge: seven edges, each once.
    a = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    b = [(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    out = mod.dissolve([a, b], 0.0)
    segs = {tuple(sorted(s)) for line in out for s in itertools.pairwise(line)}
    assert sum(len(line) - 1 for line in out) == len(segs) == 7


# -- colours ------------------------------------------------------------------------------------


def _lab(h: str) -> tuple[float, float, float]:
    r, g, b = (int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def lin(c: float) -> float:
        return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92

    r, g, b = lin(r), lin(g), lin(b)
    x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_no_team_status_on_the_map_shares_a_colour_with_a_call_priority() -> None:
    calls = [*PRIORITY_COLORS.values(), OVERDUE_COLOR]
    for st, team in TEAM_STATUS_COLORS.items():
        if st is TeamStatus.OFF_DUTY:  # never on the map
            continue
        for call in calls:
            d = sum((p - q) ** 2 for p, q in zip(_lab(team), _lab(call), strict=True)) ** 0.5
            assert d >= 20, f"{st.value} {team} looks like call colour {call} (ΔE {d:.0f})"


# -- configuration ------------------------------------------------------------------------------


def test_basemap_setting_forms_and_one_line_errors(tmp_path: Path) -> None:
    assert parse_config("config_version = 1\n", data_dir=tmp_path).map.basemap == DEMO
    mb = tmp_path / "city.mbtiles"
    mb.write_bytes(b"")
    gj = tmp_path / "streets.geojson"
    gj.write_text("{}")
    cases = {
        '"https://tiles.example.org/{z}/{x}/{y}.png"': (
            "tiles",
            "https://tiles.example.org/{z}/{x}/{y}.png",
        ),
        f'"{mb.as_posix()}"': ("mbtiles", str(mb)),
        f'"{gj.as_posix()}"': ("geojson", str(gj)),
        '""': ("none", ""),
    }
    for value, (kind, source) in cases.items():
        b = parse_config(
            f"config_version = 1\n[map]\nbasemap = {value}\n", data_dir=tmp_path
        ).map.basemap
        assert (b.kind, b.source) == (kind, source)
    # The older spelling still works and replaces the default.
    old = parse_config('config_version = 1\n[map]\ntile_url = ""\n', data_dir=tmp_path)
    assert old.map.basemap.kind == "none"
    for value, key in [
        ('basemap = "tiles.example.org"', "map.basemap"),
        ('basemap = "ftp://t/{z}/{x}/{y}.png"', "map.basemap"),
        ('basemap = "/nowhere/city.mbtiles"', "map.basemap"),
        ("basemap = 3", "map.basemap"),
        ('tile_url = "https://t/{z}/{x}.png"', "map.tile_url"),
        ('basemap = "demo"\ntile_url = ""', "map.tile_url"),
    ]:
        with pytest.raises(ConfigError) as e:
            parse_config(f"config_version = 1\n[map]\n{value}\n", data_dir=tmp_path)
        msg = str(e.value)
        assert msg.startswith(key + ":"), msg
        assert "\n" not in msg


# -- the page -----------------------------------------------------------------------------------


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_demo_pack_draws_every_layer_and_no_tile_notice(
    qtbot: Any, make_view: Callable[..., Any]
) -> None:
    view = make_view(basemap=DEMO)
    summary = {b["kind"]: b for b in js(qtbot, view, "rcMap.basemapSummary()")}
    assert {k: (b["features"], b["onMap"]) for k, b in summary.items()} == {
        "boundary": (1, True),
        "areas": (17, True),
        "streets": (1, True),
        "arterials": (1, True),
        "points": (32, True),
        "labels": (17, True),
    }
    # The layers Leaflet really holds: features per GeoJSON layer, hospitals as markers.
    drawn = js(
        qtbot,
        view,
        "rcMap.basemap.map(b => [b.kind, b.layer.getLayers().length])",
    )
    assert dict(drawn) == {
        "boundary": 1,
        "areas": 17,
        "streets": 1,
        "arterials": 2,
        "points": 32,
        "labels": 17,
    }
    assert js(qtbot, view, "document.querySelectorAll('.rc-place-icon').length") > 0
    assert js(qtbot, view, "document.querySelectorAll('.rc-area-label').length") == 17
    assert js(qtbot, view, "rcMap.noticeTexts()") == []
    assert js(qtbot, view, "rcMap.map.getContainer().querySelectorAll('.leaflet-tile').length") == 0
    assert "HandsOnDataViz" in js(
        qtbot, view, "document.querySelector('.leaflet-control-attribution').textContent"
    )
    assert view.page_errors == []


def _png(rgb: tuple[int, int, int]) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor(*rgb))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(data.data())


def _mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes]) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)"
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [
            ("name", "test"),
            ("format", "png"),
            ("minzoom", "12"),
            ("maxzoom", "13"),
            ("attribution", "Test tiles"),
        ],
    )
    for (z, x, y), data in tiles.items():
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, data))
    db.commit()
    db.close()
    return path


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_mbtiles_tiles_are_served_to_the_page_from_the_file(
    qtbot: Any, make_view: Callable[..., Any], tmp_path: Path
) -> None:
    # The tiles around the view's centre at zoom 13, in a known colour.
    lat, lon = 41.7658, -72.6851
    n = 1 << 13
    cx = int((lon + 180) / 360 * n)
    cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    orange = (255, 128, 0)
    tiles = {(13, x, y): _png(orange) for x in range(cx - 2, cx + 3) for y in range(cy - 2, cy + 3)}
    path = _mbtiles(tmp_path / "city.mbtiles", tiles)
    view = make_view(basemap=Basemap("mbtiles", str(path)), center=(lat, lon), zoom=13)
    qtbot.waitUntil(lambda: js(qtbot, view, "rcMap.tileLoads") >= 1, timeout=15000)
    handler = view.page().profile().urlSchemeHandler(b"rcmbtiles")
    assert handler.served >= 1
    # A tile the page asks for by URL: the bytes are the file's.
    url = js(qtbot, view, "document.querySelector('.leaflet-tile-loaded').src")
    assert url.startswith(f"rcmbtiles://{view.mbtiles_id}/13/")
    assert js(
        qtbot,
        view,
        "(() => { const i = document.querySelector('.leaflet-tile-loaded');"
        " return [i.naturalWidth, i.naturalHeight]; })()",
    ) == [256, 256]
    assert "Test tiles" in js(
        qtbot, view, "document.querySelector('.leaflet-control-attribution').textContent"
    )
    assert js(qtbot, view, "rcMap.noticeTexts()") == []

    def centre_is_tile() -> bool:
        img = view.grab().toImage()
        c = img.pixelColor(img.width() // 2, img.height() // 2)
        return (c.red(), c.green(), c.blue()) == orange

    qtbot.waitUntil(centre_is_tile, timeout=10000)


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_an_unreadable_basemap_file_is_one_line_naming_the_key(
    qtbot: Any, make_view: Callable[..., Any], tmp_path: Path
) -> None:
    bad = tmp_path / "broken.mbtiles"
    bad.write_text("not sqlite")
    view = make_view(basemap=Basemap("mbtiles", str(bad)))
    notices = js(qtbot, view, "rcMap.noticeTexts()")
    assert len(notices) == 1
    assert notices[0].startswith("map.basemap: ")
    assert str(bad) in notices[0]
    assert view.basemap_error == notices[0]
    assert OFFLINE_NOTICE not in notices


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_a_notice_never_covers_a_marker(qtbot: Any, make_view: Callable[..., Any]) -> None:
    view = make_view(basemap=Basemap("none"))
    assert js(qtbot, view, "rcMap.noticeTexts()") == [OFFLINE_NOTICE]
    calls, teams, positions = _picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        view.update_picture(calls, teams, positions, NOW, TH)
    # The notice bar and the map do not overlap: the map starts below the bar.
    bar = js(qtbot, view, "document.querySelector('.rc-notices').getBoundingClientRect().bottom")
    top = js(qtbot, view, "rcMap.map.getContainer().getBoundingClientRect().top")
    assert bar > 0
    assert top >= bar
    assert js(qtbot, view, "rcMap.map.getSize().y") == pytest.approx(750 - bar, abs=1)


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_legend_shows_the_marker_colours(qtbot: Any, make_view: Callable[..., Any]) -> None:
    view = make_view(basemap=DEMO)
    got = js(qtbot, view, "rcMap.legendColors()")

    def rgb(h: str) -> str:
        r, g, b = (int(h[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgb({r}, {g}, {b})"

    want_teams = {rgb(c) for s, c in TEAM_STATUS_COLORS.items() if s is not TeamStatus.OFF_DUTY}
    assert {c for _, c in got["team"]} == want_teams
    assert {c for _, c in got["call"]} == {rgb(c) for c in PRIORITY_COLORS.values()}
    # A group of covered calls is a pill that says "calls", not a numbered square.
    calls, teams, positions = _picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        view.update_picture(calls, teams, positions, NOW, TH)
    view.run_js("rcMap.map.setZoom(12, {animate: false})")
    qtbot.waitUntil(
        lambda: js(qtbot, view, "document.querySelectorAll('.rc-cluster-box').length") >= 1,
        timeout=5000,
    )
    text = js(qtbot, view, "document.querySelector('.rc-cluster-box').textContent")
    assert text.endswith(" calls")


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_dark_page_background_is_set_before_leaflet(
    qtbot: Any, make_view: Callable[..., Any]
) -> None:
    from PySide6.QtGui import QColor

    view = make_view(basemap=DEMO, dark=True)
    html = view.page_path.read_text(encoding="utf-8")
    assert html.index("background: #161a1f") < html.index("leaflet.js")
    assert view.page().backgroundColor() == QColor("#161a1f")


@pytest.mark.webengine
@pytest.mark.timeout(300)
@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_screenshots_with_the_demo_pack(
    qtbot: Any,
    make_view: Callable[..., Any],
    dark: bool,
    size: tuple[int, int],
    artifacts: Path,
) -> None:
    view = make_view(basemap=DEMO, dark=dark, size=size)
    calls, teams, positions = _picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        view.update_picture(calls, teams, positions, NOW, TH)
    view.fit_all()
    green = TEAM_STATUS_COLORS[TeamStatus.AVAILABLE]
    want = tuple(int(green[i : i + 2], 16) for i in (1, 3, 5))

    def drawn() -> bool:
        img = view.grab().toImage()
        for y in range(0, img.height(), 3):
            for x in range(0, img.width(), 3):
                c = img.pixelColor(x, y)
                if abs(c.red() - want[0]) + abs(c.green() - want[1]) + abs(c.blue() - want[2]) < 12:
                    return True
        return False

    qtbot.waitUntil(drawn, timeout=15000)
    qtbot.wait(300)
    img = view.grab().toImage()
    # The dark page is dark and the light page light, basemap drawn over it.
    mid = img.pixelColor(5, img.height() // 2)
    assert (mid.lightness() < 60) if dark else (mid.lightness() > 180)
    out = artifacts / f"map-demo-{'dark' if dark else 'light'}-{size[0]}x{size[1]}.png"
    assert img.save(str(out))


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_a_site_geojson_is_drawn_as_the_basemap(
    qtbot: Any, make_view: Callable[..., Any], shared_data: Path
) -> None:
    lanes = shared_data / "geo" / "hartford" / "hartford-bike-lanes.geojson"
    n = len(json.loads(lanes.read_text())["features"])
    view = make_view(basemap=Basemap("geojson", str(lanes)))
    assert js(qtbot, view, "rcMap.basemapSummary()") == [
        {
            "name": "Basemap (hartford-bike-lanes.geojson)",
            "kind": "lines",
            "features": n,
            "onMap": True,
        }
    ]
    assert js(qtbot, view, "rcMap.basemap[0].layer.getLayers().length") == n
    assert js(qtbot, view, "rcMap.noticeTexts()") == []
    assert view.page_errors == []


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_the_legend_folds_to_its_title(qtbot: Any, make_view: Callable[..., Any]) -> None:
    view = make_view(basemap=DEMO)
    height = "document.querySelector('.rc-legend').getBoundingClientRect().height"
    open_h = js(qtbot, view, height)
    view.run_js("document.querySelector('.rc-lg-head').click()")
    qtbot.waitUntil(lambda: js(qtbot, view, height) < 30, timeout=5000)
    assert open_h > 150
    assert js(qtbot, view, "document.querySelector('.rc-lg-body').offsetParent") is None
