"""The workload dock, offscreen: plotted data read back against the store after a simulated hour,
a click on a time selects the calls open then, exports that open, a screenshot to look at.

The panel is driven by a small PictureSource of this file (same signals as
``console.ui.core.picture.PictureSource``) fed from a real SQLite store, so the test controls exactly
which pictures arrive and when.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication

from console.domain.events import Event, TeamStatusChanged
from console.domain.model import Call, Team, TeamStatus
from console.domain.projection import State, apply
from console.domain.synthetic import synthetic_shift
from console.store import Changes, Store
from console.store.read.aggregates import Aggregates
from console.store.read.metrics import team_histories
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture
from console.ui.plots import WorkloadPanel
from console.ui.plots.plotset import PLOTS, TIME_PLOTS

MakeContext = Callable[..., ConsoleContext]

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 26, 12, tzinfo=UTC)  # 07:00 in Hartford: a shift starts


class StandInPictures(QObject):
    """The PictureSource contract: ``picture_changed(Picture, Changes)``, ``tick(now)``."""

    picture_changed = Signal(object, object)
    tick = Signal(object)

    def __init__(self, picture: Picture) -> None:
        super().__init__()
        self._picture = picture

    def current(self) -> Picture:
        return self._picture

    def publish(
        self,
        state: State,
        now: datetime,
        changes: Changes | None,
        seq: int,
        team_records: tuple[Team, ...] = (),
    ) -> None:
        self._picture = Picture(
            state.copy(), now, seq, True, None, False, team_records=team_records
        )
        self.picture_changed.emit(self._picture, changes)


class Shift:
    """A store, the events of a synthetic shift, and the state folded so far."""

    def __init__(self, tmp: Path) -> None:
        self.events = synthetic_shift(2200, seed=11, start=START, teams=8)
        self.store = Store.open(f"sqlite:///{tmp / 'plots.sqlite'}")
        self.state = State()
        self.pos = 0
        self.now = START

    def feed(self, until: datetime, batch: int = 12) -> Iterator[tuple[Changes, int]]:
        """Append the events up to ``until`` in small batches, as the sync service would."""
        while self.pos < len(self.events) and self.events[self.pos].occurred_at <= until:
            chunk: list[Event] = []
            while (
                len(chunk) < batch
                and self.pos < len(self.events)
                and self.events[self.pos].occurred_at <= until
            ):
                chunk.append(self.events[self.pos])
                self.pos += 1
            res = self.store.append(chunk)
            for e in res.appended:
                apply(self.state, e)
            self.now = chunk[-1].occurred_at
            yield res.changes, res.last_seq
        self.now = until


@pytest.fixture
def shift(tmp_path: Path) -> Iterator[Shift]:
    s = Shift(tmp_path)
    list(s.feed(START + timedelta(hours=5), batch=500))
    yield s
    s.store.close()


@pytest.fixture
def panel(
    qtbot: Any, shift: Shift, make_context: MakeContext
) -> Iterator[tuple[WorkloadPanel, ConsoleContext, Shift]]:
    pictures = StandInPictures(Picture(shift.state.copy(), shift.now, 0, True, None, False))
    ctx = make_context(store=shift.store, pictures=pictures)
    p = WorkloadPanel(ctx, tz=NY, redraw_hz=4)
    qtbot.addWidget(p)
    p.resize(1400, 1000)
    p.show()
    with qtbot.waitSignal(p.loaded, timeout=20000):
        pass
    yield p, ctx, shift
    p.close()


# -- independent expectations, straight from the store ------------------------------------------


def _calls(store: Store) -> list[Call]:
    return list(store.load_state().calls.values())


def _open_at(calls: list[Call], t: datetime) -> tuple[set[str], set[str]]:
    pend, asg = set(), set()
    for c in calls:
        closed = (c.cleared_at or c.updated_at) if not c.is_open else None
        if c.dispatched_at is None or c.status.value == "pending":
            if c.received_at <= t and (closed is None or t < closed):
                pend.add(c.id)
        else:
            if c.received_at <= t < c.dispatched_at:
                pend.add(c.id)
            if c.dispatched_at <= t and (closed is None or t < closed):
                asg.add(c.id)
    return pend, asg


def _status_at(hist: list[Team], t: datetime) -> TeamStatus | None:
    cur = None
    for r in hist:
        if (r.status_since or r.updated_at) <= t:
            cur = r.status
    return cur


def _utc(x: float) -> datetime:
    return datetime.fromtimestamp(float(x), UTC)


# -- the tests ----------------------------------------------------------------------------------


def test_plotted_data_equals_store_after_a_simulated_hour(qtbot: Any, panel: Any) -> None:
    p, ctx, shift = panel
    p.set_window("last_2h")
    redraws = p.redraws
    end = shift.now + timedelta(hours=1)
    for changes, seq in shift.feed(end):
        ctx.pictures.publish(shift.state, shift.now, changes, seq)
    ctx.pictures.tick.emit(end)  # the source's once-a-second tick carries the clock on
    # Redraw is timer driven: a burst of pictures drew nothing by itself.
    assert p.redraws == redraws
    with qtbot.waitSignal(p.redrawn, timeout=5000):
        pass
    assert p.redraws == redraws + 1

    calls = _calls(shift.store)
    ps = p.plotset
    x, y = ps.c_pending.getData()
    _, ya = ps.c_assigned.getData()
    assert x is not None and len(x) > 100  # the window (and half a window before), per minute
    assert x[-1] <= shift.now.timestamp() < x[-1] + 60
    for xi, pi, ai in zip(x, y, ya, strict=True):
        pend, asg = _open_at(calls, _utc(xi))
        assert (int(pi), int(ai)) == (len(pend), len(asg)), _utc(xi)

    hist = team_histories(shift.store)
    xt, avail = ps.c_teams[0].getData()
    _, upto_scene = ps.c_teams[2].getData()
    for k in range(0, len(xt), 7):
        t = _utc(xt[k])
        st = [_status_at(h, t) for h in hist.values()]
        assert avail[k] == sum(1 for s in st if s is TeamStatus.AVAILABLE)
        busy = {TeamStatus.AVAILABLE, TeamStatus.ASSIGNED, TeamStatus.EN_ROUTE, TeamStatus.ON_SCENE}
        assert upto_scene[k] == sum(1 for s in st if s in busy)

    # Rolling p90 received -> dispatched at the last sample: the last hour's completed intervals.
    xi, p90 = ps.c_intervals["received_to_dispatched"][1].getData()
    t_last = xi[-1]
    vals = [
        (c.dispatched_at - c.received_at).total_seconds()
        for c in calls
        if c.dispatched_at is not None
        and t_last - 3600 < c.dispatched_at.timestamp() <= t_last
        and c.dispatched_at >= c.received_at
    ]
    assert vals
    assert p90[-1] == pytest.approx(np.percentile(vals, 90) / 60, abs=1e-9)

    # Calls per hour: the stacked bars of one full hour sum to the calls received in it.
    hour0 = math.floor((shift.now.timestamp() - 2 * 3600) / 3600) * 3600
    total = 0.0
    for bar in ps.bars_types:
        if not bar.isVisible():
            continue
        x0 = np.asarray(bar.opts["x0"])
        h = np.asarray(bar.opts["height"])
        total += float(h[np.abs(x0 - (hour0 + 0.08 * 3600)) < 1].sum())
    expected = sum(1 for c in calls if hour0 <= c.received_at.timestamp() < hour0 + 3600)
    assert expected > 0 and total == expected

    # The view follows the window.
    lo, hi = ps.plots["open_calls"].getViewBox().viewRange()[0]
    assert lo == pytest.approx(shift.now.timestamp() - 7200, abs=200)
    assert hi == pytest.approx(shift.now.timestamp(), abs=200)


def _scene_point(p: WorkloadPanel, key: str, t: datetime, frac_y: float = 0.5) -> QPoint:
    plot = p.plotset.plots[key]
    vb = plot.getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    scene = vb.mapViewToScene(QPointF(t.timestamp(), y0 + (y1 - y0) * frac_y))
    pt: QPoint = p.plotset.widget.mapFromScene(scene)
    return pt


def _mouse(
    widget: Any, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton = Qt.MouseButton.NoButton
) -> None:
    held = button if kind is QEvent.Type.MouseButtonPress else Qt.MouseButton.NoButton
    ev = QMouseEvent(
        kind,
        QPointF(pos),
        QPointF(widget.mapToGlobal(pos)),
        button,
        held,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, ev)


def test_click_selects_calls_open_then_and_hover_shows_values(qtbot: Any, panel: Any) -> None:
    p, ctx, shift = panel
    p.set_window("last_2h")
    p.redraw()
    calls = _calls(shift.store)
    # A moment with several open calls, chosen from the store.
    best = max(
        (shift.now - timedelta(minutes=m) for m in range(5, 100, 3)),
        key=lambda t: sum(map(len, _open_at(calls, t))),
    )
    pend, asg = _open_at(calls, best)
    assert pend | asg
    pos = _scene_point(p, "open_calls", best)
    got: list[Any] = []
    selected: list[list[str]] = []
    p.time_clicked.connect(lambda t, ids: got.append((t, ids)))
    ctx.selection.calls_selected.connect(selected.append)
    # The mouse events are delivered to the plot's viewport directly: the simulated pointer of
    # an offscreen session is shared with every earlier test and may be held elsewhere.
    _mouse(p.plotset.widget.viewport(), QEvent.Type.MouseMove, pos)
    # Hovering alone shows the values of that minute in the title line.
    qtbot.waitUntil(
        lambda: p.plotset.plots["open_calls"].titleLabel.text.startswith("Open calls at"),
        timeout=10_000,
    )
    _mouse(
        p.plotset.widget.viewport(), QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton
    )
    _mouse(
        p.plotset.widget.viewport(), QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    t_clicked, ids = got[-1]
    assert abs((t_clicked - best).total_seconds()) <= 60  # within one pixel's worth of a minute
    exp_p, exp_a = _open_at(calls, t_clicked)
    assert set(ids) == exp_p | exp_a
    assert selected[-1] == ids and ctx.selection.call_id == ids[0]

    # Hover: every time plot's title carries the exact values at that minute.
    titles = p.hover_at(t_clicked)
    assert f"pending {len(exp_p)} · assigned {len(exp_a)}" in titles["open_calls"]
    hist = team_histories(shift.store)
    avail = sum(1 for h in hist.values() if _status_at(h, t_clicked) is TeamStatus.AVAILABLE)
    assert f"available {avail}" in titles["teams"]
    assert "p50" in titles["intervals"] and "police" in titles["escalations"]


def test_exports_write_files_that_open(qtbot: Any, panel: Any, tmp_path: Path) -> None:
    p, _, _ = panel
    p.set_window("shift")
    p.redraw()
    for key in PLOTS:
        png = p.export_plot_png(key, tmp_path / f"{key}.png")
        img = QImage(str(png))
        assert not img.isNull() and img.width() >= 600, key
        out = p.export_plot_csv(key, tmp_path / f"{key}.csv")
        with out.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert len(rows) > 1, key
        assert all(len(r) == len(rows[0]) for r in rows), key
    # The CSV holds what the plot shows: pending per minute of the window, as drawn.
    with (tmp_path / "open_calls.csv").open(newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    x, y = p.plotset.c_pending.getData()
    drawn = {round(float(a)): int(b) for a, b in zip(x, y, strict=True)}
    for row in table[:: max(1, len(table) // 25)]:
        t = datetime.fromisoformat(row["time"]).timestamp()
        if round(t) in drawn:
            assert int(row["pending"]) == drawn[round(t)]
    assert datetime.fromisoformat(table[0]["time"]).astimezone(NY).hour == 7  # shift start

    png = p.export_summary(tmp_path / "summary.png")
    img = QImage(str(png))
    assert not img.isNull() and img.width() > img.height()
    pdf = p.export_summary(tmp_path / "summary.pdf")
    # exports and screenshots carry call data: their owner's alone
    for f in (png, pdf, *tmp_path.glob("*.csv"), *tmp_path.glob("*.png")):
        assert f.stat().st_mode & 0o777 == 0o600, f
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]
    doc = QPdfDocument()
    assert doc.load(str(pdf)) == QPdfDocument.Error.None_
    assert doc.pageCount() == 1  # one page a manager can mail
    size = doc.pagePointSize(0)
    assert size.width() > size.height()  # landscape
    assert not doc.render(0, QSize(1200, 850)).isNull()
    doc.close()

    with pytest.raises(ValueError, match="no plot named"):
        p.export_plot_csv("nope", tmp_path / "x.csv")


def test_screenshot_of_the_dock(qtbot: Any, panel: Any, artifacts: Path) -> None:
    p, ctx, shift = panel
    for changes, seq in shift.feed(shift.now + timedelta(minutes=40)):
        ctx.pictures.publish(shift.state, shift.now, changes, seq)
    p.set_window("shift")
    with qtbot.waitSignal(p.redrawn, timeout=5000):
        pass
    p.hover_at(shift.now - timedelta(minutes=75))
    shot = p.grab()
    assert shot.save(str(artifacts / "plots.png"))
    p.resize(1000, 300)  # the size the window docks it at: plots keep their height and scroll
    qtbot.waitUntil(lambda: p.scroller.verticalScrollBar().maximum() > 0, timeout=10_000)
    legend = p.plotset.leg_types
    view = p.plotset.widget
    qtbot.waitUntil(
        lambda: (
            view.mapFromScene(legend.sceneBoundingRect()).boundingRect().right()
            <= view.viewport().width()
        ),
        timeout=10_000,
    )
    assert p.grab().save(str(artifacts / "plots-docked.png"))
    p.export_summary(artifacts / "plots-summary.png")
    assert all(p.plotset.plots[k].isVisible() for k in TIME_PLOTS)


def test_span_slides_with_the_clock_on_the_worker(qtbot: Any, panel: Any) -> None:
    p, ctx, shift = panel
    old = p.agg
    assert old is not None
    later = old.end - timedelta(minutes=90)  # the clock nears the end of the arrays
    with qtbot.waitSignal(p.loaded, timeout=20000):
        ctx.pictures.tick.emit(later)
    assert p.agg is not old
    assert p.agg.end >= later + timedelta(hours=20)
    assert p.agg.start >= later - timedelta(days=7, minutes=1)
    # The rebuilt aggregates hold the same history: the calls of the shift so far.
    assert sorted(p.agg.calls_open_at(shift.now)) == sorted(old.calls_open_at(shift.now))
    assert int(p.agg.calls_hourly.sum()) == int(old.calls_hourly.sum()) > 0


def _replay_panel(
    qtbot: Any, pictures: StandInPictures, make_context: MakeContext
) -> WorkloadPanel:
    """The dock as a replay builds it: no store, aggregates from the picture."""
    ctx = make_context(store=None, pictures=pictures, replay=True)
    p = WorkloadPanel(ctx, tz=NY)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.loaded, timeout=20000):
        pass
    return p


def test_replay_without_store_builds_from_the_picture_and_rebuilds_on_seek_back(
    qtbot: Any, shift: Shift, make_context: MakeContext
) -> None:
    full = shift.state.copy()
    at = shift.now
    pictures = StandInPictures(Picture(full, at, 0, False, None, False))
    p = _replay_panel(qtbot, pictures, make_context)
    assert p.agg is not None
    n_full = int(p.agg.calls_hourly.sum())
    assert n_full == len(full.calls)
    # Seek back two hours: the picture holds fewer calls; the plots forget the future.
    back = at - timedelta(hours=2)
    earlier = State()
    for e in shift.events:
        if e.occurred_at <= back:
            apply(earlier, e)
    with qtbot.waitSignal(p.loaded, timeout=20000):
        pictures._picture = Picture(earlier, back, 0, False, None, False)
        pictures.picture_changed.emit(pictures._picture, None)
    assert int(p.agg.calls_hourly.sum()) == len(earlier.calls) < n_full
    p.redraw()
    x, _ = p.plotset.c_pending.getData()
    assert x is not None and x[-1] <= back.timestamp()
    p.close()


def test_an_empty_live_picture_does_not_empty_the_plots(qtbot: Any, panel: Any) -> None:
    """The live source's first picture may still be loading when the history arrives."""
    p, ctx, shift = panel
    assert p.agg is not None
    before = int(p.agg.calls_hourly.sum())
    assert before > 0
    ctx.pictures.publish(State(), shift.now, None, 0)
    assert int(p.agg.calls_hourly.sum()) == before


