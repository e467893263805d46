"""The live map: a real QtWebEngine page, queried from JavaScript."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.rules import Thresholds
from console.ui.map.markers import (
    PRIORITY_COLORS,
    TEAM_STATUS_COLORS,
    MarkerCache,
    diff_markers,
    picture_markers,
)
from console.ui.map.page import OFFLINE_NOTICE, MapConfigError
from console.ui.map.view import MapView

NOW = datetime(2026, 3, 14, 21, 30, tzinfo=UTC)
TH = Thresholds()


def _rgb(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


class Picture:
    """A small shift in Hartford: some teams (one off duty), open and closed calls."""

    def __init__(self) -> None:
        self.teams = {
            t.id: t
            for t in [
                Team("T-01", TeamStatus.AVAILABLE, NOW, provider="A", status_since=_ago(12)),
                Team(
                    "T-02",
                    TeamStatus.ON_SCENE,
                    NOW,
                    provider="A",
                    status_since=_ago(31),
                    call="C-2",
                ),
                Team(
                    "T-03", TeamStatus.EN_ROUTE, NOW, provider="B", status_since=_ago(4), call="C-3"
                ),
                Team("T-04", TeamStatus.OFF_DUTY, NOW, provider="B", status_since=_ago(90)),
                Team("T-05", TeamStatus.TRANSPORTING, NOW, provider="B", status_since=_ago(7)),
            ]
        }
        self.positions = {
            "T-01": Position(41.7745, -72.7010, _ago(0.5)),
            "T-02": Position(41.7552, -72.6790, _ago(1)),
            "T-03": Position(41.7460, -72.6600, _ago(2)),
            "T-04": Position(41.7650, -72.6900, _ago(1)),
            "T-05": Position(41.7900, -72.6700, _ago(25)),  # stale
        }
        self.calls = {
            c.id: c
            for c in [
                Call(
                    "C-1",
                    CallStatus.PENDING,
                    2,
                    CallType.EMOTIONAL_DISTRESS,
                    _ago(3),
                    NOW,
                    lat=41.7880,
                    lon=-72.6920,
                    address="10 Main St",
                ),
                Call(
                    "C-2",
                    CallStatus.ON_SCENE,
                    2,
                    CallType.WELFARE_CHECK,
                    _ago(40),
                    NOW,
                    lat=41.7556,
                    lon=-72.6770,
                    team="T-02",
                    teams=("T-02",),
                ),
                Call(
                    "C-3",
                    CallStatus.EN_ROUTE,
                    3,
                    CallType.BASIC_NEEDS,
                    _ago(15),
                    NOW,
                    lat=41.7400,
                    lon=-72.7000,
                    team="T-03",
                    teams=("T-03",),
                ),
                Call(
                    "C-4",
                    CallStatus.PENDING,
                    1,
                    CallType.MENTAL_HEALTH,
                    _ago(9),
                    NOW,
                    lat=41.7700,
                    lon=-72.7150,
                ),  # P1 limit 2 min: overdue
                Call(
                    "C-5",
                    CallStatus.PENDING,
                    3,
                    CallType.SUBSTANCE_USE,
                    _ago(1),
                    NOW,
                    lat=41.7630,
                    lon=-72.6650,
                    safety_flags=(SafetyFlag.WEAPON,),
                ),
                Call(
                    "C-6",
                    CallStatus.CLEARED,
                    3,
                    CallType.OTHER,
                    _ago(80),
                    NOW,
                    lat=41.7500,
                    lon=-72.6900,
                ),
                Call("C-7", CallStatus.PENDING, 3, CallType.OTHER, _ago(2), NOW),  # no location
            ]
        }

    def push(self, view: MapView, now: datetime = NOW) -> int:
        return view.update_picture(
            self.calls.values(), self.teams.values(), self.positions, now, TH
        )

    def expected_links(self) -> set[tuple[str, str]]:
        keys = self.expected_keys()
        return {
            (f"team:{t.id}", f"call:{t.call}")
            for t in self.teams.values()
            if t.status.busy and t.call and {f"team:{t.id}", f"call:{t.call}"} <= keys
        }

    def expected_keys(self) -> set[str]:
        teams = {
            f"team:{t.id}"
            for t in self.teams.values()
            if t.status is not TeamStatus.OFF_DUTY and t.id in self.positions
        }
        calls = {
            f"call:{c.id}"
            for c in self.calls.values()
            if c.status.is_open and c.lat is not None and c.lon is not None
        }
        return teams | calls


def js(qtbot: Any, view: MapView, expr: str, timeout: int = 5000) -> Any:
    """Evaluate ``expr`` in the page and return it (through JSON)."""
    box: list[Any] = []
    view.run_js(f"JSON.stringify({expr})", box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    return json.loads(box[0]) if isinstance(box[0], str) else box[0]


def snapshot(qtbot: Any, view: MapView) -> dict[str, dict[str, Any]]:
    return {m["key"]: m for m in js(qtbot, view, "rcMap.snapshot()")}


@pytest.fixture
def make_view(qtbot: Any) -> Iterator[Callable[..., MapView]]:
    views: list[MapView] = []

    def make(**kw: Any) -> MapView:
        kw.setdefault("tile_url", None)
        kw.setdefault("overlays", [])
        view = MapView(**kw)
        view.resize(1000, 750)
        view.show()
        views.append(view)
        qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
        return view

    yield make
    for view in views:
        view.dispose()


@pytest.fixture
def hartford(shared_data: Path) -> list[tuple[str, Path]]:
    geo = shared_data / "geo" / "hartford"
    return [
        ("Neighborhoods", geo / "hartford-neighborhoods.geojson"),
        ("Hartford", geo / "hartford-outline.geojson"),
    ]


# -- pure diffing (no page) ---------------------------------------------------------------------


def test_diff_is_empty_for_an_unchanged_picture_within_the_minute() -> None:
    p = Picture()
    a = picture_markers(p.calls.values(), p.teams.values(), p.positions, NOW, TH)
    b = picture_markers(
        p.calls.values(), p.teams.values(), p.positions, NOW + timedelta(seconds=20), TH
    )
    assert diff_markers(a, b) == {"upsert": [], "remove": []}
    p.calls["C-1"] = replace(p.calls["C-1"], status=CallStatus.CANCELLED)
    p.teams["T-01"] = replace(p.teams["T-01"], status=TeamStatus.EN_ROUTE)
    c = picture_markers(p.calls.values(), p.teams.values(), p.positions, NOW, TH)
    d = diff_markers(a, c)
    assert d["remove"] == ["call:C-1"]
    assert [s["key"] for s in d["upsert"]] == ["team:T-01"]


# -- the page ------------------------------------------------------------------------------------


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_markers_after_load_match_the_picture(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    snap = snapshot(qtbot, view)
    assert set(snap) == p.expected_keys()
    assert js(qtbot, view, "document.querySelectorAll('.rc-m').length") == len(p.expected_keys())
    assert view.marker_count == len(p.expected_keys())
    for key, m in snap.items():
        kind, ident = key.split(":")
        assert m["rendered"], key
        if kind == "team":
            team, pos = p.teams[ident], p.positions[ident]
            assert (m["lat"], m["lon"]) == pytest.approx((pos.lat, pos.lon), abs=1e-6)
            assert m["domColor"] == _rgb(TEAM_STATUS_COLORS[team.status])
            assert ident in m["domLabel"]
        else:
            call = p.calls[ident]
            assert (m["lat"], m["lon"]) == pytest.approx((call.lat, call.lon), abs=1e-6)
            assert ident in m["domLabel"]
            if "overdue" not in m["classes"]:
                assert m["domColor"] == _rgb(PRIORITY_COLORS[call.priority])
    # Different statuses really look different in the page.
    team_colors = {snap[f"team:{t}"]["domColor"] for t in ("T-01", "T-02", "T-03", "T-05")}
    assert len(team_colors) == 4
    # Time in status is on the label.
    assert "12m" in snap["team:T-01"]["domLabel"]
    # Busy teams are tied to their calls by a line.
    links = {(x["from"], x["to"]) for x in js(qtbot, view, "rcMap.linkList()")}
    assert links == p.expected_links() and links
    assert js(qtbot, view, "document.querySelectorAll('path.rc-link').length") == len(links)
    assert view.page_errors == []


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_status_change_updates_the_marker_in_place(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    loads_before = view.load_count
    # Tag the live Leaflet marker object: an in-place update keeps it, a rebuild would not.
    js(qtbot, view, "(rcMap.markers.get('team:T-01')._rcTag = 'kept')")
    before = snapshot(qtbot, view)["team:T-01"]

    p.teams["T-01"] = replace(
        p.teams["T-01"], status=TeamStatus.EN_ROUTE, status_since=NOW, call="C-1"
    )
    p.positions["T-01"] = Position(41.7800, -72.6950, NOW)
    started: list[bool] = []
    view.loadStarted.connect(lambda: started.append(True))
    with qtbot.waitSignal(view.applied, timeout=5000):
        assert p.push(view) > 0
    after = snapshot(qtbot, view)["team:T-01"]
    assert after["domColor"] == _rgb(TEAM_STATUS_COLORS[TeamStatus.EN_ROUTE])
    assert after["domColor"] != before["domColor"]
    assert (after["lat"], after["lon"]) == pytest.approx((41.78, -72.695), abs=1e-6)
    assert "ENR" in after["domLabel"] and "AVL" in before["domLabel"]
    assert js(qtbot, view, "rcMap.markers.get('team:T-01')._rcTag") == "kept"
    assert view.load_count == loads_before and not started
    # Nothing changed: nothing is sent.
    assert p.push(view) == 0


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_cleared_call_disappears(qtbot: Any, make_view: Callable[..., MapView]) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    assert "call:C-2" in snapshot(qtbot, view)
    p.calls["C-2"] = replace(p.calls["C-2"], status=CallStatus.CLEARED, cleared_at=NOW)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    snap = snapshot(qtbot, view)
    assert "call:C-2" not in snap
    assert set(snap) == p.expected_keys()
    links = {(x["from"], x["to"]) for x in js(qtbot, view, "rcMap.linkList()")}
    assert links == p.expected_links() and ("team:T-02", "call:C-2") not in links
    assert js(qtbot, view, "document.querySelectorAll('.rc-m').length") == len(snap)


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_highlight_goes_with_a_call_that_leaves_and_never_moves(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    view.select_call("C-2")
    qtbot.waitUntil(lambda: js(qtbot, view, "rcMap.selected") == "call:C-2", timeout=5000)
    p.calls["C-2"] = replace(p.calls["C-2"], status=CallStatus.CLEARED, cleared_at=NOW)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    assert js(qtbot, view, "rcMap.selected") is None
    assert js(qtbot, view, "document.querySelectorAll('.rc-selected').length") == 0
    # Back on the map (dispatch reopened it): not highlighted again by itself.
    p.calls["C-2"] = replace(p.calls["C-2"], status=CallStatus.ASSIGNED, cleared_at=None)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    assert js(qtbot, view, "rcMap.selected") is None
    assert view._selected is None


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_overdue_unsafe_and_stale_are_marked_not_only_by_colour(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    snap = snapshot(qtbot, view)
    overdue = [
        k
        for k, c in p.calls.items()
        if c.status is CallStatus.PENDING
        and c.lat is not None
        and (NOW - c.received_at).total_seconds() > TH.pending_limit(c)
    ]
    assert overdue == ["C-4"]
    for key, m in snap.items():
        is_overdue = key in {f"call:{c}" for c in overdue}
        assert ("rc-overdue" in m["domClasses"]) == is_overdue, key
        assert ("OVERDUE" in m["domLabel"]) == is_overdue, key
    unsafe = snap["call:C-5"]
    assert "rc-unsafe" in unsafe["domClasses"] and "⚠" in unsafe["domLabel"]
    assert "⚠" not in snap["call:C-1"]["domLabel"]
    stale = snap["team:T-05"]
    assert "rc-stale" in stale["domClasses"] and "old" in stale["domLabel"]
    opacity = js(
        qtbot,
        view,
        "getComputedStyle(rcMap.markers.get('team:T-05')._icon.querySelector('.rc-sym')).opacity",
    )
    fresh = js(
        qtbot,
        view,
        "getComputedStyle(rcMap.markers.get('team:T-01')._icon.querySelector('.rc-sym')).opacity",
    )
    assert float(opacity) < float(fresh)
    # The overdue ring beats by a class the page toggles; no endless animation runs (one would
    # have Chromium redraw the whole map at display rate for as long as a call is overdue).
    assert js(qtbot, view, "document.getAnimations().length") == 0
    ring = (
        "getComputedStyle(rcMap.markers.get('call:C-4')._icon.querySelector('.rc-sym'),"
        " '::after').opacity"
    )
    seen = set()
    for _ in range(12):
        seen.add(js(qtbot, view, ring))
        qtbot.wait(150)
    assert len(seen) == 2, seen
    # Time passes: C-1 (P2, limit 10 min) becomes overdue with no other change.
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view, NOW + timedelta(minutes=8))
    assert "OVERDUE" in snapshot(qtbot, view)["call:C-1"]["domLabel"]


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_page_loads_nothing_from_the_network(
    qtbot: Any, make_view: Callable[..., MapView], hartford: list[tuple[str, Path]]
) -> None:
    view = make_view(overlays=hartford, tile_url="https://tiles.example.invalid/{z}/{x}/{y}.png")
    assert js(qtbot, view, "typeof L") == "object"

    class Refs(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "script" and a.get("src"):
                self.urls.append(a["src"] or "")
            if tag == "link" and a.get("href"):
                self.urls.append(a["href"] or "")

    refs = Refs()
    refs.feed(view.page_path.read_text(encoding="utf-8"))
    assert refs.urls, "the page links its assets"
    for url in refs.urls:
        assert not url.lower().startswith(("http:", "https:", "//")), url
        assert (view.page_path.parent / url).is_file(), url
    live = js(
        qtbot,
        view,
        "Array.from(document.querySelectorAll('script[src],link[href]')).map(e => e.src || e.href)",
    )
    assert live and all(u.startswith(("file:", "qrc:")) for u in live), live
    # Overlays drawn from the configured GeoJSON, and no offline notice since there is a basemap.
    assert js(qtbot, view, "document.querySelectorAll('path.rc-ov-boundary').length") == 1
    assert js(qtbot, view, "document.querySelectorAll('path.rc-ov-area').length") == 17
    # Hovering a neighborhood names it (folium's GeoJSON tooltip works offline too).
    js(
        qtbot,
        view,
        "(() => { const l = Object.values(rcMap.map._layers).find("
        "x => x.feature && x.feature.properties && x.feature.properties.name === 'Asylum Hill');"
        " l.fire('mouseover', {latlng: l.getBounds().getCenter()}, true); return 1; })()",
    )
    qtbot.waitUntil(
        lambda: (
            "Asylum Hill"
            in js(qtbot, view, "document.querySelector('.leaflet-tooltip-pane').innerText")
        ),
        timeout=5000,
    )
    assert view.page_errors == []
    assert OFFLINE_NOTICE not in js(qtbot, view, "rcMap.noticeTexts()")
    # The configured tile server cannot be reached: the map says so instead of going blank.
    qtbot.waitUntil(
        lambda: any("unreachable" in n for n in js(qtbot, view, "rcMap.noticeTexts()")),
        timeout=20000,
    )


@pytest.fixture
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """An on-site tile server on loopback: every tile a plain 256 px PNG; paths served, logged."""
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QColor, QImage

    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor("#c8d7c0"))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")  # type: ignore[call-overload]
    png = bytes(buf.data().data())
    served: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_tiles_come_from_the_configured_server(
    qtbot: Any, make_view: Callable[..., MapView], tile_server: tuple[str, list[str]]
) -> None:
    url, served = tile_server
    view = make_view(tile_url=url, tile_attribution="City GIS", zoom=13)
    qtbot.waitUntil(lambda: js(qtbot, view, "rcMap.tileLoads") >= 4, timeout=15000)
    assert all(path.startswith("/13/") for path in served[:4]), served[:4]
    assert js(qtbot, view, "rcMap.tileErrors") == 0
    texts = js(qtbot, view, "rcMap.noticeTexts()")
    assert not any("unreachable" in n or "Offline" in n for n in texts), texts
    assert "City GIS" in js(
        qtbot, view, "document.querySelector('.leaflet-control-attribution').innerText"
    )


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_links_open_outside_and_the_map_never_navigates_away(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view(tile_url="https://tiles.example.invalid/{z}/{x}/{y}.png")
    opened: list[str] = []
    view.open_external = lambda url: opened.append(url.toString())
    js(qtbot, view, "(window.sameDocument = 'yes') && 1")
    js(qtbot, view, "document.querySelector('.leaflet-control-attribution a').click() || 1")
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    assert opened[0].startswith("https://")
    js(qtbot, view, "(location.href = 'https://example.invalid/') && 1")
    js(qtbot, view, "(location.href = 'file:///etc/hostname') && 1")
    # Still the same map document, still live.
    assert js(qtbot, view, "window.sameDocument") == "yes"
    assert view.url().toLocalFile() == str(view.page_path)
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    assert set(snapshot(qtbot, view)) == p.expected_keys()


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_offline_without_basemap_says_so_and_still_shows_markers(
    qtbot: Any, make_view: Callable[..., MapView], tmp_path: Path
) -> None:
    # A hostile path: its text reaches the page (the notice) and must not break out of it.
    bad = tmp_path / "beats<" / "script><b>x.geojson"
    bad.parent.mkdir()
    bad.write_text("{not json", encoding="utf-8")
    view = make_view(overlays=[("Beats", bad)])
    notices = js(qtbot, view, "rcMap.noticeTexts()")
    assert OFFLINE_NOTICE in notices
    assert any("Beats" in n and "not JSON" in n and str(bad) in n for n in notices), notices
    assert js(qtbot, view, "document.querySelectorAll('.rc-notices b').length") == 0
    assert js(qtbot, view, "document.querySelector('.rc-notices').innerText").count("Offline") == 1
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    assert set(snapshot(qtbot, view)) == p.expected_keys()


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_updates_before_ready_are_applied_once_ready(qtbot: Any) -> None:
    view = MapView(tile_url=None, overlays=[])
    try:
        p = Picture()
        assert p.push(view) == 0  # not ready yet: kept, not lost
        qtbot.waitUntil(lambda: view.is_ready, timeout=20000)
        qtbot.waitUntil(lambda: set(snapshot(qtbot, view)) == p.expected_keys(), timeout=5000)
    finally:
        view.dispose()


def test_webengine_env_adds_the_flags_once_and_keeps_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.ui.map.env import prepare_webengine_env

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--lang=en-US --disable-gpu")
    prepare_webengine_env()
    prepare_webengine_env()
    flags = os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split()
    assert sorted(flags) == ["--disable-gpu", "--lang=en-US", "--no-sandbox"]


@pytest.mark.parametrize(
    ("kw", "named"), [({"center": (141.0, -72.6)}, "map center"), ({"zoom": 40}, "map zoom")]
)
def test_bad_map_settings_are_named(qtbot: Any, kw: dict[str, Any], named: str) -> None:
    with pytest.raises(MapConfigError, match=named):
        MapView(tile_url=None, **kw)


def test_marker_cache_gives_exactly_the_uncached_picture() -> None:
    rng = random.Random(11)
    p = Picture()
    cache = MarkerCache()
    reused = 0
    previous: dict[str, Any] = {}
    for step in range(120):
        now = NOW + timedelta(seconds=13 * step)
        roll = rng.random()
        if roll < 0.3:
            tid = rng.choice(sorted(p.teams))
            p.teams[tid] = replace(
                p.teams[tid], status=rng.choice(list(TeamStatus)), status_since=now
            )
        elif roll < 0.5:
            tid = rng.choice(sorted(p.positions))
            old = p.positions[tid]
            p.positions[tid] = Position(old.lat + 0.001, old.lon, now)
        elif roll < 0.7:
            cid = rng.choice(sorted(p.calls))
            p.calls[cid] = replace(
                p.calls[cid], status=rng.choice(list(CallStatus)), priority=rng.choice((1, 2, 3))
            )
        got = cache.picture(p.calls.values(), p.teams.values(), p.positions, now, TH)
        want = picture_markers(p.calls.values(), p.teams.values(), p.positions, now, TH)
        assert got == want, step
        reused += sum(1 for k, spec in got.items() if previous.get(k) is spec)
        previous = got
    assert reused > 0  # the cache does reuse unchanged specs


def test_bad_coordinates_are_left_off_the_map() -> None:
    p = Picture()
    p.positions["T-01"] = Position(float("nan"), -72.7, NOW)
    p.calls["C-1"] = replace(p.calls["C-1"], lat=241.0)
    keys = set(picture_markers(p.calls.values(), p.teams.values(), p.positions, NOW, TH))
    assert keys == p.expected_keys() - {"team:T-01", "call:C-1"}


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_a_fast_feed_is_coalesced_and_the_page_ends_on_the_last_picture(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    seqs = []
    for i in range(20):  # faster than any page round trip
        p.positions["T-01"] = Position(41.76 + i * 0.001, -72.70, NOW)
        seqs.append(p.push(view))
    assert seqs[0] > 0 and seqs.count(0) >= 1  # later ones wait for the page
    qtbot.waitUntil(
        lambda: snapshot(qtbot, view)["team:T-01"]["lat"] == pytest.approx(41.779, abs=1e-6),
        timeout=5000,
    )


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_a_failed_update_is_followed_by_a_full_resend(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    # The next apply half-works and throws: C-1 is removed, then the page breaks.
    js(
        qtbot,
        view,
        "(() => { const real = rcMap.apply.bind(rcMap);"
        " rcMap.apply = (d) => { rcMap.apply = real; real({remove: d.remove}); throw new Error('x'); };"
        " return 1; })()",
    )
    p.calls["C-1"] = replace(p.calls["C-1"], status=CallStatus.CANCELLED)
    p.teams["T-01"] = replace(p.teams["T-01"], status=TeamStatus.EN_ROUTE)
    with qtbot.assertNotEmitted(view.applied, wait=500):
        assert p.push(view) > 0
    assert snapshot(qtbot, view)["team:T-01"]["domColor"] == _rgb(
        TEAM_STATUS_COLORS[TeamStatus.AVAILABLE]
    )
    # The next refresh resends the whole picture; the page ends up right.
    p.positions["T-03"] = Position(41.75, -72.66, NOW)
    with qtbot.waitSignal(view.applied, timeout=5000):
        assert p.push(view) > 0
    snap = snapshot(qtbot, view)
    assert set(snap) == p.expected_keys()
    assert snap["team:T-01"]["domColor"] == _rgb(TEAM_STATUS_COLORS[TeamStatus.EN_ROUTE])
    assert js(qtbot, view, "document.querySelectorAll('.rc-m').length") == len(snap)


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_a_killed_renderer_is_replaced_and_the_picture_restored(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    pid = view.page().renderProcessPid()
    if not pid or not hasattr(signal, "SIGKILL"):
        pytest.skip("no separate renderer process to end here")
    with qtbot.waitSignal(view.ready, timeout=30000):
        os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: view.is_idle, timeout=10000)
    assert view.page().renderProcessPid() != pid
    assert set(snapshot(qtbot, view)) == p.expected_keys()


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_click_on_a_marker_reaches_python_through_the_bridge(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    view = make_view()
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    qtbot.waitUntil(lambda: view.bridge_connected, timeout=10000)
    with qtbot.waitSignal(view.call_clicked, timeout=5000) as blocker:
        js(qtbot, view, "rcMap.markers.get('call:C-3').fire('click') && 1")
    assert blocker.args == ["C-3"]
    assert snapshot(qtbot, view)["call:C-3"]["selected"]
    with qtbot.waitSignal(view.team_clicked, timeout=5000) as blocker:
        js(qtbot, view, "rcMap.bridge.markerClicked('team', 'T-02') || 1")
    assert blocker.args == ["T-02"]
    # Selecting from Python highlights without echoing a click back.
    with qtbot.assertNotEmitted(view.team_clicked, wait=200):
        view.select_team("T-03")
        qtbot.waitUntil(lambda: snapshot(qtbot, view)["team:T-03"]["selected"], timeout=5000)
    assert not snapshot(qtbot, view)["call:C-3"]["selected"]


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_fit_follow_zoom_and_dark(qtbot: Any, make_view: Callable[..., MapView]) -> None:
    view = make_view(center=(41.55, -72.35), zoom=13)  # Hartford out of view
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    inside = (
        "(() => { const b = rcMap.map.getBounds();"
        " return rcMap.snapshot().every(m => b.contains([m.lat, m.lon])); })()"
    )
    assert js(qtbot, view, inside) is False
    view.fit_all()
    qtbot.waitUntil(lambda: js(qtbot, view, inside) is True, timeout=5000)

    view.zoom_to_call("C-3")
    c3 = p.calls["C-3"]
    qtbot.waitUntil(lambda: js(qtbot, view, "rcMap.map.getZoom()") >= 16, timeout=5000)
    center = js(qtbot, view, "rcMap.map.getCenter()")
    assert (center["lat"], center["lng"]) == pytest.approx((c3.lat, c3.lon), abs=1e-3)

    view.follow_team("T-03")
    p.positions["T-03"] = Position(41.7300, -72.6500, NOW)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    qtbot.waitUntil(
        lambda: js(qtbot, view, "rcMap.map.getCenter()")["lat"] == pytest.approx(41.73, abs=1e-3),
        timeout=5000,
    )

    view.set_dark(True)
    qtbot.waitUntil(lambda: js(qtbot, view, "document.body.classList.contains('rc-dark')") is True)
    view.set_dark(False)
    qtbot.waitUntil(lambda: js(qtbot, view, "document.body.classList.contains('rc-dark')") is False)


@pytest.mark.webengine
@pytest.mark.timeout(120)
def test_screenshot_over_hartford(
    qtbot: Any,
    make_view: Callable[..., MapView],
    hartford: list[tuple[str, Path]],
    artifacts: Path,
) -> None:
    view = make_view(overlays=hartford, zoom=13)
    p = Picture()
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    view.fit_all()
    green = TEAM_STATUS_COLORS[TeamStatus.AVAILABLE]

    def shows_team_colour() -> bool:
        img = view.grab().toImage()
        if img.isNull():
            return False
        want = tuple(int(green[i : i + 2], 16) for i in (1, 3, 5))
        for y in range(0, img.height(), 2):
            for x in range(0, img.width(), 2):
                c = img.pixelColor(x, y)
                if abs(c.red() - want[0]) + abs(c.green() - want[1]) + abs(c.blue() - want[2]) < 12:
                    return True
        return False

    qtbot.waitUntil(shows_team_colour, timeout=15000)
    out = artifacts / "map.png"
    assert view.grab().save(str(out))
    assert out.stat().st_size > 10_000


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_labels_never_overlap_and_the_ones_that_need_a_decision_stay(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    """Twenty teams and an overdue call crowded into a few streets: no two labels shown
    overlap, none covers the overdue call, whose label stays; zooming in gives labels back."""
    view = make_view()
    p = Picture()
    base = Position(41.7640, -72.6850, NOW)
    for i in range(20):
        tid = f"T-{10 + i}"
        p.teams[tid] = Team(tid, TeamStatus.AVAILABLE, NOW, provider="A", status_since=_ago(5))
        p.positions[tid] = Position(base.lat + (i % 5) * 0.0004, base.lon + (i // 5) * 0.0006, NOW)
    p.calls["C-4"] = replace(p.calls["C-4"], lat=base.lat + 0.0008, lon=base.lon + 0.0009)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    js(qtbot, view, "(rcMap.map.setView([41.7648, -72.6841], 14, {animate: false}), 0)")
    qtbot.waitUntil(lambda: js(qtbot, view, "rcMap.declutter().hidden") > 0, timeout=5000)

    def overlaps() -> list[tuple[str, str]]:
        boxes = js(qtbot, view, "rcMap.labelBoxes()")
        return [
            (a["key"], b["key"])
            for i, a in enumerate(boxes)
            for b in boxes[i + 1 :]
            if a["left"] < b["right"]
            and b["left"] < a["right"]
            and a["top"] < b["bottom"]
            and b["top"] < a["bottom"]
        ]

    crowded = js(qtbot, view, "rcMap.labelBoxes().length")
    assert overlaps() == []
    assert "call:C-4" in {b["key"] for b in js(qtbot, view, "rcMap.labelBoxes()")}
    # Hidden labels keep their markers and tooltips.
    snap = snapshot(qtbot, view)
    assert all(snap[f"team:T-{10 + i}"]["rendered"] for i in range(20))
    js(qtbot, view, "(rcMap.map.setView([41.7648, -72.6841], 18, {animate: false}), 0)")
    js(qtbot, view, "rcMap.declutter().kept")
    assert overlaps() == []
    assert js(qtbot, view, "rcMap.labelBoxes().length") > crowded


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_a_label_at_the_maps_edge_turns_inward_and_is_whole(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    """A team a few pixels from the map's right edge (away from the other markers): its label
    goes to the symbol's left, inside the map, rather than being cut by the edge; moved back,
    it returns to the right."""
    view = make_view()
    p = Picture()
    p.teams["T-77"] = Team("T-77", TeamStatus.AVAILABLE, NOW, provider="A", status_since=_ago(5))
    p.positions["T-77"] = Position(41.7450, -72.7000, NOW)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    put_at = (
        "((x) => { const m = rcMap.map; m.setView([41.7450, -72.7000], 17, {animate: false});"
        " const pt = m.latLngToContainerPoint([41.7450, -72.7000]);"
        " m.panBy([pt.x - x(m.getSize().x), 0], {animate: false}); rcMap.declutter(); return 0; })"
    )

    def label() -> dict[str, Any]:
        boxes = {b["key"]: b for b in js(qtbot, view, "rcMap.labelBoxes()")}
        return boxes.get("team:T-77", {})

    width = js(qtbot, view, "rcMap.map.getContainer().getBoundingClientRect().right")
    js(qtbot, view, put_at + "((w) => w - 12)")
    qtbot.waitUntil(lambda: bool(label()), timeout=5000)
    at_edge = label()
    assert at_edge["right"] <= width, "the label is cut by the map's edge"
    sym = js(
        qtbot,
        view,
        "rcMap.markers.get('team:T-77')._rcRoot.children[0].getBoundingClientRect().left",
    )
    assert at_edge["right"] <= sym, "the label lies left of its symbol"
    js(qtbot, view, put_at + "((w) => w / 2)")
    qtbot.waitUntil(lambda: bool(label()), timeout=5000)
    mid_sym = js(
        qtbot,
        view,
        "rcMap.markers.get('team:T-77')._rcRoot.children[0].getBoundingClientRect().right",
    )
    assert label()["left"] >= mid_sym, "away from the edge the label is on the right again"


@pytest.mark.webengine
@pytest.mark.timeout(90)
def test_a_team_working_a_call_is_drawn_over_an_idle_team_beside_it(
    qtbot: Any, make_view: Callable[..., MapView]
) -> None:
    """The map draws markers in the order their labels are kept: an idle team's symbol just
    below a team working a call (which the map would otherwise draw on top, being lower on the
    screen) never covers the working team's label."""
    view = make_view()
    p = Picture()
    p.teams["T-88"] = Team("T-88", TeamStatus.AVAILABLE, NOW, provider="A", status_since=_ago(5))
    at = p.positions["T-02"]
    p.positions["T-88"] = Position(at.lat - 0.00005, at.lon + 0.0002, NOW)
    with qtbot.waitSignal(view.applied, timeout=5000):
        p.push(view)
    js(qtbot, view, f"(rcMap.map.setView([{at.lat}, {at.lon}], 17, {{animate: false}}), 0)")

    def z(key: str) -> int:
        return int(js(qtbot, view, f"+rcMap.markers.get('{key}')._icon.style.zIndex"))

    assert z("team:T-02") > z("team:T-88")
    # Chosen, the idle team comes to the top.
    js(qtbot, view, "(rcMap.select('team:T-88', false), 0)")
    qtbot.waitUntil(lambda: z("team:T-88") > z("team:T-02"), timeout=3000)
