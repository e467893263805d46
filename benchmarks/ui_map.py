"""``map_update``: from a state change to the marker changed in the page, against a rebuild.

The live path: ``MapView.update_picture`` computes the marker diff and sends it in one
``runJavaScript``; the clock stops when the page reports the diff applied (the DOM has
changed). The baseline is what the map would cost without the bridge: render the same picture
as a complete folium page (every marker a folium ``Marker``), write it, load it and wait until
Leaflet and all markers are in the page. Both run in the same process, same session.
"""

from __future__ import annotations

import math
import operator
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

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
from console.ui.map.env import bench_app

N_TEAMS = 60
N_CALLS = 300
TARGET_MS = 100.0
TARGET_RATIO = 0.1
# Hartford's bounding box, roughly.
LAT = (41.724, 41.808)
LON = (-72.718, -72.643)


def _app() -> Any:
    return bench_app("map_update")


def _wait(until: list[bool] | Callable[[], bool], timeout_s: float) -> None:
    """Run the event loop until ``until[0]`` (set by a callback) or ``until()`` is true."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    def done() -> bool:
        return until() if callable(until) else until[0]

    end = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("map page did not answer in time")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


class _Picture:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        statuses = [s for s in TeamStatus if s is not TeamStatus.OFF_DUTY]
        self.teams = {
            f"T-{i:02d}": Team(
                f"T-{i:02d}",
                rng.choice(statuses),
                now,
                provider=rng.choice(("Community Health", "Peer Services")),
                status_since=now - timedelta(minutes=rng.randint(0, 90)),
            )
            for i in range(1, N_TEAMS + 1)
        }
        self.positions = {t: self._pos() for t in self.teams}
        open_statuses = [s for s in CallStatus if s.is_open]
        self.calls = {}
        for i in range(1, N_CALLS + 1):
            cid = f"C-{1000 + i}"
            lat, lon = self._latlon()
            self.calls[cid] = Call(
                cid,
                rng.choice(open_statuses),
                rng.choice((1, 2, 3)),
                rng.choice(list(CallType)),
                now - timedelta(minutes=rng.randint(0, 120)),
                now,
                lat=lat,
                lon=lon,
                safety_flags=(SafetyFlag.WEAPON,) if rng.random() < 0.05 else (),
                summary="Caller reports a person in distress near the bus stop.",
            )

    def _latlon(self) -> tuple[float, float]:
        return self.rng.uniform(*LAT), self.rng.uniform(*LON)

    def _pos(self) -> Position:
        lat, lon = self._latlon()
        return Position(lat, lon, self.now - timedelta(seconds=self.rng.randint(0, 600)))

    def change_one(self) -> None:
        """One team changes status and moves: what a typical dispatch event does."""
        tid = self.rng.choice(sorted(self.teams))
        team = self.teams[tid]
        choices = [s for s in TeamStatus if s not in (team.status, TeamStatus.OFF_DUTY)]
        self.teams[tid] = replace(team, status=self.rng.choice(choices), status_since=self.now)
        lat, lon = self._latlon()
        self.positions[tid] = Position(lat, lon, self.now)


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def _live_samples(
    pic: _Picture, n: int, tick: bool, page_ms: list[float], python_ms: list[float]
) -> list[float]:
    from console.ui.map.view import MapView

    view = MapView(tile_url=None, overlays=[])
    view.resize(1200, 800)
    view.show()
    th = Thresholds()
    stamps: dict[int, float] = {}
    view.applied.connect(lambda seq: stamps.__setitem__(seq, time.perf_counter()))
    try:
        view.update_picture(pic.calls.values(), pic.teams.values(), pic.positions, pic.now, th)
        _wait(lambda: view.is_idle, 60)
        out: list[float] = []
        now = pic.now
        for _ in range(n):
            if tick:
                now += timedelta(minutes=1)  # every age and time-in-status label changes
            else:
                pic.change_one()
            t0 = time.perf_counter()
            seq = view.update_picture(
                pic.calls.values(), pic.teams.values(), pic.positions, now, th
            )
            python_ms.append((time.perf_counter() - t0) * 1000.0)
            if seq == 0:
                raise RuntimeError("a change produced no update")
            _wait(partial(operator.contains, stamps, seq), 30)
            out.append((stamps[seq] - t0) * 1000.0)
            page_ms.append(view.last_apply_ms)
        return out
    finally:
        view.dispose()


def _static_html(pic: _Picture) -> str:
    """The whole picture as one folium page: the rebuild a bridge-less map would do."""
    import folium

    from console.ui.map.markers import picture_markers
    from console.ui.map.page import PageOptions, build_folium_map

    m = build_folium_map(PageOptions(None, "", (), (41.7658, -72.6851), 13))
    specs = picture_markers(
        pic.calls.values(), pic.teams.values(), pic.positions, pic.now, Thresholds()
    )
    for spec in specs.values():
        classes = " ".join(["rc-m"] + [f"rc-{c}" for c in spec["classes"]])
        html = (
            f'<div class="{classes}" style="--rc-color:{spec["color"]}">'
            f'<span class="rc-sym">{escape(spec["sym"])}</span>'
            f'<span class="rc-lbl">{escape(spec["label"])}</span></div>'
        )
        folium.Marker(
            (spec["lat"], spec["lon"]),
            icon=folium.DivIcon(html=html, class_name="rc-icon", icon_anchor=(9, 9)),
            tooltip="<br>".join(escape(t) for t in spec["tip"]),
            z_index_offset=spec["z"],
        ).add_to(m)
    return str(m.get_root().render())


def _rebuild_samples(pic: _Picture, n: int) -> list[float]:
    from PySide6.QtCore import QCoreApplication, QEvent, QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from console.ui.map.page import write_page

    expected = len(pic.teams) + len(pic.calls)
    view = QWebEngineView()
    view.resize(1200, 800)
    view.show()
    out: list[float] = []
    with tempfile.TemporaryDirectory(prefix="rc-map-bench-") as tmp:
        try:
            for i in range(n):
                pic.change_one()
                got = [False]
                stamp = [0.0]

                answer: list[Any] = [None]

                def on_check(
                    result: Any,
                    box: list[bool] = got,
                    st: list[float] = stamp,
                    a: list[Any] = answer,
                ) -> None:
                    st[0] = time.perf_counter()
                    a[0] = result
                    box[0] = True

                def on_loaded(ok: bool) -> None:
                    check = f'typeof L === "object" && document.querySelectorAll(".rc-m").length === {expected}'
                    view.page().runJavaScript(check, 0, on_check)

                view.loadFinished.connect(on_loaded)
                t0 = time.perf_counter()
                path = write_page(Path(tmp), _static_html(pic), name=f"page{i}.html")
                view.load(QUrl.fromLocalFile(str(path)))
                _wait(got, 60)
                view.loadFinished.disconnect(on_loaded)
                if answer[0] is not True:
                    raise RuntimeError("the rebuilt page lacks Leaflet or some markers")
                out.append((stamp[0] - t0) * 1000.0)
        finally:
            view.close()
            view.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return out


def bench_map_update(quick: bool) -> list[dict[str, Any]]:
    """p95 latency of a pushed map update vs a full folium rebuild of the same picture."""
    _app()
    now = datetime(2026, 3, 14, 21, 0, tzinfo=UTC)
    n_live = 40 if quick else 200
    n_tick = 10 if quick else 40
    n_rebuild = 4 if quick else 12
    live_page: list[float] = []
    tick_page: list[float] = []
    live_py: list[float] = []
    tick_py: list[float] = []
    live = _live_samples(_Picture(random.Random(7), now), n_live, False, live_page, live_py)
    tick = _live_samples(_Picture(random.Random(8), now), n_tick, True, tick_page, tick_py)
    rebuild = _rebuild_samples(_Picture(random.Random(9), now), n_rebuild)
    base = _p95(rebuild)
    common = {
        "unit": "ms",
        "baseline": "full folium page rebuild and reload of the same picture, p95",
        "baseline_value": round(base, 2),
        "teams": N_TEAMS,
        "calls": N_CALLS,
        "baseline_samples": len(rebuild),
        "baseline_median": round(statistics.median(rebuild), 2),
        "target": f"< {TARGET_MS:.0f} ms and ratio <= {TARGET_RATIO}",
    }
    out: list[dict[str, Any]] = []
    for name, xs, page, py, what in (
        ("map_update", live, live_page, live_py, "one team changes status and moves"),
        ("map_update_tick", tick, tick_page, tick_py, "minute tick: every label changes"),
    ):
        p95 = _p95(xs)
        ratio = p95 / base if base > 0 else math.inf
        out.append(
            {
                "name": name,
                "value": round(p95, 2),
                "ratio": round(ratio, 4),
                "what": what,
                "samples": len(xs),
                "median": round(statistics.median(xs), 2),
                "max": round(max(xs), 2),
                "page_apply_median": round(statistics.median(page), 2),
                "python_median": round(statistics.median(py), 2),
                "meets_target": p95 < TARGET_MS and ratio <= TARGET_RATIO,
                **common,
            }
        )
    return out


if __name__ == "__main__":  # pragma: no cover - manual run
    for row in bench_map_update(quick="--full" not in sys.argv):
        print(row)
