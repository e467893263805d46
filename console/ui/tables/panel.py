"""The table panel both the call queue and the team board are made of.

Each panel is a filter box over a sortable table (a :mod:`console.ui.tables.model` model behind
a sort/filter proxy), ticked in steps. Row selection and ``ctx.selection`` follow each other. The
actions (:mod:`console.ui.actions.menu`) are shared with the window's menus; a panel's context
menu and double-click offer those that apply to its rows.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    Signal,
)
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

from console.store import Changes
from console.ui.actions.menu import actions_for
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture, merge_changes
from console.ui.tables.hold import RowHold
from console.ui.tables.model import palette_for

log = logging.getLogger(__name__)


def setup_record_table(table: QTableView) -> QHeaderView:
    """A sortable, read-only table of records, one row each, selected whole: the shape of every
    panel's table. Returns its horizontal header for the panel's own column settings."""
    table.setSortingEnabled(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    hh = table.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    hh.setStretchLastSection(True)
    hh.setHighlightSections(False)
    return hh


class _Table(QTableView):
    """Enter opens the panel's main action; the rest is a plain sortable table."""

    activated_row = Signal()

    def keyPressEvent(self, event: Any) -> None:
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and mods == Qt.KeyboardModifier.NoModifier
        ):
            # Enter alone: a modified Enter (Ctrl+Return acknowledges an alert) is the
            # window's shortcut, not this row's action.
            self.activated_row.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class _Filter(QLineEdit):
    """Esc clears the filter and gives the keyboard back to the table."""

    escaped = Signal()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            self.escaped.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class TablePanel(QWidget):
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
        self.filter = _Filter(self)
        self.filter.setClearButtonEnabled(True)
        self.filter.setObjectName(f"{self.kind}-filter")
        self.filter.textChanged.connect(proxy.set_text_filter)
        top.addWidget(self.filter, 1)
        self.only = QCheckBox(self)
        top.addWidget(self.only)
        layout.addLayout(top)

        self.table = _Table(self)
        self.table.setObjectName(f"{self.kind}-table")
        self.filter.escaped.connect(lambda: self.table.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self._chosen: str | None = None
        self._awaited: str | None = None
        """The record the supervisor selected: the selection stays on it or goes, never
        slides to a neighbour when rows are filtered out, removed or re-sorted."""
        self._moving = 0
        # Connected before the view's selection model exists, so these run before it moves
        # the current row off a row that is going away.
        proxy.rowsAboutToBeRemoved.connect(self._rows_moving)
        proxy.layoutAboutToBeChanged.connect(self._rows_moving)
        proxy.modelAboutToBeReset.connect(self._rows_moving)
        self.table.setModel(proxy)
        proxy.rowsRemoved.connect(self._rows_moved)
        proxy.layoutChanged.connect(self._rows_moved)
        proxy.modelReset.connect(self._rows_moved)
        hh = setup_record_table(self.table)
        hh.setMinimumSectionSize(20)  # the fit below decides; a larger floor would overflow
        # Right-aligned titles (numbers) would sit under the sort arrow: keep room for it.
        hh.setStyleSheet("QHeaderView::section { padding-right: 18px; }")
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._header_menu)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._settings: QSettings | None = None
        self._fitted_width = -1
        for i, col in enumerate(model.COLUMNS):
            if col.hidden:
                self.table.setColumnHidden(i, True)
        self.table.viewport().installEventFilter(self)
        # Rows keep their places while the supervisor is on the table.
        self.hold = RowHold(self.table, proxy, model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated_row.connect(lambda: self.actions_set.trigger(self.primary_action))
        self.table.doubleClicked.connect(lambda _i: self.actions_set.trigger(self.primary_action))
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.setFocusProxy(self.table)
        self._syncing = False
        self._sized = 0
        self._pending_picture: Picture | None = None
        self._pending_changes: Changes | None = None

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
        self.ctx.run_steps((self, "tick"), self.model.tick_steps(now))

    ROWS_PER_STEP: ClassVar[int] = 12
    """Changed or new rows a live picture writes per turn of the event loop: a burst of
    changes is shown over a few short turns, never in one long stall."""

    def _apply_pending(self) -> None:
        picture, self._pending_picture = self._pending_picture, None
        if picture is None:
            return
        with self.model.budgeted(self.ROWS_PER_STEP):
            self._show(picture, self._pending_changes)
        self._select_awaited()
        if self.model.has_backlog():
            self.ctx.run_steps((self, "backlog"), self._backlog_steps())

    def _backlog_steps(self) -> Iterator[None]:
        while True:
            with self.model.budgeted(self.ROWS_PER_STEP):
                more = self.model.apply_backlog()
            self._select_awaited()
            if not more:
                return
            yield

    def _select_awaited(self) -> None:
        """The shared selection named a record this table did not show yet (its row was still
        to be written): selected once it is there."""
        rid = self._awaited
        if rid is not None and self.proxy.proxy_index_of(rid).isValid():
            self.select_id(rid)

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
        "safety": "⚠",
        "command": "⟳",
        "provider": "Provider",
        "in_status": "0:00 h",
        "checkin": "0:00 h !",
        "call": "HCR-000000",
    }
    FLEXIBLE: ClassVar[dict[str, str]] = {
        "type": "Mental-he",
        "status": "on scene",
        "team": "CRT-10",
        "location": "Frog Hollow",
        "provider": "",
        "capabilities": "",
    }
    """Columns that give up width (their text elided, the whole of it in the tooltip) so that
    every shown column fits the panel without scrolling, each down to its short sample; the
    others keep their content's width."""
    FLEX_MIN_PX = 44

    def _size_columns_once(self) -> None:
        self._fit_columns()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _text_px(self, text: str) -> int:
        return self.table.fontMetrics().horizontalAdvance(text) + 16 if text else 0

    def column_widths(self) -> dict[str, int]:
        """Each shown column's wanted width at this font (content, or its title with room for
        the sort arrow, whichever is wider)."""
        hfm = self.table.horizontalHeader().fontMetrics()
        out: dict[str, int] = {}
        for i, col in enumerate(self.model.COLUMNS):
            if self.table.isColumnHidden(i):
                continue
            sample = self.COLUMN_SAMPLES.get(col.key, col.title)
            out[col.key] = max(self._text_px(sample), hfm.horizontalAdvance(col.title) + 24)
        return out

    def _fit_columns(self) -> None:
        """Size the shown columns to their content; if that is wider than the panel, the
        flexible columns share what is left (each first down to its short sample, then all
        alike), so no column is ever scrolled out of sight."""
        avail = self.table.viewport().width()
        if avail == self._fitted_width:
            return
        self._fitted_width = avail
        want = self.column_widths()
        fixed = sum(w for k, w in want.items() if k not in self.FLEXIBLE)
        flex = {k: min(w, 280) for k, w in want.items() if k in self.FLEXIBLE}
        room = max(avail - fixed - 4, 0)
        if sum(flex.values()) > room and flex:
            floor = {
                k: min(w, max(self.FLEX_MIN_PX, self._text_px(self.FLEXIBLE[k])))
                for k, w in flex.items()
            }
            spare = room - sum(floor.values())
            if spare >= 0:
                extra = sum(flex[k] - floor[k] for k in flex) or 1
                flex = {k: floor[k] + (flex[k] - floor[k]) * spare // extra for k in flex}
            else:
                scale = room / sum(floor.values())
                flex = {k: max(24, int(w * scale)) for k, w in floor.items()}
        hh = self.table.horizontalHeader()
        for i, col in enumerate(self.model.COLUMNS):
            if col.key in want:
                hh.resizeSection(i, flex.get(col.key, want[col.key]))

    # -- columns the supervisor hides ---------------------------------------------------------------

    @property
    def _hidden_key(self) -> str:
        return f"{self.kind}/hidden_columns"

    def bind_settings(self, settings: QSettings) -> None:
        """Columns hidden from the header menu are kept in ``settings`` and restored now."""
        self._settings = settings
        saved = settings.value(self._hidden_key)
        keys = [saved] if isinstance(saved, str) else list(saved or [])
        hidden = {str(k) for k in keys}
        for i, col in enumerate(self.model.COLUMNS):
            if not col.hidden and self._hideable(col.key):
                self.table.setColumnHidden(i, col.key in hidden)
        self._fitted_width = -1
        self._fit_columns()

    def _hideable(self, key: str) -> bool:
        # The row's identity and its safety flags are never hidden.
        return key not in ("id", "safety", "team" if self.kind == "board" else "")

    def hidden_columns(self) -> list[str]:
        return [
            c.key
            for i, c in enumerate(self.model.COLUMNS)
            if not c.hidden and self.table.isColumnHidden(i)
        ]

    def set_column_shown(self, key: str, shown: bool) -> None:
        col = self.model.column_of(key)
        if not self._hideable(key) or self.model.COLUMNS[col].hidden:
            return
        self.table.setColumnHidden(col, not shown)
        if self._settings is not None:
            self._settings.setValue(self._hidden_key, self.hidden_columns())
        self._fitted_width = -1
        self._fit_columns()

    def default_sort(self) -> None:
        """The panel's own order (what it shows at start)."""

    def header_menu(self) -> QMenu:
        """Show or hide each column; back to the default order."""
        menu = QMenu(self)
        for i, col in enumerate(self.model.COLUMNS):
            if col.hidden or not self._hideable(col.key):
                continue
            a = menu.addAction(col.title)
            a.setToolTip(col.tip)
            a.setCheckable(True)
            a.setChecked(not self.table.isColumnHidden(i))
            a.toggled.connect(lambda on, k=col.key: self.set_column_shown(k, on))
        menu.addSeparator()
        menu.addAction("Default order", self.default_sort)
        return menu

    def _header_menu(self, pos: Any) -> None:
        hh = self.table.horizontalHeader()
        self.header_menu().exec(hh.mapToGlobal(pos))

    # -- selection ----------------------------------------------------------------------------------

    def selected_id(self) -> str | None:
        idx = self.table.selectionModel().currentIndex()
        return self.proxy.id_at(idx.row()) if idx.isValid() else None

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or self._moving or not current.isValid():
            return
        if not self.table.selectionModel().isRowSelected(current.row()):
            # The view put its cursor there without choosing it (focus came to a table with
            # no current row: Qt moves the cursor to the first one): nothing is chosen until
            # the supervisor moves or clicks.
            return
        rid = self.proxy.id_at(current.row())
        if rid:
            self._choose(rid)

    def _selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        """Space on the row under the cursor selects it where it is: that row is chosen."""
        if self._syncing or self._moving:
            return
        cur = self.table.selectionModel().currentIndex()
        if cur.isValid() and any(i.row() == cur.row() for i in selected.indexes()):
            rid = self.proxy.id_at(cur.row())
            if rid and rid != self._chosen:
                self._choose(rid)

    def _choose(self, rid: str) -> None:
        """The supervisor chose the row of ``rid`` here: it names the window's record."""
        self._chosen = rid
        self._awaited = None
        self._select_in_ctx(rid)

    def _rows_moving(self, *_args: Any) -> None:
        self._moving += 1

    def _rows_moved(self, *_args: Any) -> None:
        self._moving = max(0, self._moving - 1)
        if not self._moving:
            self._keep_chosen()

    def _keep_chosen(self) -> None:
        """After rows moved: back on the chosen record, or nothing selected if it left."""
        rid = self._chosen
        if rid is None:
            return
        idx = self.proxy.proxy_index_of(rid)
        sm = self.table.selectionModel()
        self._syncing = True
        try:
            if idx.isValid():
                cur = sm.currentIndex()
                if not cur.isValid() or cur.row() != idx.row() or not sm.isRowSelected(idx.row()):
                    flags = (
                        QItemSelectionModel.SelectionFlag.ClearAndSelect
                        | QItemSelectionModel.SelectionFlag.Rows
                    )
                    sm.setCurrentIndex(idx, flags)
                return
            sm.clearSelection()
            sm.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            self._syncing = False
        self._chosen = None
        self._clear_in_ctx(rid)

    def _clear_in_ctx(self, rid: str) -> None:
        """The record ``rid`` left this view while selected."""

    def _select_in_ctx(self, rid: str) -> None:
        raise NotImplementedError

    def select_id(self, rid: str) -> None:
        """Select and show the row of ``rid`` (from the shared selection); no echo. An empty
        id, or one this view does not show, leaves no row selected."""
        if rid and rid == self.selected_id():
            self._chosen = rid
            return
        idx = self.proxy.proxy_index_of(rid) if rid else QModelIndex()
        self._awaited = rid if rid and not idx.isValid() else None
        if not idx.isValid():
            self._chosen = None
            if self.table.selectionModel().currentIndex().isValid():
                self._syncing = True
                try:
                    sm = self.table.selectionModel()
                    sm.clearSelection()
                    sm.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
                finally:
                    self._syncing = False
            return
        self._chosen = rid
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


def theme_of(ctx: ConsoleContext) -> str:
    return ctx.config.theme if ctx.config.theme in ("dark", "light") else "dark"


PanelFactory = Callable[[ConsoleContext, QWidget | None], QWidget]
