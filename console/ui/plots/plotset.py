"""The set of workload plots drawn from one :class:`~console.store.read.aggregates.Aggregates`.

One class builds the pyqtgraph items once and only ``setData`` on them afterwards (preallocated
arrays, clip-to-view, peak downsampling), so a redraw of a seven-day history costs a few
milliseconds. The dock and the printed shift summary are two instances of it, so what is mailed
is what the supervisor saw.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from console.domain.model import CALL_TYPE_LABELS, CallType, EscalationTarget
from console.store.read.aggregates import (
    CALL_TYPES,
    ESC_ROWS,
    HISTORY_WEEKS,
    HOUR,
    MINUTE,
    ROLLING,
    TEAM_GROUPS,
    WEEK_H,
    Aggregates,
)
from console.ui.plots.colors import PlotColors
from console.ui.plots.items import StackBand

TIME_PLOTS = ("open_calls", "teams", "calls_hourly", "intervals", "escalations")
PLOTS = (*TIME_PLOTS, "utilization", "coverage")
TITLES = {
    "open_calls": "Open calls",
    "teams": "Teams by status",
    "calls_hourly": "Calls received per hour, by type (band: same hours, previous 4 weeks)",
    "intervals": "Response intervals, rolling p50 / p90 (minutes)",
    "escalations": "Escalations and backup requests (cumulative in window)",
    "utilization": "Team utilisation in window (%)",
    "coverage": "Coverage vs demand by hour of week",
}
NOT_SERVED_TIP = (
    "Eligible calls not served: calls received in the time window with no safety flag (a "
    "civilian team could have taken them) that are now closed — cleared, cancelled or "
    "escalated — without any team ever having been assigned. Open calls are not counted."
)
GROUP_LABELS = {
    "available": "Available",
    "en_route": "Assigned / en route",
    "on_scene": "On scene",
    "transporting": "Transporting",
    "out_of_service": "Out of service",
}
ESC_LABELS = {
    EscalationTarget.POLICE.value: "Police",
    EscalationTarget.EMS.value: "EMS",
    EscalationTarget.MOBILE_CRISIS.value: "Mobile crisis",
    EscalationTarget.CO_RESPONSE.value: "Co-response",
    "backup_request": "Backup requests",
}
INTERVAL_LABELS = {
    "received_to_dispatched": "Received→dispatched",
    "received_to_onscene": "Received→on scene",
}
SHORT_TYPE_LABELS = {
    CallType.MENTAL_HEALTH: "Mental health",
    CallType.EMOTIONAL_DISTRESS: "Distress",
    CallType.SUBSTANCE_USE: "Substance",
    CallType.OVERDOSE: "Overdose",
    CallType.WELFARE_CHECK: "Welfare",
    CallType.BASIC_NEEDS: "Basic needs",
    CallType.HOMELESSNESS: "Homeless",
    CallType.TRANSPORT: "Transport",
    CallType.JUVENILE: "Juvenile",
    CallType.OTHER: "Other",
    CallType.UNRECOGNISED: "Unrecognised",
}
"""Legend labels short enough for two columns beside the plot; hover uses the full ones."""
FILL_POINTS = 480
LONG_VIEW_POINTS = 3000
"""Minutes in view above which clip-to-view and downsampling are switched on."""
SLOW_REFRESH_S = 5.0
"""The per-team and per-hour-of-week views refresh at most this often (they move slowly)."""
LINE = 1
"""Pen width of the live curves: wider pens cost the raster engine about twice per redraw (the
dock measured 48 ms CPU at width 2, 28 ms at 1); bright colours on the dark base carry them."""
UTIL_LABEL_PX = 52
"""Room one team name needs under the utilisation bars."""
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _color(c: str, alpha: int = 255) -> QColor:
    q = QColor(c)
    q.setAlpha(alpha)
    return q


def _over(fg: str, bg: str, alpha: int) -> QColor:
    """``fg`` at ``alpha`` over ``bg``, as one opaque colour."""
    a, b = QColor(fg), QColor(bg)
    k = alpha / 255
    return QColor(
        round(a.red() * k + b.red() * (1 - k)),
        round(a.green() * k + b.green() * (1 - k)),
        round(a.blue() * k + b.blue() * (1 - k)),
    )


def nice_top(v: float) -> float:
    """The top of a y axis that shows ``v`` with a little room: 1, 1.2, 1.5, 2, ... x 10^k."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    m = v * 1.08
    e = 10.0 ** math.floor(math.log10(m))
    for f in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if f * e >= m - 1e-12:
            return f * e
    return 10.0 * e