def test_y_ranges_show_everything_in_view_and_follow_a_pan(qtbot: Any, panel: Any) -> None:
    """The time plots' y ranges are set from the data in view (no auto-range): every value in
    view fits, none is squashed into the bottom half, and panning back refits them."""
    p = panel[0]
    p.set_window("last_2h")
    p.redraw()
    ps = p.plotset

    def in_view(item: Any) -> Any:
        x, y = item.getData()
        (x0, x1), _ = ps.plots["open_calls"].getViewBox().viewRange()
        return np.asarray(y)[(x >= x0) & (x <= x1)]

    def check() -> None:
        for key, items in (
            ("open_calls", [ps.c_pending, ps.c_assigned]),
            ("teams", [ps.c_teams[-1]]),
            ("escalations", ps.c_esc),
        ):
            top = max(float(np.nanmax(in_view(i), initial=0)) for i in items)
            y0, y1 = ps.plots[key].getViewBox().viewRange()[1]
            assert y0 == 0 and top <= y1, key
            assert top == 0 or y1 <= 2.5 * top, (key, top, y1)
        # The targets always show on the interval plot.
        y1 = ps.plots["intervals"].getViewBox().viewRange()[1][1]
        assert all(s / 60 <= y1 for s in ps.targets.values())

    check()
    vb = ps.plots["open_calls"].getViewBox()
    (x0, x1), _ = vb.viewRange()
    vb.setXRange(x0 - 3 * 3600, x1 - 3 * 3600, padding=0)  # as a drag does
    check()


