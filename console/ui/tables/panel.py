"""The call queue and team board panels, and the supervisor's actions on them.

Each panel is a filter box over a sortable table (the models in ``console.ui.tables.model`` behind a
sort/filter proxy). Row selection and ``ctx.selection`` follow each other. The actions (assign,
escalate, priority, note, team service, check-in) live in one :class:`ActionSet` per context,
shared by the panels' context menus, the window's menus and their keyboard shortcuts; they act
on the current selection and open the action dialogs. A role that cannot act sees them disabled
with a tooltip saying why.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.projection import State
from console.store import Changes
from console.ui.actions import dialogs
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture, merge_changes
from console.ui.tables.model import (
    CallQueueModel,
    CallQueueProxy,
    TeamBoardModel,
    TeamBoardProxy,
    palette_for,
)

log = logging.getLogger(__name__)

# kind -> (menu text, shortcut, needs a call, needs a team, tooltip)
ACTION_SPECS: dict[str, tuple[str, str, bool, bool, str]] = {
    "assign": ("&Assign / reassign…", "Ctrl+R", True, False, "Send a team to the selected call"),
    "escalate": (
        "&Escalate…",
        "Ctrl+E",
        True,
        False,
        "Hand the selected call to police, EMS, mobile crisis or co-response",
    ),
    "priority": ("Change &priority…", "Ctrl+P", True, False, "Change the selected call's priority"),
    "note": ("Add &note…", "Ctrl+N", True, False, "Add a note to the selected call"),
    "team_service": (
        "Team out of / back in &service…",
        "Ctrl+O",
        False,
        True,
        "Set the selected team out of service or back in service",
    ),
    "checkin": ("Request chec&k-in…", "Ctrl+K", False, True, "Ask the selected team to check in"),
}


def _open_dialog(
    kind: str, ctx: ConsoleContext, call_id: str | None, team_id: str | None, parent: QWidget | None
) -> Any:
    dlg = dialogs.open_action_dialog(kind, ctx, call_id=call_id, team_id=team_id, parent=parent)
    if dlg is None:
        why = dialogs.why_no_dialog()
        if why:
            win = parent.window() if parent is not None else None
            bar = getattr(win, "statusBar", None)
            if callable(bar):
                bar().showMessage(why, 5000)
    return dlg


class ActionSet(QObject):
    """The supervisor's actions, one QAction each, enabled by role and selection."""

    opened = Signal(str, object)
    """(kind, dialog or None) after an action was triggered."""

    def __init__(self, ctx: ConsoleContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.actions: dict[str, QAction] = {}
        self.dialog_parent: QWidget | None = None
        for kind, (text, key, _c, _t, tip) in ACTION_SPECS.items():
            a = QAction(text, self)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setObjectName(f"action-{kind}")
            a.setProperty("base_tip", f"{tip} ({key})")
            a.triggered.connect(lambda _=False, k=kind: self.trigger(k))
            self.actions[kind] = a
        ctx.selection.call_selected.connect(lambda _id: self.refresh())
        ctx.selection.team_selected.connect(lambda _id: self.refresh())
        ctx.pictures.picture_changed.connect(lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        can, why = self.ctx.gateway.can_act()
        sel = self.ctx.selection
        for kind, a in self.actions.items():
            _t, _k, needs_call, needs_team, _tip = ACTION_SPECS[kind]
            base = str(a.property("base_tip"))
            if not can:
                a.setEnabled(False)
                a.setToolTip(why)
                a.setStatusTip(why)
                continue
            missing = (needs_call and not sel.call_id) or (needs_team and not sel.team_id)
            a.setEnabled(not missing)
            tip = (
                base
                if not missing
                else f"{base} — select a {'call' if needs_call else 'team'} first"
            )
            a.setToolTip(tip)
            a.setStatusTip(tip)

    def trigger(self, kind: str, call_id: str | None = None, team_id: str | None = None) -> Any:
        can, why = self.ctx.gateway.can_act()
        if not can:
            win = self.dialog_parent
            if win is not None and callable(getattr(win, "statusBar", None)):
                win.statusBar().showMessage(why, 5000)  # type: ignore[attr-defined]
            return None
        if kind == "assign":
            cid = call_id or self.ctx.selection.call_id
            call = self.ctx.pictures.current().state.calls.get(cid or "")
            if call is not None and call.team is not None:
                kind = "reassign"
        dlg = _open_dialog(kind, self.ctx, call_id, team_id, self.dialog_parent)
        self.opened.emit(kind, dlg)
        return dlg


def actions_for(ctx: ConsoleContext) -> ActionSet:
    """The context's one ActionSet (created on first use)."""
    existing = getattr(ctx, "_actions", None)
    if isinstance(existing, ActionSet):
        return existing
    s = ActionSet(ctx, ctx.gateway)
    ctx._actions = s  # type: ignore[attr-defined]
    return s


_DONE = object()


class _Table(QTableView):
    """Enter opens the panel's main action; the rest is a plain sortable table."""

    activated_row = Signal()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated_row.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class _TablePanel(QWidget):
    kind = ""
    primary_action = ""

    def __init__(self, ctx: ConsoleContext, model: Any, proxy: Any, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = model
        self.proxy = proxy
        self.actions_set = actions_for(ctx)
        proxy.setSourceModel(model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.filter = QLineEdit(self)
        self.filter.setClearButtonEnabled(True)
        self.filter.setObjectName(f"{self.kind}-filter")
        self.filter.textChanged.connect(proxy.set_text_filter)
        top.addWidget(self.filter, 1)
        self.only = QCheckBox(self)
        top.addWidget(self.only)
        layout.addLayout(top)

        self.table = _Table(self)
        self.table.setObjectName(f"{self.kind}-table")
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setHighlightSections(False)
        # Right-aligned titles (numbers) would sit under the sort arrow: keep room for it.
        hh.setStyleSheet("QHeaderView::section { padding-right: 18px; }")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated_row.connect(lambda: self.actions_set.trigger(self.primary_action))
        self.table.doubleClicked.connect(lambda _i: self.actions_set.trigger(self.primary_action))
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        layout.addWidget(self.table, 1)
        self.setFocusProxy(self.table)
        self._syncing = False
        self._sized = 0
        self._pending_picture: Picture | None = None
        self._pending_changes: Changes | None = None
        self._ticker: Iterator[None] | None = None

        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        self._show(ctx.pictures.current(), None)

    # -- picture ------------------------------------------------------------------------------------

    def _relevant(self, changes: Changes) -> bool:
        return True

    def _on_picture(self, picture: Picture, changes: Changes | None) -> None:
        if changes is not None and not self._relevant(changes):
            return
        # Apply on a later turn of the event loop, not inside the signal: each panel's update
        # then runs as its own short slice, so the GUI thread never does every panel at once.
        # Pictures that arrive meanwhile replace the pending one (each is complete); their
        # changes add up (None: anything may have changed).
        if self._pending_picture is None:
            self._pending_changes = changes
        else:
            self._pending_changes = merge_changes(self._pending_changes, changes)
        self._pending_picture = picture
        self.ctx.later(self._apply_pending, self._apply_pending)

    def _on_tick(self, now: datetime) -> None:
        # The clock's tick rewrites every row's time column: on its own turns of the event loop
        # too, a hundred rows a turn.
        self._ticker = self.model.tick_steps(now)
        self.ctx.later(self._tick_step, self._tick_step)

    def _tick_step(self) -> None:
        ticker = self._ticker
        if ticker is None:
            return
        if next(ticker, _DONE) is _DONE:
            self._ticker = None
        else:
            self.ctx.later(self._tick_step, self._tick_step)

    def _apply_pending(self) -> None:
        picture, self._pending_picture = self._pending_picture, None
        if picture is not None:
            self._show(picture, self._pending_changes)

    def _show(self, picture: Picture, changes: Changes | None) -> None:
        raise NotImplementedError

    # Typical widest content per column: sizing from samples costs nothing, where asking the
    # view to measure 300 rows stalls the GUI thread for a third of a second.
    COLUMN_SAMPLES: ClassVar[dict[str, str]] = {
        "id": "HCR-000000",
        "priority": "P1",
        "age": "0:00 h !",
        "type": "Mental-health crisis",
        "status": "at destination ⟳",
        "team": "CRT-10 +1",
        "location": "Sheldon-Charter Oak · 1999 Asylum Ave",
        "safety": "⚠ threat to others",
        "provider": "Provider",
        "in_status": "0:00 h",
        "checkin": "0:00 h !",
        "call": "HCR-000000",
    }

    def _size_columns_once(self) -> None:
        if self._sized:
            return
        self._sized = 1
        hh = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        hfm = hh.fontMetrics()
        for i, col in enumerate(self.model.COLUMNS[:-1]):
            sample = self.COLUMN_SAMPLES.get(col.key, col.title)
            need = max(fm.horizontalAdvance(sample) + 16, hfm.horizontalAdvance(col.title) + 40)
            hh.resizeSection(i, min(need, 280))

    # -- selection ----------------------------------------------------------------------------------

    def selected_id(self) -> str | None:
        idx = self.table.selectionModel().currentIndex()
        return self.proxy.id_at(idx.row()) if idx.isValid() else None

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        rid = self.proxy.id_at(current.row())
        if rid:
            self._select_in_ctx(rid)

    def _select_in_ctx(self, rid: str) -> None:
        raise NotImplementedError

    def select_id(self, rid: str) -> None:
        """Select and show the row of ``rid`` (from the shared selection); no echo."""
        if not rid or rid == self.selected_id():
            return
        idx = self.proxy.proxy_index_of(rid)
        if not idx.isValid():
            return
        self._syncing = True
        try:
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.table.selectionModel().setCurrentIndex(idx, flags)
            self.table.scrollTo(idx, QAbstractItemView.ScrollHint.EnsureVisible)
        finally:
            self._syncing = False

    def _context_menu(self, pos: Any) -> None:
        idx = self.table.indexAt(pos)
        if idx.isValid():
            rid = self.proxy.id_at(idx.row())
            if rid:
                self.select_id(rid)
                self._select_in_ctx(rid)
        menu = QMenu(self)
        for kind in self.menu_kinds():
            menu.addAction(self.actions_set.actions[kind])
        self.extra_menu(menu)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def menu_kinds(self) -> list[str]:
        return []

    def extra_menu(self, menu: QMenu) -> None:
        pass

    def set_theme(self, name: str) -> None:
        with contextlib.suppress(ValueError):
            self.model.set_palette(palette_for(name))


class QueuePanel(_TablePanel):
    """Open calls, most urgent first: priority, ticking age, type, status, team, location."""

    kind = "queue"
    primary_action = "assign"

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        model = CallQueueModel(ctx.config.thresholds, palette_for(_theme(ctx)))
        proxy = CallQueueProxy()
        super().__init__(ctx, model, proxy, parent)
        self.filter.setPlaceholderText("Filter calls: id, type, status, team, neighborhood…")
        self.only.setText("Open only")
        self.only.setToolTip("Hide cleared, escalated and cancelled calls")
        self.only.toggled.connect(proxy.set_open_only)
        self.only.setChecked(True)
        # Closed calls pile up over a shift: with "open only" the model does not hold them.
        self.only.toggled.connect(lambda _on: self._show(ctx.pictures.current(), None))
        self.table.sortByColumn(model.column_of("priority"), Qt.SortOrder.AscendingOrder)
        ctx.selection.call_selected.connect(self.select_id)
        ctx.selection.calls_selected.connect(self.select_ids)

    def select_ids(self, ids: list[str]) -> None:
        """Highlight several calls at once (a moment picked on the workload plots)."""
        if len(ids) < 2:
            return
        sm = self.table.selectionModel()
        self._syncing = True
        try:
            for rid in ids[1:]:
                idx = self.proxy.proxy_index_of(rid)
                if idx.isValid():
                    sm.select(
                        idx,
                        QItemSelectionModel.SelectionFlag.Select
                        | QItemSelectionModel.SelectionFlag.Rows,
                    )
        finally:
            self._syncing = False

    def _relevant(self, changes: Changes) -> bool:
        return bool(changes.calls or changes.commands)

    def _show(self, picture: Picture, changes: Changes | None) -> None:
        st: State = picture.state
        pending = [r for r in st.commands.values() if r.pending]
        open_only = self.only.isChecked()
        if changes is not None and not changes.commands and self.model.rowCount():
            # Only the calls that changed (commands mark calls: those take the full diff).
            found = (st.calls.get(i) for i in changes.calls)
            calls = [c for c in found if c is not None and (c.is_open or not open_only)]
            self.model.set_picture(calls, picture.now, pending, only=changes.calls)
        else:
            calls_all = st.open_calls() if open_only else st.calls.values()
            self.model.set_picture(calls_all, picture.now, pending)
        self._size_columns_once()

    def _select_in_ctx(self, rid: str) -> None:
        self.ctx.selection.select_call(rid)

    def menu_kinds(self) -> list[str]:
        return ["assign", "escalate", "priority", "note"]


class BoardPanel(_TablePanel):
    """Every team: status, time in status, check-in, current call, capabilities."""

    kind = "board"
    primary_action = "checkin"

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        model = TeamBoardModel(ctx.config.thresholds, palette_for(_theme(ctx)))
        proxy = TeamBoardProxy()
        super().__init__(ctx, model, proxy, parent)
        self.filter.setPlaceholderText("Filter teams: id, provider, status, call…")
        self.only.setText("On duty only")
        self.only.setToolTip("Hide off-duty and out-of-service teams")
        self.only.toggled.connect(proxy.set_on_duty_only)
        self.only.setChecked(False)
        self.table.sortByColumn(model.column_of("team"), Qt.SortOrder.AscendingOrder)
        ctx.selection.team_selected.connect(self.select_id)

    def _relevant(self, changes: Changes) -> bool:
        return bool(changes.teams or changes.positions or changes.commands)

    def _show(self, picture: Picture, changes: Changes | None) -> None:
        st: State = picture.state
        pending = [r for r in st.commands.values() if r.pending]
        self.model.set_picture(st.teams.values(), picture.now, st.positions, pending)
        self._size_columns_once()

    def _select_in_ctx(self, rid: str) -> None:
        self.ctx.selection.select_team(rid)

    def menu_kinds(self) -> list[str]:
        return ["checkin", "team_service"]


def _theme(ctx: ConsoleContext) -> str:
    return ctx.config.theme if ctx.config.theme in ("dark", "light") else "dark"


PanelFactory = Callable[[ConsoleContext, QWidget | None], QWidget]