def _long_view(item: pg.PlotDataItem, on: bool) -> None:
    """Long views draw only what is in view, at most a few points per pixel. Short ones draw
    every point: below a few thousand points pyqtgraph's re-clipping on every slide of the
    window costs more than the points it saves (measured, see bench)."""
    item.setClipToView(on)
    item.setDownsampling(auto=on, method="peak")


def _set(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray, **kw: object) -> None:
    """``setData`` only when the data differ: an unchanged curve is not repainted at all."""
    last = getattr(item, "_rc_last", None)
    if (
        last is not None
        and last[0].shape == x.shape
        and np.array_equal(last[0], x)
        and np.array_equal(last[1], y, equal_nan=True)
    ):
        return
    item._rc_last = (x.copy(), np.array(y, copy=True))
    item.setData(x, y, **kw)


def _shrinkable(label: pg.LabelItem) -> None:
    """A title (long while it shows hover values) must not widen its plot past the dock."""
    grow = label.updateMin

    def update_min() -> None:
        grow()
        label.setMinimumWidth(0)
        _, h = label._sizeHint[Qt.SizeHint.MinimumSize]
        label._sizeHint[Qt.SizeHint.MinimumSize] = (0, h)

    label.updateMin = update_min
    update_min()


def _natural(s: str) -> tuple[object, ...]:
    """``CRT-2`` before ``CRT-10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def _minutes(seconds: float) -> str:
    if math.isnan(seconds):
        return "–"
    return f"{seconds / 60:.1f} min"


class PlotSet:
    """Builds the plots into one :class:`pyqtgraph.GraphicsLayoutWidget` and redraws them."""

    def __init__(
        self,
        colors: PlotColors,
        targets: Mapping[str, float] | None = None,
        *,
        font_pt: int = 9,
        parent: object = None,
    ) -> None:
        self.colors = colors
        self.targets = dict(targets or {})
        self.widget = pg.GraphicsLayoutWidget(parent=parent)
        self.widget.setBackground(colors.background)
        self.widget.ci.setContentsMargins(4, 4, 4, 4)
        self.widget.ci.setSpacing(4)
        self.font = QFont()
        self.font.setPointSize(font_pt)
        self.plots: dict[str, pg.PlotItem] = {}
        self.vlines: dict[str, pg.InfiniteLine] = {}
        self._x_cache: tuple[int, int, np.ndarray] | None = None
        self.margin_windows: float | None = 0.5
        """History pushed before the window, in windows (None: the whole span)."""
        self._types_shown: tuple[int, ...] = ()
        self._breach_x = np.zeros(0)
        self._breach_y = np.zeros(0)
        self._long = False
        self._follow_range: tuple[tuple[float, float], tuple[float, ...]] | None = None
        """The followed time range last set, and the view's range it gave (a pan changes it)."""
        self._slow_key: tuple[int, int, int, object] | None = None
        """Aggregates, their length, the minute, the window (or its length in minutes)."""
        self._slow_at = 0.0
        self._hourly_key: tuple[int, int, int, float] | None = None
        self._hourly_counts = np.zeros((0, 0), np.int32)
        self._drawn: tuple[Aggregates, int, int, int, np.ndarray] | None = None
        self._tops: dict[str, float] = {}
        self._updating = False
        self._build()
        self.plots["open_calls"].getViewBox().sigXRangeChanged.connect(self._x_changed)

    # -- building --------------------------------------------------------------------------------

    def _plot(self, key: str, row: int, col: int, colspan: int, date: bool) -> pg.PlotItem:
        c = self.colors
        axes = {"bottom": pg.DateAxisItem(orientation="bottom")} if date else {}
        p = self.widget.addPlot(row=row, col=col, colspan=colspan, axisItems=axes)
        p.setTitle(TITLES[key], color=c.text, size=f"{self.font.pointSize() + 1}pt")
        # No grid: pyqtgraph draws it with the axes, which then repaint with every new point
        # (the hover line and title give exact values instead).
        for side in ("left", "bottom"):
            ax = p.getAxis(side)
            ax.setTextPen(c.text)
            ax.setPen(c.grid)
            ax.setStyle(tickFont=self.font)
        p.getAxis("left").setWidth(44)
        vb = p.getViewBox()
        vb.setMouseEnabled(x=date, y=False)
        if date:
            # Clip-to-view works only while x is not auto-ranged; the window sets x. The y
            # range is set from the data in view (_fit_y): pyqtgraph's auto-range asks every
            # item for its bounds on every change and then paints the plot a second time.
            vb.enableAutoRange(axis="x", enable=False)
            vb.enableAutoRange(axis="y", enable=False)
        else:
            vb.setAutoVisible(y=True)
            vb.enableAutoRange(axis="y")
        p.setMenuEnabled(False)
        _shrinkable(p.titleLabel)
        self.plots[key] = p
        if date:
            vl = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(c.muted, width=1))
            vl.setVisible(False)
            vl.setZValue(100)
            p.addItem(vl, ignoreBounds=True)
            self.vlines[key] = vl
        return p

    def _legend(self, row: int, cols: int = 1) -> pg.LegendItem:
        """A legend beside its plot (column 2), never over the data."""
        c = self.colors
        leg = pg.LegendItem(
            offset=None,
            colCount=cols,
            labelTextColor=c.text,
            labelTextSize=f"{self.font.pointSize()}pt",
            verSpacing=-8,
        )
        self.widget.addItem(leg, row=row, col=2)
        return leg

    def _build(self) -> None:
        c = self.colors
        # Open calls: pending vs assigned, with the pending-limit breaches marked.
        p = self._plot("open_calls", 0, 0, 2, True)
        leg = self._legend(0)
        self.c_pending = p.plot(pen=pg.mkPen(c.pending, width=LINE))
        self.c_assigned = p.plot(pen=pg.mkPen(c.assigned, width=LINE))
        self.c_overdue = p.plot(pen=pg.mkPen(c.overdue, width=LINE, style=Qt.PenStyle.DashLine))
        leg.addItem(self.c_pending, "Pending")
        leg.addItem(self.c_assigned, "Assigned")
        leg.addItem(self.c_overdue, "Pending past limit")
        self.s_breach = pg.ScatterPlotItem(
            size=10, symbol="t", brush=pg.mkBrush(c.overdue), pen=pg.mkPen(c.background)
        )
        p.addItem(self.s_breach)
        leg.addItem(self.s_breach, "Limit crossed")
        p.setLabel("left", "calls", color=c.muted)

        # Teams by status, stacked: each band between the cumulative totals below and with it.
        p = self._plot("teams", 1, 0, 2, True)
        leg = self._legend(1)
        self.c_teams: list[StackBand] = []
        for k, g in enumerate(TEAM_GROUPS):
            item = StackBand(pg.mkBrush(_over(c.team_groups[k], c.background, 170)))
            p.addItem(item)
            leg.addItem(item, GROUP_LABELS[g])
            self.c_teams.append(item)
        p.setLabel("left", "teams", color=c.muted)

        # Calls per hour, stacked by type, against the same hours of the previous weeks.
        p = self._plot("calls_hourly", 2, 0, 2, True)
        self.leg_types = self._legend(2, cols=2)
        self.c_band_lo = pg.PlotDataItem(
            pen=pg.mkPen(c.band, width=1, style=Qt.PenStyle.DotLine), stepMode="center"
        )
        self.c_band_hi = pg.PlotDataItem(
            pen=pg.mkPen(c.band, width=1, style=Qt.PenStyle.DotLine), stepMode="center"
        )
        self.f_band = pg.FillBetweenItem(
            self.c_band_lo, self.c_band_hi, brush=pg.mkBrush(_color(c.band, 60))
        )
        self.c_band_mean = pg.PlotDataItem(
            pen=pg.mkPen(c.text, width=1, style=Qt.PenStyle.DashLine), stepMode="center"
        )
        self.bars_types: list[pg.BarGraphItem] = []
        for k in range(len(CALL_TYPES)):
            bar = pg.BarGraphItem(
                x0=[0], width=[0], height=[0], brush=pg.mkBrush(c.call_types[k]), pen=None
            )
            bar.setVisible(False)
            p.addItem(bar)
            self.bars_types.append(bar)
        for item in (self.f_band, self.c_band_lo, self.c_band_hi, self.c_band_mean):
            p.addItem(item)
            item.setZValue(20)
        p.setLabel("left", "calls / h", color=c.muted)

        # Response intervals, rolling percentiles, with the program's targets.
        p = self._plot("intervals", 3, 0, 2, True)
        leg = self._legend(3)
        self.c_intervals: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        hues = {"received_to_dispatched": c.pending, "received_to_onscene": c.team_groups[2]}
        for name in ROLLING:
            lab = INTERVAL_LABELS[name]
            c50 = p.plot(pen=pg.mkPen(hues[name], width=LINE))
            c90 = p.plot(pen=pg.mkPen(hues[name], width=LINE, style=Qt.PenStyle.DashLine))
            leg.addItem(c50, f"{lab} p50")
            leg.addItem(c90, f"{lab} p90")
            self.c_intervals[name] = (c50, c90)
        self.target_lines: dict[str, pg.InfiniteLine] = {}
        for name, seconds in self.targets.items():
            if name not in INTERVAL_LABELS:
                continue
            line = pg.InfiniteLine(
                pos=seconds / 60,
                angle=0,
                movable=False,
                pen=pg.mkPen(hues[name], width=1, style=Qt.PenStyle.DotLine),
                label=f"target {INTERVAL_LABELS[name].lower()} {seconds / 60:g} min",
                labelOpts={
                    "position": 0.01,
                    "color": c.target,
                    "anchors": [(0, 1), (0, 1)],
                    "fill": _color(c.background, 200),
                },
            )
            p.addItem(line)  # counted in the y range: the target always shows
            self.target_lines[name] = line
        p.setLabel("left", "minutes", color=c.muted)

        # Escalations and backup requests by target, cumulative over the window.
        p = self._plot("escalations", 4, 0, 2, True)
        leg = self._legend(4)
        self.c_esc: list[pg.PlotDataItem] = []
        for k, row in enumerate(ESC_ROWS):
            item = p.plot(pen=pg.mkPen(c.escalations[k], width=LINE))
            leg.addItem(item, ESC_LABELS[row])
            self.c_esc.append(item)
        p.setLabel("left", "count", color=c.muted)

        for key in TIME_PLOTS[1:]:
            self.plots[key].setXLink(self.plots["open_calls"])
        # The first plot keeps its time axis too: a short dock shows that plot whole.
        for key in TIME_PLOTS[1:-1]:
            self.plots[key].hideAxis("bottom")

        # Current utilisation per team.
        p = self._plot("utilization", 5, 0, 1, False)
        # The first and last names may reach past the plot a little rather than vanish.
        p.getAxis("bottom").setStyle(hideOverlappingLabels=False)
        self.bars_util = pg.BarGraphItem(
            x=[0], width=0.7, height=[0], brush=pg.mkBrush(c.team_groups[2]), pen=None
        )
        p.addItem(self.bars_util)
        p.setYRange(0, 100, padding=0.02)
        p.getViewBox().enableAutoRange(axis="y", enable=False)

        # Coverage vs demand by hour of week.
        p = self._plot("coverage", 5, 1, 1, False)
        leg = self._legend(5)
        self.c_staffed = p.plot(pen=pg.mkPen(c.staffed, width=3), stepMode="center")
        self.c_demand = p.plot(pen=pg.mkPen(c.demand, width=2), stepMode="center")
        leg.addItem(self.c_staffed, "Staffed teams (mean)")
        leg.addItem(self.c_demand, "Calls / h (mean)")
        self.bars_ns = pg.BarGraphItem(
            x0=[0], width=[0], height=[0], brush=pg.mkBrush(_color(c.not_served, 150)), pen=None
        )
        p.addItem(self.bars_ns)
        self.bars_ns.setZValue(-1)  # the lines stay readable over the bars
        leg.addItem(self.bars_ns, "Eligible, not served")
        self.leg_coverage = leg
        for _sample, label in leg.items:
            if label.text == "Eligible, not served":
                label.setToolTip(NOT_SERVED_TIP)
        p.getAxis("bottom").setTicks([[(24 * d, DAYS[d]) for d in range(7)], []])
        p.setXRange(0, WEEK_H, padding=0.01)
        p.getViewBox().enableAutoRange(axis="x", enable=False)
        self.widget.ci.layout.setColumnFixedWidth(2, 200)
        self.widget.ci.layout.setRowStretchFactor(5, 2)
        for r in range(5):
            self.widget.ci.layout.setRowStretchFactor(r, 2)

    def lines(self) -> list[pg.PlotDataItem]:
        """Every per-minute curve of the time plots (the team bands are not curves)."""
        out = [self.c_pending, self.c_assigned, self.c_overdue, *self.c_esc]
        for c50, c90 in self.c_intervals.values():
            out += [c50, c90]
        return out

    # -- drawing ---------------------------------------------------------------------------------

    def _x(self, agg: Aggregates) -> np.ndarray:
        key = (id(agg), agg.n)
        if self._x_cache is None or self._x_cache[:2] != key:
            self._x_cache = (key[0], key[1], agg.minute_times())
        return self._x_cache[2]

    @staticmethod
    def first_index(agg: Aggregates, i_now: int) -> int:
        """First sample at or after the earliest record: before it nothing is known."""
        if agg.first_epoch == math.inf:
            return i_now
        return max(0, min(i_now, math.ceil((agg.first_epoch - agg.t0) / MINUTE)))

    @staticmethod
    def now_index(agg: Aggregates, now: datetime) -> int:
        """One past the last sample at or before ``now``."""
        return max(0, min(agg.n, math.floor((now.timestamp() - agg.t0) / MINUTE) + 1))

    def update(
        self,
        agg: Aggregates,
        now: datetime,
        x_lo: float,
        *,
        follow: bool = True,
        window: object = None,
    ) -> None:
        """Redraw from the aggregates: data up to ``now``, the view on ``[x_lo, now]``.

        ``window`` names the window the supervisor chose (a new one redraws everything at
        once); without it, a window of another length counts as a new one.
        """
        for _ in self.update_steps(agg, now, x_lo, follow=follow, window=window):
            pass

    def update_steps(
        self,
        agg: Aggregates,
        now: datetime,
        x_lo: float,
        *,
        follow: bool = True,
        window: object = None,
    ) -> Iterator[None]:
        """:meth:`update` in steps, each one followed by its own repaint: the time plots, then
        the hourly bars, then (when due) the slow views. A fast replay changes all three every
        second; drawn in one go they would hold the GUI thread for one long stall."""
        agg.refresh()
        now_e = now.timestamp()
        # Tick labels in the aggregates' time zone (the one hover and exports speak), not the
        # machine's; the offset of "now" serves the whole window.
        off = now.astimezone(agg.tz).utcoffset()
        west = -int(off.total_seconds()) if off is not None else 0
        for key in TIME_PLOTS:
            axis = self.plots[key].getAxis("bottom")
            if axis.utcOffset != west:
                axis.utcOffset = west
                axis.picture = None
                axis.update()
        i_now = self.now_index(agg, now)
        # Half a window of history before the view (room to pan back) is pushed, not the week:
        # the week feeds the band and the coverage, and setData costs per point.
        span = max(1, math.ceil((now_e - x_lo) / MINUTE))
        i0 = self.first_index(agg, i_now)
        if self.margin_windows is not None:
            i0 = max(i0, i_now - math.ceil((1 + self.margin_windows) * span) - 1)
        x = self._x(agg)[i0:i_now]
        long_view = span > LONG_VIEW_POINTS
        if long_view != self._long:
            self._long = long_view
            for item in self.lines():
                _long_view(item, long_view)
        _set(self.c_pending, x, agg.pending[i0:i_now])
        _set(self.c_assigned, x, agg.assigned[i0:i_now])
        _set(self.c_overdue, x, agg.overdue[i0:i_now])
        x_first = agg.t0 + i0 * MINUTE
        bt = np.array(
            sorted(t for t in agg.breaches.values() if x_first <= t <= now_e), dtype=np.float64
        )
        idx = np.clip(np.ceil((bt - agg.t0) / MINUTE).astype(np.int64), 0, agg.n - 1)
        by = agg.pending[idx].astype(np.float64)
        if not (np.array_equal(bt, self._breach_x) and np.array_equal(by, self._breach_y)):
            self._breach_x, self._breach_y = bt, by
            self.s_breach.setData(bt, by)

        # Filled areas cost per vertex: at most ~FILL_POINTS samples in view, the same samples
        # for every band so the stack stays consistent (hover still reads every minute). The
        # samples count back from now, so the bands always reach it.
        ds = max(1, math.ceil(span / FILL_POINTS))
        pick = np.arange(i_now - i0 - 1, -1, -ds)[::-1]
        cum = np.cumsum(agg.teams[:, i0:i_now][:, pick], axis=0)
        below = np.zeros(len(pick))
        for k, item in enumerate(self.c_teams):
            item.setData(x[pick], below, cum[k])
            below = cum[k]

        for name, (c50, c90) in self.c_intervals.items():
            _set(c50, x, agg.p50[name][i0:i_now] / 60, connect="finite")
            _set(c90, x, agg.p90[name][i0:i_now] / 60, connect="finite")

        i_lo = max(i0, min(i_now, math.floor((x_lo - agg.t0) / MINUTE)))
        esc = np.cumsum(agg.escalations[:, i_lo:i_now], axis=1)
        xe = self._x(agg)[i_lo:i_now]
        for k, item in enumerate(self.c_esc):
            _set(item, xe, esc[k])
        self._drawn = (agg, i0, i_now, i_lo, esc)

        self._updating = True
        try:
            if follow:
                # From the first record, not the window's start: no empty morning before the
                # data (at least half an hour is shown).
                lo = x_lo
                if math.isfinite(agg.first_epoch):
                    lo = max(x_lo, min(agg.first_epoch, now_e - 30 * MINUTE))
                # Whole minutes (the data's own step): the range then moves once a minute,
                # not with every second's redraw, and the axes, the linked views and their
                # tick labels are not laid out again each time (that repaint cost tens of
                # milliseconds of the GUI thread a second).
                lo = math.floor(lo / MINUTE) * MINUTE
                hi = math.floor(now_e / MINUTE) * MINUTE + MINUTE
                vb = self.plots["open_calls"].getViewBox()
                shown = tuple(vb.viewRange()[0])
                if self._follow_range is None or self._follow_range != ((lo, hi), shown):
                    vb.setXRange(lo, hi, padding=0.01)
                    self._follow_range = ((lo, hi), tuple(vb.viewRange()[0]))
        finally:
            self._updating = False
        self._fit_y()
        yield
        self._update_hourly(agg, now_e)

        # The per-hour-of-week and per-team views move slowly: redrawn every few seconds (at
        # once for other aggregates or another window length), not at the timer's rate. A
        # replay at 3600x slides the window an hour a second; that alone does not count.
        slow_key = (id(agg), agg.n, math.floor(now_e / MINUTE), span if window is None else window)
        if slow_key != self._slow_key and (
            self._slow_key is None
            or slow_key[:2] != self._slow_key[:2]
            or slow_key[3] != self._slow_key[3]  # another window was chosen
            or time.monotonic() - self._slow_at >= SLOW_REFRESH_S
        ):
            self._slow_key = slow_key
            self._slow_at = time.monotonic()
            yield
            self._update_slow(agg, now, x_lo)

    def _x_changed(self, *args: object) -> None:
        if not self._updating:
            self._fit_y()  # the supervisor panned: fit what is now in view

    def _fit_y(self) -> None:
        """Each time plot's y range from the data in view, changed only when it must be (a
        new range repaints the axis)."""
        if self._drawn is None:
            return
        agg, i0, i_now, i_lo, esc = self._drawn
        x0, x1 = self.plots["open_calls"].getViewBox().viewRange()[0]
        a = max(i0, math.floor((x0 - agg.t0) / MINUTE))
        b = min(i_now, math.ceil((x1 - agg.t0) / MINUTE) + 1)
        if b <= a:
            return
        self._set_top("open_calls", max(agg.pending[a:b].max(), agg.assigned[a:b].max()))
        self._set_top("teams", agg.teams[:, a:b].sum(axis=0).max())
        tops = [s / 60 for s in self.targets.values()]
        for name in ROLLING:
            p90 = agg.p90[name][a:b]
            if np.isfinite(p90).any():
                tops.append(float(np.nanmax(p90)) / 60)
        self._set_top("intervals", max(tops, default=0.0))
        e = min(b, i_now) - 1 - i_lo  # cumulative counts: the last column in view is the most
        self._set_top("escalations", esc[:, e].max() if 0 <= e < esc.shape[1] else 0)
        ha = max(0, math.floor((x0 - agg.h0) / HOUR))
        hb = min(agg.nh, math.ceil((x1 - agg.h0) / HOUR) + 1)
        hourly = 0.0
        if hb > ha:
            hourly = float(agg.calls_hourly[:, ha:hb].sum(axis=0).max())
            band = agg.calls_band()[2][ha:hb]
            if np.isfinite(band).any():
                hourly = max(hourly, float(np.nanmax(band)))
        self._set_top("calls_hourly", hourly)

    def _set_top(self, key: str, v: float) -> None:
        v = float(v)
        old = self._tops.get(key)
        new = nice_top(v)
        if old is not None and v * 1.02 <= old <= 2 * new:
            return  # still fits, and not far too tall
        self._tops[key] = new
        self.plots[key].setYRange(0, new, padding=0)

    def _update_slow(self, agg: Aggregates, now: datetime, x_lo: float) -> None:
        lo_dt = datetime.fromtimestamp(max(x_lo, agg.t0), UTC)
        util = agg.team_utilization(lo_dt, now)
        teams = sorted(util, key=_natural)
        if teams:
            self.bars_util.setOpts(
                x=np.arange(len(teams), dtype=np.float64),
                height=np.array([util[t] * 100 for t in teams]),
                width=0.7,
            )
            self.bars_util.setVisible(True)
        else:
            self.bars_util.setVisible(False)
        # Every team's name where they fit, every n-th where they would overlap (hover and the
        # CSV export name them all).
        width = max(1.0, self.plots["utilization"].getViewBox().width())
        step = max(1, math.ceil(len(teams) * UTIL_LABEL_PX / width))
        ticks = [(k, t) for k, t in enumerate(teams) if k % step == 0]
        self.plots["utilization"].getAxis("bottom").setTicks([ticks, []])
        self.plots["utilization"].setXRange(-0.6, max(len(teams), 1) - 0.4, padding=0)

        staffed, demand = agg.coverage(agg.start, now)
        edges = np.arange(WEEK_H + 1, dtype=np.float64)
        self.c_staffed.setData(edges, staffed, connect="finite")
        self.c_demand.setData(edges, demand, connect="finite")
        ns = agg.not_served_by_hour_of_week(agg.start, now)
        self.bars_ns.setOpts(
            x0=np.arange(WEEK_H) + 0.15, width=np.full(WEEK_H, 0.7), height=ns.astype(float)
        )

    def _update_hourly(self, agg: Aggregates, now_e: float) -> None:
        hx = agg.hour_times()
        j0 = HISTORY_WEEKS * WEEK_H  # the span's own hours start after the 4 weeks of history
        if agg.first_epoch < math.inf:
            j0 = max(j0, math.floor((agg.first_epoch - agg.h0) / HOUR))
        j1 = max(j0, min(agg.nh, math.floor((now_e - agg.h0) / HOUR) + 1))
        counts = agg.calls_hourly[:, j0:j1]
        key = (id(agg), j0, j1, agg.first_epoch)
        if key == self._hourly_key and np.array_equal(counts, self._hourly_counts):
            return  # a new call changes its hour's bar; other events leave the bars alone
        self._hourly_key = key
        self._hourly_counts = counts.copy()
        base = np.zeros(j1 - j0)
        x0 = hx[j0:j1] + 0.08 * HOUR
        shown = []
        for k, bar in enumerate(self.bars_types):
            h = counts[k].astype(np.float64)
            if j1 > j0 and h.any():
                bar.setOpts(x0=x0, width=np.full(j1 - j0, 0.84 * HOUR), y0=base.copy(), height=h)
                bar.setVisible(True)
                shown.append(k)
            else:
                bar.setVisible(False)
            base += h
        if tuple(shown) != self._types_shown:
            self._types_shown = tuple(shown)
            self.leg_types.clear()
            for k in shown:
                self.leg_types.addItem(self.bars_types[k], SHORT_TYPE_LABELS[CALL_TYPES[k]])
            self.leg_types.addItem(self.c_band_mean, "4-week mean")
        lo, mean, hi = agg.calls_band()
        edges = np.append(hx[j0:j1], hx[j1 - 1] + HOUR) if j1 > j0 else np.zeros(1)
        for item, arr in ((self.c_band_lo, lo), (self.c_band_hi, hi), (self.c_band_mean, mean)):
            item.setData(edges, arr[j0:j1], connect="finite")

    def set_hover(self, epoch: float | None) -> None:
        for vl in self.vlines.values():
            if epoch is None:
                vl.setVisible(False)
            else:
                vl.setPos(epoch)
                vl.setVisible(True)

    def set_title(self, key: str, text: str) -> None:
        self.plots[key].setTitle(
            text, color=self.colors.text, size=f"{self.font.pointSize() + 1}pt"
        )