def test_team_bands_stack_without_overlap_and_show_their_colours(qtbot: Any, panel: Any) -> None:
    """Each status band lies on the one below it, and paints its own (legend) colour."""
    p = panel[0]
    p.set_window("last_2h")
    p.redraw()
    ps = p.plotset
    below = None
    for band in ps.c_teams:
        x, top = band.getData()
        lo = band._lower
        assert len(x) == len(top) == len(lo) > 10
        assert np.all(top >= lo)
        if below is not None:
            assert np.array_equal(lo, below)
        below = top
    # Where "available" is thick enough, the pixel in its middle is its colour.
    avail = ps.c_teams[0]
    x, top = avail.getData()
    k = int(np.argmax(top))
    assert top[k] >= 2
    vb = ps.plots["teams"].getViewBox()
    QApplication.processEvents()
    image = ps.widget.grab().toImage()
    pt = ps.widget.mapFromScene(vb.mapViewToScene(QPointF(x[k], top[k] / 2)))
    got = image.pixelColor(pt.x(), pt.y())
    want = avail.opts["fillBrush"].color()
    assert (got.red(), got.green(), got.blue()) == (want.red(), want.green(), want.blue())


def test_nice_top_leaves_room_and_rounds() -> None:
    from console.ui.plots.plotset import nice_top

    assert nice_top(0) == 1 and nice_top(float("nan")) == 1
    for v in (0.3, 1, 7, 12, 13.9, 99, 480, 12345):
        t = nice_top(v)
        assert v < t <= 1.5 * v + 1e-9
        mant = t / 10 ** math.floor(math.log10(t))
        assert round(mant, 6) in {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8}


