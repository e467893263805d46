"""The map panel: the live MapView, fed each picture, tied to the shared selection."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QToolBar, QVBoxLayout, QWidget

from console.domain.rules import Thresholds
from console.store import Changes
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture

log = logging.getLogger(__name__)


class MapPanel(QWidget):
    """Wraps :class:`console.ui.map.view.MapView`: pushes every picture (the view sends only
    the markers that changed), map clicks select, selection highlights."""

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("mapPanel")
        self.thresholds: Thresholds = ctx.config.thresholds
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        self.toolbar = QToolBar("Map", self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.act_fit = QAction("Fit all", self)
        self.act_fit.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.act_fit.setToolTip("Show every team and open call (Ctrl+Shift+F)")
        self.act_follow = QAction("Follow team", self)
        self.act_follow.setCheckable(True)
        self.act_follow.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.act_follow.setToolTip("Keep the selected team in view as it moves (Ctrl+Shift+T)")
        self.act_zoom_call = QAction("Zoom to call", self)
        self.act_zoom_call.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.act_zoom_call.setToolTip("Zoom to the selected call (Ctrl+Shift+Z)")
        for a in (self.act_fit, self.act_follow, self.act_zoom_call):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.toolbar.addAction(a)
        layout.addWidget(self.toolbar)

        self.view: QWidget
        try:
            from console.ui.map.view import MapView

            m = ctx.config.map
            self.view = MapView(
                self,
                basemap=m.basemap,
                tile_attribution=m.tile_attribution,
                overlays=[(o.name, o.path) for o in m.overlays],
                center=m.center,
                zoom=m.zoom,
                dark=ctx.config.theme == "dark",
            )
        except Exception as exc:  # QtWebEngine missing or broken: the rest of the console works
            log.error("the map cannot be shown: %s", exc)
            self.view = QLabel(f"The map cannot be shown here: {exc}", self)
            self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.view.setWordWrap(True)
        layout.addWidget(self.view, 1)
        self.setFocusProxy(self.view)

        self.act_fit.triggered.connect(self.fit_all)
        self.act_follow.toggled.connect(self._follow_toggled)
        self.act_zoom_call.triggered.connect(self.zoom_to_selected_call)
        mv = self.map_view
        if mv is not None:
            mv.call_clicked.connect(ctx.selection.select_call)
            mv.team_clicked.connect(ctx.selection.select_team)
            mv.follow_stopped.connect(lambda: self.act_follow.setChecked(False))
            mv.ready.connect(self._on_ready)
            mv.applied.connect(self._on_applied)
        ctx.selection.call_selected.connect(self._on_call_selected)
        ctx.selection.team_selected.connect(self._on_team_selected)
        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        self._fitted = False
        self._pending: Picture | None = None
        self._dest_statuses: Any = None
        self._push(ctx.pictures.current())
        self._push_destinations()

    @property
    def map_view(self):  # type: ignore[no-untyped-def]
        from console.ui.map.view import MapView

        return self.view if isinstance(self.view, MapView) else None

    def _push(self, picture: Picture) -> int:
        mv = self.map_view
        if mv is None:
            return 0
        st = picture.state
        return int(
            mv.update_picture(
                st.calls.values(),
                st.teams.values(),
                st.positions,
                picture.now,
                self.thresholds,
            )
        )

    def _push_destinations(self) -> None:
        """The destination layer: open, closing soon or closed now, with the capacity figure."""
        mv = self.map_view
        ds = getattr(self.ctx.config, "destinations", None)
        if mv is None or not ds:
            return
        from console.ui.destinations.layer import layer_items

        pic = self.ctx.pictures.current()
        if self._dest_statuses is None:
            from console.domain.destinations import StatusCache

            self._dest_statuses = StatusCache()
        mv.set_destinations(layer_items(ds, pic.state.destinations, pic.now, self._dest_statuses))

    def _on_picture(self, picture: Picture, changes: Changes | None) -> None:
        if changes is None or changes.destinations:
            self.ctx.later(self._push_destinations, self._push_destinations)
        if changes is not None and not (changes.calls or changes.teams or changes.positions):
            return
        # Next turn of the event loop (see the queue panel): the map's diff is its own slice.
        self._pending = picture
        self.ctx.later(self._apply_pending, self._apply_pending)

    def _apply_pending(self) -> None:
        picture, self._pending = self._pending, None
        if picture is not None:
            self._push(picture)

    def _on_ready(self) -> None:
        self._fitted = False  # a (re)loaded page fits again once it shows the markers

    def _on_applied(self, _seq: int) -> None:
        # Open on the whole picture once the page shows it; afterwards the supervisor decides.
        mv = self.map_view
        if not self._fitted and mv is not None and mv._shown:
            self._fitted = True
            mv.fit_all()

    _tick_count = 0

    def _on_tick(self, now: object) -> None:
        # Ages and staleness on the markers move with time; every 10 s is plenty for a map.
        self._tick_count += 1
        if self._tick_count % 10 == 0:
            pic = self.ctx.pictures.current()
            self._push(pic)
            self._push_destinations()

    # -- actions ----------------------------------------------------------------------------------

    def show_destination(self, destination_id: str) -> None:
        mv = self.map_view
        if mv is not None:
            mv.show_destination(destination_id)

    def fit_all(self) -> None:
        mv = self.map_view
        if mv is not None:
            mv.fit_all()

    def zoom_to_selected_call(self) -> None:
        mv = self.map_view
        cid = self.ctx.selection.call_id
        if mv is not None and cid:
            mv.zoom_to_call(cid)

    def _follow_toggled(self, on: bool) -> None:
        mv = self.map_view
        if mv is None:
            return
        tid = self.ctx.selection.team_id
        if on and not tid:
            self.act_follow.setChecked(False)
            return
        mv.follow_team(tid if on else None)

    def _on_call_selected(self, call_id: str) -> None:
        mv = self.map_view
        if mv is not None:
            mv.select_call(call_id or None)

    def _on_team_selected(self, team_id: str) -> None:
        mv = self.map_view
        if mv is not None:
            mv.select_team(team_id or None)
            if self.act_follow.isChecked():
                mv.follow_team(team_id or None)

    def set_dark(self, dark: bool) -> None:
        mv = self.map_view
        if mv is not None:
            mv.set_dark(dark)

    def dispose(self) -> None:
        mv = self.map_view
        if mv is not None:
            mv.dispose()