# -- what the plots show, as text and tables ---------------------------------------------------


def _at(agg: Aggregates, epoch: float) -> int | None:
    m = round((epoch - agg.t0) / MINUTE)
    return m if 0 <= m < agg.n else None


def hover_text(key: str, agg: Aggregates, epoch: float, x_lo: float) -> str:
    """The exact values under the cursor, for a plot's title line."""
    t = datetime.fromtimestamp(epoch, agg.tz)
    m = _at(agg, epoch)
    if m is None:
        return TITLES[key]
    when = t.strftime("%a %H:%M")
    if key == "open_calls":
        return (
            f"Open calls at {when}: pending {agg.pending[m]} · assigned {agg.assigned[m]}"
            f" · past limit {agg.overdue[m]}"
        )
    if key == "teams":
        parts = [f"{GROUP_LABELS[g].lower()} {agg.teams[k, m]}" for k, g in enumerate(TEAM_GROUPS)]
        return f"Teams at {when}: " + " · ".join(parts)
    if key == "calls_hourly":
        h = math.floor((epoch - agg.h0) / HOUR)
        if not 0 <= h < agg.nh:
            return TITLES[key]
        col = agg.calls_hourly[:, h]
        start = datetime.fromtimestamp(agg.h0 + h * HOUR, agg.tz)
        lo, mean, hi = (a[h] for a in agg.calls_band())
        top = [
            f"{CALL_TYPE_LABELS[CALL_TYPES[k]].lower()} {int(col[k])}"
            for k in np.argsort(-col)[:3]
            if col[k]
        ]
        prev = (
            f" · previous 4 weeks {lo:g}–{hi:g} (mean {mean:.1f})" if not math.isnan(mean) else ""
        )
        return (
            f"Calls {start.strftime('%a %H:00')}–{(start.hour + 1) % 24:02d}:00: "
            f"{int(col.sum())}" + (f" ({', '.join(top)})" if top else "") + prev
        )
    if key == "intervals":
        parts = [
            f"{INTERVAL_LABELS[n]} p50 {_minutes(agg.p50[n][m])} / p90 {_minutes(agg.p90[n][m])}"
            for n in ROLLING
        ]
        return f"{when} (last {agg.rolling_minutes} min): " + " · ".join(parts)
    if key == "escalations":
        i_lo = max(0, min(m, math.floor((x_lo - agg.t0) / MINUTE)))
        tot = agg.escalations[:, i_lo : m + 1].sum(axis=1)
        parts = [f"{ESC_LABELS[r].lower()} {int(tot[k])}" for k, r in enumerate(ESC_ROWS)]
        return f"Since window start to {when}: " + " · ".join(parts)
    return TITLES[key]