def test_slow_views_follow_a_fast_replay_every_few_seconds_and_a_new_window_at_once(
    qtbot: Any, panel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Utilisation and coverage (seconds of work at a time) are not redrawn at the timer's
    rate when a fast replay slides the window an hour a second; another window redraws them."""
    p = panel[0]
    ps, agg = p.plotset, p.agg
    calls: list[float] = []
    real = ps._update_slow

    def counted(*a: Any) -> None:
        calls.append(1.0)
        real(*a)

    monkeypatch.setattr(ps, "_update_slow", counted)
    now = p._now
    for h in range(4):  # four seconds of a 3600x replay, within SLOW_REFRESH_S
        t = now - timedelta(hours=4 - h)
        ps.update(agg, t, (t - timedelta(hours=2)).timestamp(), window="last_2h")
    assert len(calls) == 1
    ps.update(agg, now, (now - timedelta(hours=24)).timestamp(), window="24h")
    assert len(calls) == 2


def test_the_timers_redraw_takes_several_turns_and_ends_drawn(qtbot: Any, panel: Any) -> None:
    """Time plots first; bars and slow views on later turns, each with its own repaint."""
    p, ctx, shift = panel
    for changes, seq in shift.feed(shift.now + timedelta(minutes=30)):
        ctx.pictures.publish(shift.state, shift.now, changes, seq)
    ctx.pictures.tick.emit(shift.now)
    p.set_window("24h")
    before = p.redraws
    drawn = [bar.opts["height"] for bar in p.plotset.bars_types]
    p._start_redraw()
    assert p.redraws == before  # the first step only: the rest waits for later turns
    assert [bar.opts["height"] for bar in p.plotset.bars_types] == drawn
    with qtbot.waitSignal(p.redrawn, timeout=5000):
        pass
    assert p.redraws == before + 1


def test_a_replays_plots_reach_its_end_so_playing_never_rebuilds(
    qtbot: Any, shift: Shift, make_context: MakeContext
) -> None:
    """At 3600x a rebuild would hold the interpreter while the GUI waits: the first build
    already reaches the replay's last moment, and playing to it starts no other."""
    start = shift.now - timedelta(days=2)
    end = shift.now + timedelta(days=3)  # longer than the one day live builds ahead
    pictures = StandInPictures(Picture(shift.state.copy(), start, 0, False, None, False))
    pictures.engine = SimpleNamespace(start=start, end=end)  # type: ignore[attr-defined]
    p = _replay_panel(qtbot, pictures, make_context)
    assert p.agg is not None and p.agg.end > end
    built = p.agg
    t = start
    while t < end:
        t += timedelta(hours=1)
        pictures.tick.emit(t)
    assert p.agg is built and not p._loading
    p.close()


def test_pictures_during_a_rebuild_end_up_in_the_new_aggregates(qtbot: Any, panel: Any) -> None:
    """The worker folds in the picture it started from; pictures that arrive while it runs are
    folded in when it is done: the result equals a rebuild from the store at the end."""
    p, ctx, shift = panel
    p.reload()
    assert p._loading
    for changes, seq in shift.feed(shift.now + timedelta(minutes=45)):
        ctx.pictures.publish(shift.state, shift.now, changes, seq)
    with qtbot.waitSignal(p.loaded, timeout=20000):
        pass
    qtbot.waitUntil(lambda: p._todo_state is None, timeout=5000)
    agg = p.agg
    fresh = Aggregates.from_store(shift.store, agg.start, agg.end, tz=NY)
    assert int(agg.calls_hourly.sum()) == int(fresh.calls_hourly.sum()) > 0
    upto = p.plotset.now_index(agg, shift.now)
    assert np.array_equal(agg.pending[:upto], fresh.pending[:upto])
    assert np.array_equal(agg.assigned[:upto], fresh.assigned[:upto])


def test_live_team_history_grows_in_place_with_the_statuses_between_pictures(
    qtbot: Any, panel: Any
) -> None:
    """A live picture carries every team record since the one before: a team that changed
    several times between two pictures is plotted with each status, and the aggregates are
    never rebuilt from the store to learn them."""
    p, ctx, shift = panel
    reloads: list[int] = []
    p.reload = lambda: reloads.append(1)  # type: ignore[method-assign]
    changed_twice = False
    prev = shift.pos
    for changes, seq in shift.feed(shift.now + timedelta(hours=2), batch=400):
        batch, prev = shift.events[prev : shift.pos], shift.pos
        records = tuple(e.team for e in batch if isinstance(e, TeamStatusChanged))
        ids = [t.id for t in records]
        changed_twice = changed_twice or len(ids) > len(set(ids))
        ctx.pictures.publish(shift.state, shift.now, changes, seq, records)
    assert changed_twice  # the case that matters: statuses in between
    qtbot.waitUntil(lambda: p._todo_state is None, timeout=5000)
    assert reloads == []
    agg = p.agg
    fresh = Aggregates.from_store(shift.store, agg.start, agg.end, tz=NY)
    upto = p.plotset.now_index(agg, shift.now)
    assert np.array_equal(agg.teams[:, :upto], fresh.teams[:, :upto])


def test_exported_tables_are_the_owners_alone(tmp_path: Path) -> None:
    import os

    from console.ui.plots.export import write_csv

    old = os.umask(0o022)
    try:
        out = write_csv(tmp_path / "t.csv", ["time", "pending"], [["2026-11-26T08:00", 1]])
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_followed_time_range_moves_by_whole_minutes(qtbot: Any, panel: Any) -> None:
    """Redraws within a minute leave the time axis where it is (no re-layout of the axes and
    linked views every second); the next minute moves it, and it still reaches now."""
    p = panel[0]
    ps, agg = p.plotset, p.agg
    vb = ps.plots["open_calls"].getViewBox()
    now = datetime.fromtimestamp(math.floor(p._now.timestamp() / 60) * 60, UTC)
    lo = (now - timedelta(hours=2)).timestamp()
    ps.update(agg, now + timedelta(seconds=1), lo, window="last_2h")
    moved: list[object] = []
    vb.sigXRangeChanged.connect(lambda *a: moved.append(a))
    first = vb.viewRange()[0]
    for s in (10, 30, 59):
        ps.update(agg, now + timedelta(seconds=s), lo + s, window="last_2h")
    assert moved == [] and vb.viewRange()[0] == first
    assert first[1] >= (now + timedelta(seconds=59)).timestamp()
    ps.update(agg, now + timedelta(seconds=61), lo + 61, window="last_2h")
    assert len(moved) == 1 and vb.viewRange()[0][1] >= (now + timedelta(seconds=61)).timestamp()
