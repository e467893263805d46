"""The workload dock: live plots of the program's load on one shared time axis.

Data arrival is decoupled from redraw: each picture updates the aggregates incrementally (a few
numpy slice additions per changed record), and a fixed-rate timer redraws only when the
aggregates or the minute moved. The first build of the aggregates (a query over the last week)
runs on a worker thread; the GUI thread never runs a long query.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.model import Team
from console.domain.projection import State
from console.store import Changes
from console.store.read.aggregates import Aggregates
from console.ui.core.elided import ElidedLabel
from console.ui.core.pacer import Pacer, default_pacer
from console.ui.core.picture import merge_changes
from console.ui.plots.colors import plot_colors
from console.ui.plots.export import ExportError, export_plot_csv, export_plot_png, export_summary
from console.ui.plots.plotset import (
    NOT_SERVED_TIP,
    PLOTS,
    TIME_PLOTS,
    TITLES,
    PlotSet,
    hover_text,
)

log = logging.getLogger(__name__)

_DONE = object()

WINDOWS: tuple[tuple[str, str], ...] = (
    ("last_2h", "Last 2 h"),
    ("shift", "This shift"),
    ("24h", "24 h"),
)
SHIFT_START_HOURS = (7, 19)
"""Local hours the program's 12-hour shifts start at ("this shift")."""
HISTORY = timedelta(days=7)
REDRAW_HZ = 1.0
"""Live redraws a second: the plots have one-minute resolution, and each redraw repaints them."""
APPLY_CHUNK = 40
"""Calls folded into the aggregates per turn of the event loop: a replay at 3600x changes
hundreds between two pictures, which in one go would hold the GUI thread for a tenth of a
second or more."""
CATCH_UP_EVENTS = 200
"""A picture this many events past the last one (a catch-up after an outage) triggers a rebuild."""
AHEAD = timedelta(days=1)
REBUILD_AHEAD = timedelta(hours=1)
MIN_ROW_HEIGHT = 140
MIN_PLOT_WIDTH = 440
"""Room preallocated past now, so the live edge rarely needs the arrays re-laid."""


def shift_start(now: datetime, tz: tzinfo, hours: tuple[int, ...] = SHIFT_START_HOURS) -> datetime:
    """The start of the shift ``now`` falls in (the latest shift start at or before it)."""
    local = now.astimezone(tz)
    best: datetime | None = None
    for back in (0, 1):
        day = (local - timedelta(days=back)).date()
        for h in hours:
            cand = datetime(day.year, day.month, day.day, h, tzinfo=tz)
            if cand <= local and (best is None or cand > best):
                best = cand
    return best or local - timedelta(hours=12)