def plot_table(
    key: str, agg: Aggregates, now: datetime, x_lo: float
) -> tuple[list[str], list[Sequence[object]]]:
    """The data behind one plot, as drawn: a header and rows (for CSV export)."""
    agg.refresh()
    i_now = PlotSet.now_index(agg, now)
    i_lo = max(0, min(i_now, math.ceil((x_lo - agg.t0) / MINUTE)))
    tz = agg.tz

    def iso(e: float) -> str:
        return datetime.fromtimestamp(e, tz).isoformat()

    x = agg.minute_times()
    rows: list[Sequence[object]] = []
    if key == "open_calls":
        header = ["time", "pending", "assigned", "pending_past_limit"]
        for m in range(i_lo, i_now):
            rows.append([iso(x[m]), int(agg.pending[m]), int(agg.assigned[m]), int(agg.overdue[m])])
    elif key == "teams":
        header = ["time", *TEAM_GROUPS, "staffed"]
        for m in range(i_lo, i_now):
            col = [int(v) for v in agg.teams[:, m]]
            rows.append([iso(x[m]), *col, sum(col)])
    elif key == "calls_hourly":
        header = [
            "hour_start",
            *(t.value for t in CALL_TYPES),
            "total",
            "prev4w_min",
            "prev4w_mean",
            "prev4w_max",
        ]
        lo, mean, hi = agg.calls_band()
        h_lo = max(0, math.floor((max(x_lo, agg.t0) - agg.h0) / HOUR))
        h_hi = min(agg.nh, math.floor((now.timestamp() - agg.h0) / HOUR) + 1)
        for h in range(h_lo, h_hi):
            col = [int(v) for v in agg.calls_hourly[:, h]]
            band = ["" if math.isnan(a[h]) else round(float(a[h]), 3) for a in (lo, mean, hi)]
            rows.append([iso(agg.h0 + h * HOUR), *col, sum(col), *band])
    elif key == "intervals":
        header = ["time"]
        for n in ROLLING:
            header += [f"{n}_p50_s", f"{n}_p90_s"]
        for m in range(i_lo, i_now):
            row: list[object] = [iso(x[m])]
            for n in ROLLING:
                for arr in (agg.p50[n], agg.p90[n]):
                    row.append("" if math.isnan(arr[m]) else round(float(arr[m]), 3))
            rows.append(row)
    elif key == "escalations":
        header = ["time", *ESC_ROWS]
        cum = np.cumsum(agg.escalations[:, i_lo:i_now], axis=1)
        for j, m in enumerate(range(i_lo, i_now)):
            rows.append([iso(x[m]), *(int(v) for v in cum[:, j])])
    elif key == "utilization":
        header = ["team", "utilization"]
        lo_dt = datetime.fromtimestamp(max(x_lo, agg.t0), UTC)
        util = agg.team_utilization(lo_dt, now)
        rows = [[t, util[t]] for t in sorted(util)]
    elif key == "coverage":
        header = [
            "hour_of_week",
            "day",
            "hour",
            "staffed_mean",
            "calls_mean",
            "eligible_not_served",
        ]
        staffed, demand = agg.coverage(agg.start, now)
        ns = agg.not_served_by_hour_of_week(agg.start, now)
        for h in range(WEEK_H):
            rows.append(
                [
                    h,
                    DAYS[h // 24],
                    h % 24,
                    "" if math.isnan(staffed[h]) else round(float(staffed[h]), 3),
                    "" if math.isnan(demand[h]) else round(float(demand[h]), 3),
                    int(ns[h]),
                ]
            )
    else:
        raise ValueError(f"no plot named {key!r} (known: {', '.join(PLOTS)})")
    return header, rows