class WorkloadPanel(QWidget):
    """Plots of open calls, team status, calls per hour, intervals, escalations, coverage."""

    loaded = Signal()
    """The aggregates are built and drawn for the first time."""
    redrawn = Signal()
    time_clicked = Signal(object, list)
    """(datetime, call ids open at that moment) when a time plot is clicked."""

    def __init__(
        self,
        ctx: Any,
        parent: QWidget | None = None,
        *,
        tz: tzinfo | None = None,
        history: timedelta = HISTORY,
        redraw_hz: float = REDRAW_HZ,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workloadPanel")
        self.ctx = ctx
        self.tz: tzinfo = tz or datetime.now().astimezone().tzinfo or datetime.now().tzinfo  # type: ignore[assignment]
        self.history = history
        cfg = ctx.config
        self.thresholds = cfg.thresholds
        self.targets: dict[str, float] = dict(getattr(cfg, "targets", {}) or {})
        self.colors = plot_colors(getattr(cfg, "theme", None))
        self.agg: Aggregates | None = None
        self._picture = ctx.pictures.current()
        self._now: datetime = self._picture.now
        self._window = "shift"
        self._follow = True
        self._loaded_pending = False
        self._load_picture: Any = None
        """The picture a rebuild started from, and what the pictures since have changed."""
        self._load_changes: Changes | None = Changes()
        self._load_teams: list[Team] = []
        """Team records the pictures carried while a rebuild ran: folded into its result."""
        self._drawn: tuple[int, int, str, int] | None = None
        self._loading = False
        self._hover: float | None = None
        self._seq = self._picture.seq
        self._resync = False
        self._todo: Changes | None = Changes()
        """What the pictures since the last fold changed (None: anything may have)."""
        self._todo_state: State | None = None
        self._todo_prune = False
        self._partial = False
        """A fold is half done: the aggregates match no picture yet, so nothing is drawn."""
        self._draw_after_fold = False
        self.redraws = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(QLabel("Window:"))
        self.window_box = QComboBox(self)
        for key, label in WINDOWS:
            self.window_box.addItem(label, key)
        self.window_box.setCurrentIndex([k for k, _ in WINDOWS].index(self._window))
        self.window_box.setToolTip("Time span shown on the shared time axis")
        self.window_box.currentIndexChanged.connect(self._window_changed)
        bar.addWidget(self.window_box)
        # A long status line ends in "…" rather than widen the dock (the window's other panels
        # would lose the room); its tooltip has the whole line (_say).
        self.status = ElidedLabel("Loading workload history…", self)
        self.status.setToolTip(self.status.full_text())
        bar.addWidget(self.status, 1)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.act_summary = QAction("Shift summary (PDF or PNG)…", self)
        self.act_summary.triggered.connect(self._ask_summary)
        menu.addAction(self.act_summary)
        menu.addSeparator()
        for key in PLOTS:
            sub = menu.addMenu(TITLES[key].split(" (")[0].split(",")[0])
            a_png = sub.addAction("Image (PNG)…")
            a_png.triggered.connect(lambda _=False, k=key: self._ask_plot(k, "png"))
            a_csv = sub.addAction("Data (CSV)…")
            a_csv.triggered.connect(lambda _=False, k=key: self._ask_plot(k, "csv"))
        self.export_button.setMenu(menu)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)

        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self._build_plots()
        layout.addWidget(self.scroller, 1)
        # Ctrl+5 (the window's "go to workload") lands on the plots: the arrows and Page Up /
        # Page Down scroll them; Tab reaches the window and export controls.
        self.setFocusProxy(self.scroller)

        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        self.timer = QTimer(self)
        self.timer.setInterval(max(250, int(1000 / max(redraw_hz, 0.1))))
        self.timer.timeout.connect(self._on_timer)
        self.timer.start()
        self.reload()

    def _say(self, text: str, tip: str | None = None) -> None:
        """``text`` on the status line (cut with "…" in a narrow dock), whole in its tooltip
        with ``tip`` below it."""
        self.status.set_full_text(text)
        self.status.setToolTip(text if tip is None else f"{text}\n\n{tip}")

    def _build_plots(self) -> None:
        """The plots, in this panel's colours (built again when the theme changes)."""
        self.plotset = PlotSet(self.colors, self.targets)
        # A docked panel is often short: below a readable height per plot it scrolls rather
        # than squeezing seven plots into slivers.
        self.plotset.widget.setMinimumSize(MIN_PLOT_WIDTH, MIN_ROW_HEIGHT * 6)
        old = self.scroller.takeWidget()
        self.scroller.setWidget(self.plotset.widget)
        if old is not None:
            old.deleteLater()
        scene = self.plotset.widget.scene()
        scene.sigMouseMoved.connect(self._mouse_moved)
        scene.sigMouseClicked.connect(self._mouse_clicked)
        self.plotset.plots["open_calls"].getViewBox().sigRangeChangedManually.connect(
            self._user_panned
        )

    def set_theme(self, name: str) -> None:
        """The plots follow the window's theme: built again in its colours and redrawn."""
        colors = plot_colors(name)
        if colors == self.colors:
            return
        self.colors = colors
        self._build_plots()
        self._drawn = None
        if self.agg is not None and not self._partial:
            self._start_redraw()

    # -- the aggregates --------------------------------------------------------------------------

    def _tasks(self) -> Any:
        tasks = getattr(self.ctx, "tasks", None)
        if tasks is None:
            from console.ui.core.tasks import default_tasks

            tasks = default_tasks()
        return tasks

    def _pacer(self) -> Pacer:
        pacer: Pacer | None = getattr(self.ctx, "pacer", None)
        return pacer or default_pacer()

    def _later(self, fn: Any) -> None:
        self._pacer().schedule(fn, fn)

    def _replay_end(self) -> datetime | None:
        """The last moment of the shift being replayed (None live)."""
        end = getattr(getattr(self.ctx.pictures, "engine", None), "end", None)
        return end if isinstance(end, datetime) else None

    def reload(self) -> None:
        """Rebuild the aggregates off the GUI thread: from the store, or from the picture."""
        pic = self.ctx.pictures.current()
        now = max(pic.now, self._now)  # the tick may have carried the clock past the picture
        start = now - self.history
        end = now + AHEAD
        replay_end = self._replay_end()
        if replay_end is not None:
            # To the replay's last moment at once: playing it never needs a rebuild, which at
            # 3600x would hold the interpreter for a second while the GUI thread waits.
            end = max(end, replay_end + REBUILD_AHEAD)
        kw = {"thresholds": self.thresholds, "tz": self.tz}
        store = self.ctx.store
        state = pic.state  # read-only, a fresh object per picture: safe off the GUI thread
        if store is not None and not getattr(self.ctx, "replay", False):
            prune = not pic.live

            def build() -> Aggregates:
                agg = Aggregates.from_store(store, start, end, **kw)
                # The picture of the moment too, here rather than on the GUI thread: a week's
                # calls take 10-20 ms just to compare.
                agg.apply(state, None, prune=prune)
                return agg

        else:

            def build() -> Aggregates:
                return Aggregates.from_state(state, start, end, **kw)

        self._load_picture = pic
        self._load_changes = Changes()
        self._load_teams = []
        self._loading = True
        self._resync = False
        self._tasks().run(build, self._loaded, self._load_failed)

    def _loaded(self, agg: Aggregates) -> None:
        # The worker folded in the picture it started from; what the pictures since changed is
        # folded here (everything, if one of them did not say). Drawing is the next turn's work.
        agg.extend(self._now + REBUILD_AHEAD)
        for t in self._load_teams:
            agg.apply_team(t)
        self._load_teams = []
        if self._picture is not self._load_picture:
            agg.apply(self._picture.state, self._load_changes, prune=not self._picture.live)
        agg.refresh()
        self.agg = agg
        self._todo, self._todo_state, self._partial = Changes(), None, False
        self._loading = False
        self._drawn = None
        self._later(self._draw_loaded)

    def _draw_loaded(self) -> None:
        # New aggregates redraw every plot: in steps, like the timer's redraw (in one go it
        # held the GUI thread for 40-60 ms with a week of history). Loaded once drawn.
        self._loaded_pending = True
        self._start_redraw()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        log.error("workload history could not be loaded: %s", exc)
        self._say(f"Workload history could not be loaded: {exc}")

    def _on_picture(self, picture: Any, changes: Any) -> None:
        back = picture.now < self._now - timedelta(minutes=1)
        if picture.seq and self._seq and picture.seq - self._seq > CATCH_UP_EVENTS:
            self._resync = True
        self._seq = picture.seq or self._seq
        self._picture = picture
        if self._loading:
            self._load_changes = merge_changes(self._load_changes, changes)
            self._load_teams.extend(picture.team_records)
        self._now = picture.now
        agg = self.agg
        if agg is None:
            return
        if back and not picture.live:  # replay sought backwards: the history is rebuilt
            self.reload()
            return
        self._make_room(agg)
        # Teams now: a picture holds each team's latest record only, and the history plots need
        # every status in between. Calls and alerts are complete records: they are folded on
        # later turns of the event loop, in chunks, from the latest picture.
        # A live picture also carries every team record since the one before, in log order:
        # the history grows in place, statuses in between included (no rebuild from the store).
        for t in picture.team_records:
            agg.apply_team(t)
        if changes is not None and changes.teams:
            agg.apply(picture.state, Changes(teams=changes.teams), prune=False)
        later = None if changes is None else Changes(calls=changes.calls, alerts=changes.alerts)
        self._todo = merge_changes(self._todo, later)
        self._todo_state, self._todo_prune = picture.state, not picture.live
        if not self._pacer().running((self, "fold")):
            self._pacer().run_steps((self, "fold"), self._fold_steps())

    def _fold_steps(self) -> Iterator[None]:
        """Fold what the pictures changed into the aggregates, a chunk of calls per step. Each
        step reads the latest picture's state and changes: pictures that arrive meanwhile
        merge into what is left."""
        while True:
            agg, state, todo = self.agg, self._todo_state, self._todo
            if agg is None or state is None:
                return
            if todo is None or len(todo.calls) <= APPLY_CHUNK:
                agg.apply(state, todo, prune=self._todo_prune)
                self._todo, self._todo_state, self._partial = Changes(), None, False
                if self._draw_after_fold:
                    self._draw_after_fold = False
                    self._later(self._on_timer)
                return
            chunk = frozenset(itertools.islice(todo.calls, APPLY_CHUNK))
            agg.apply(state, Changes(calls=chunk, alerts=todo.alerts))
            self._todo = Changes(calls=todo.calls - chunk)  # the alerts went with the first
            self._partial = True
            yield

    def _on_tick(self, now: datetime) -> None:
        if now >= self._now:
            self._now = now
            if self.agg is not None:
                self._make_room(self.agg)

    def _make_room(self, agg: Aggregates) -> None:
        """Keep the arrays ahead of the clock: the span slides by a rebuild on the worker well
        before its end (from the store live, so the week's history moves with it; from the
        picture in a replay). Only if the rebuild falls behind do the arrays grow here."""
        replay = self.ctx.store is None or getattr(self.ctx, "replay", False)
        replay_end = self._replay_end()
        if replay_end is not None and agg.end > replay_end:
            return  # the clock stops at the replay's end: the arrays already reach it
        # A replay at 3600x crosses an hour a second: it starts the rebuild half a day ahead.
        if self._now + (AHEAD / 2 if replay else 2 * REBUILD_AHEAD) < agg.end:
            return
        if not self._loading:
            self.reload()
        if self._now + REBUILD_AHEAD < agg.end:
            return
        agg.extend(self._now + REBUILD_AHEAD)  # the rebuild fell behind: grow here, at once

    # -- drawing ---------------------------------------------------------------------------------

    @property
    def window_key(self) -> str:
        return self._window

    def set_window(self, key: str) -> None:
        keys = [k for k, _ in WINDOWS]
        if key not in keys:
            raise ValueError(f"unknown window {key!r} (expected one of {', '.join(keys)})")
        self.window_box.setCurrentIndex(keys.index(key))

    def _window_changed(self, index: int) -> None:
        self._window = str(self.window_box.itemData(index))
        self._follow = True
        self._drawn = None
        self.redraw()

    def _user_panned(self, *args: Any) -> None:
        self._follow = False

    def window_start(self) -> datetime:
        if self._window == "last_2h":
            return self._now - timedelta(hours=2)
        if self._window == "24h":
            return self._now - timedelta(hours=24)
        return shift_start(self._now, self.tz)

    def window_label(self) -> str:
        return dict(WINDOWS)[self._window]

    def _on_timer(self) -> None:
        if self._todo_state is not None:
            # Draw the latest picture, not the one before it: a small fold happens first, a
            # large one draws on the turn after its last chunk (never in the same turn).
            todo = self._todo
            if todo is not None and len(todo.calls) <= APPLY_CHUNK:
                self._pacer().cancel((self, "fold"))
                for _ in self._fold_steps():
                    pass  # a small fold: one step
            else:
                self._draw_after_fold = True
                return
        agg = self.agg
        if agg is None or self._partial:
            return
        if (
            not self._loading
            and self.ctx.store is not None
            and not getattr(self.ctx, "replay", False)
            and self._resync
        ):
            self.reload()  # the current aggregates keep drawing until the new ones arrive
        agg.refresh()
        key = (id(agg), agg.version, self._window, math.floor(self._now.timestamp() / 60))
        if key != self._drawn:
            self._start_redraw()

    def redraw(self) -> None:
        """Push the aggregates into the plots now, in one go (tests, bench, a new window)."""
        self._pacer().cancel((self, "redraw"))
        for _ in self._redraw_steps():
            pass

    def _start_redraw(self) -> None:
        """The timer's redraw: its steps on successive turns, each with its own repaint."""
        self._pacer().cancel((self, "redraw"))
        steps = self._redraw_steps()
        if next(steps, _DONE) is not _DONE:  # the first step now, the rest on later turns
            self._pacer().run_steps((self, "redraw"), steps)

    def _redraw_steps(self) -> Iterator[None]:
        agg = self.agg
        if agg is None:
            return
        x_lo = self.window_start().timestamp()
        self._drawn = (id(agg), agg.version, self._window, math.floor(self._now.timestamp() / 60))
        yield from self.plotset.update_steps(
            agg, self._now, x_lo, follow=self._follow, window=self._window
        )
        ns = agg.not_served_count(self.window_start(), self._now)
        open_now = self.plotset.now_index(agg, self._now) - 1
        pend = int(agg.pending[open_now]) if open_now >= 0 else 0
        asg = int(agg.assigned[open_now]) if open_now >= 0 else 0
        late = int(agg.overdue[open_now]) if open_now >= 0 else 0
        self._say(
            f"Now: {pend} pending ({late} past limit) · {asg} assigned   ·   eligible calls not"
            f" served by a team ({self.window_label().lower()}): {ns}",
            NOT_SERVED_TIP,
        )
        if self._hover is not None:
            self._show_hover(self._hover)
        self.redraws += 1
        self.redrawn.emit()
        if self._loaded_pending:
            self._loaded_pending = False
            self.loaded.emit()

    # -- hover and click -------------------------------------------------------------------------

    def _time_plot_at(self, pos: QPointF) -> str | None:
        for key in TIME_PLOTS:
            if self.plotset.plots[key].sceneBoundingRect().contains(pos):
                return key
        return None

    def _mouse_moved(self, pos: QPointF) -> None:
        key = self._time_plot_at(pos)
        if key is None or self.agg is None:
            if self._hover is not None:
                self._hover = None
                self.plotset.set_hover(None)
                for k in TIME_PLOTS:
                    self.plotset.set_title(k, TITLES[k])
            return
        x = self.plotset.plots[key].getViewBox().mapSceneToView(pos).x()
        self._show_hover(x)

    def _show_hover(self, epoch: float) -> None:
        """Show the exact values at ``epoch`` in every time plot's title line."""
        agg = self.agg
        if agg is None:
            return
        self._hover = epoch
        self.plotset.set_hover(epoch)
        x_lo = self.window_start().timestamp()
        for key in TIME_PLOTS:
            self.plotset.set_title(key, hover_text(key, agg, epoch, x_lo))

    def hover_at(self, t: datetime) -> dict[str, str]:
        """Hover at ``t`` (as the mouse would) and return each time plot's title text."""
        self._show_hover(t.timestamp())
        return {k: self.plotset.plots[k].titleLabel.text for k in TIME_PLOTS}

    def _mouse_clicked(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.agg is None:
            return
        pos = ev.scenePos()
        key = self._time_plot_at(pos)
        if key is None:
            return
        x = self.plotset.plots[key].getViewBox().mapSceneToView(pos).x()
        self.select_at(datetime.fromtimestamp(x, self.tz))

    def select_at(self, t: datetime) -> list[str]:
        """Select the calls open at the minute nearest ``t`` (pending or with a team)."""
        agg = self.agg
        if agg is None:
            return []
        minute = datetime.fromtimestamp(round(t.timestamp() / 60) * 60, self.tz)
        ids = agg.calls_open_at(minute)
        self.ctx.selection.select_calls(ids)
        self.time_clicked.emit(minute, ids)
        return ids

    # -- exports ---------------------------------------------------------------------------------

    def export_plot_png(self, key: str, path: str | Path) -> Path:
        self._need(key)
        return export_plot_png(self.plotset.plots[key], path)

    def export_plot_csv(self, key: str, path: str | Path) -> Path:
        self._need(key)
        assert self.agg is not None
        return export_plot_csv(key, self.agg, self._now, self.window_start().timestamp(), path)

    def export_summary(self, path: str | Path) -> Path:
        """One page (PDF if ``path`` ends in .pdf, else PNG) a programme manager can mail."""
        if self.agg is None:
            raise ExportError("the workload history is still loading; try again in a moment")
        return export_summary(
            path,
            self.agg,
            self._now,
            self.window_start().timestamp(),
            self.colors,
            self.targets,
            self.window_label(),
        )

    def _need(self, key: str) -> None:
        if key not in PLOTS:
            raise ValueError(f"no plot named {key!r} (known: {', '.join(PLOTS)})")
        if self.agg is None:
            raise ExportError("the workload history is still loading; try again in a moment")

    def _ask_plot(self, key: str, kind: str) -> None:
        stamp = self._now.astimezone(self.tz).strftime("%Y%m%d-%H%M")
        name = f"workload-{key}-{stamp}.{kind}"
        filt = "PNG image (*.png)" if kind == "png" else "CSV data (*.csv)"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {TITLES[key]}", name, filt)
        if not path:
            return
        try:
            out = (
                self.export_plot_png(key, path)
                if kind == "png"
                else self.export_plot_csv(key, path)
            )
        except (ExportError, ValueError) as exc:
            self._export_failed(exc)
            return
        self._say(f"Saved {out}")

    def _export_failed(self, exc: BaseException) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Export failed", str(exc), parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    def _ask_summary(self) -> None:
        stamp = self._now.astimezone(self.tz).strftime("%Y%m%d-%H%M")
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export shift summary",
            f"workload-summary-{stamp}.pdf",
            "PDF document (*.pdf);;PNG image (*.png)",
        )
        if not path:
            return
        try:
            out = self.export_summary(path)
        except ExportError as exc:
            self._export_failed(exc)
            return
        self._say(f"Saved {out}")

    def closeEvent(self, event: Any) -> None:
        self.timer.stop()
        super().closeEvent(event)


__all__ = ["WINDOWS", "WorkloadPanel", "shift_start"]
