"""The destinations panel: open now, closing soon or closed; capacity with its age (a stale
figure says so); intake criteria as small symbols with their meaning on hover.

Rows are kept and rewritten in place (a destination's row moves when it opens or closes), so a
selection survives the clock and the feed. The map layer is fed from the same rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.destinations import (
    BoardRow,
    DestinationSet,
    OpenState,
    StatusCache,
    board_rows,
    criteria_badges,
)
from console.domain.model import TeamStatus
from console.store import Changes
from console.ui.core import theme
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture

log = logging.getLogger(__name__)

COLUMNS = ("Status", "Destination", "Kind", "Capacity", "Criteria", "Phone")
COL_STATUS, COL_NAME, COL_KIND, COL_CAPACITY, COL_CRITERIA, COL_PHONE = range(6)
ID_ROLE = int(Qt.ItemDataRole.UserRole)
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
TICKS_PER_REFRESH = 15
"""Clock ticks (seconds) between two refreshes when nothing arrived: opening hours and the
figures' ages move with time."""

STATE_MARK = {OpenState.OPEN: "●", OpenState.CLOSING_SOON: "◐", OpenState.CLOSED: "○"}
"""Filled, half, hollow: the state reads without its colour too."""


class _SortItem(QTableWidgetItem):
    """Sorts on its own key (open first, closing soon, closed; then by name)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return str(self.data(SORT_ROLE) or "") < str(other.data(SORT_ROLE) or "")


@dataclass(frozen=True, slots=True)
class _Shown:
    """One row's text, order key, colours and tooltips as last written."""

    status: str
    sort: str
    status_color: str
    status_tip: str
    capacity: str
    stale: bool
    capacity_color: str
    capacity_tip: str


class CriteriaChips(QWidget):
    """The intake criteria as small labelled chips, each with its meaning as its tooltip."""

    def __init__(self, badges: tuple[tuple[str, str], ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(3)
        self.chips: list[QLabel] = []
        for text, tip in badges:
            chip = QLabel(text, self)
            chip.setTextFormat(Qt.TextFormat.PlainText)
            chip.setToolTip(tip)
            chip.setAccessibleName(tip)
            chip.setObjectName("destinationCriterion")
            chip.setStyleSheet(
                "QLabel#destinationCriterion { border: 1px solid palette(mid); border-radius: 3px;"
                " padding: 0px 3px; }"
            )
            lay.addWidget(chip)
            self.chips.append(chip)
        lay.addStretch(1)
        self.setToolTip("\n".join(tip for _t, tip in badges))


class DestinationsPanel(QWidget):
    """Every destination of the site, what it can take now, and the supervisor's actions on it."""

    destination_selected = Signal(str)

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("destinationsPanel")
        self.destinations: DestinationSet = ctx.config.destinations
        self.rows: list[BoardRow] = []
        self._selected_id: str | None = None
        self._statuses = StatusCache()
        self._shown: dict[str, _Shown] = {}
        """What each row shows, by destination id: only a difference is written."""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)  # never the reason the dock is wide
        self.summary.setAccessibleName("Destinations summary")
        lay.addWidget(self.summary)
        self.transport_hint = QLabel(self)
        self.transport_hint.setTextFormat(Qt.TextFormat.PlainText)
        self.transport_hint.setWordWrap(True)
        self.transport_hint.setAccessibleName("Transports without a destination")
        self.transport_hint.hide()
        lay.addWidget(self.transport_hint)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Destinations")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        lay.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.capacity_button = QPushButton("Set &capacity…", self)
        self.capacity_button.setToolTip(
            "Record the selected destination's free beds or slots and whether it takes people"
            " (audited; shared with the other consoles)"
        )
        self.capacity_button.clicked.connect(lambda: self.open_capacity_dialog())
        self.propose_button = QPushButton("Propose &destination…", self)
        self.propose_button.setToolTip(
            "Destinations that can take the person on the selected call now, nearest first"
        )
        self.propose_button.clicked.connect(lambda: self.open_proposal())
        buttons.addWidget(self.capacity_button)
        buttons.addWidget(self.propose_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)

        self._build_rows()
        self._ticks = 0
        ctx.pictures.picture_changed.connect(self._on_picture)
        ctx.pictures.tick.connect(self._on_tick)
        ctx.selection.call_selected.connect(lambda _id: self._update_buttons())
        self.refresh()

    # -- rows ---------------------------------------------------------------------------------

    def _build_rows(self) -> None:
        """One row per destination, made once; :meth:`refresh` rewrites their text."""
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.destinations.destinations))
        for r, d in enumerate(self.destinations.destinations):
            status = _SortItem()
            status.setData(ID_ROLE, d.id)
            status.setData(SORT_ROLE, _sort_text(9, d.name, d.id))
            self.table.setItem(r, COL_STATUS, status)
            name = QTableWidgetItem(d.name)
            name.setData(ID_ROLE, d.id)
            if d.sample:
                name.setToolTip(f"{d.name} — sample data, not a real service")
            self.table.setItem(r, COL_NAME, name)
            self.table.setItem(r, COL_KIND, QTableWidgetItem(d.kind.label))
            self.table.setItem(r, COL_CAPACITY, QTableWidgetItem())
            crit = QTableWidgetItem()
            self.table.setItem(r, COL_CRITERIA, crit)
            self.table.setItem(r, COL_PHONE, QTableWidgetItem(d.phone))
        # Criteria never change: their chips are made once, after the items exist.
        by_id = {d.id: d for d in self.destinations.destinations}
        for r in range(self.table.rowCount()):
            did = self._it(r, COL_STATUS).data(ID_ROLE)
            chips = CriteriaChips(criteria_badges(by_id[did].criteria), self.table)
            self._it(r, COL_CRITERIA).setToolTip(chips.toolTip())
            self.table.setCellWidget(r, COL_CRITERIA, chips)
        self.table.setSortingEnabled(True)
        self.table.sortItems(COL_STATUS)

    def _it(self, row: int, col: int) -> QTableWidgetItem:
        item = self.table.item(row, col)
        assert item is not None, (row, col)
        return item

    def row_of(self, destination_id: str) -> int:
        for r in range(self.table.rowCount()):
            if self._it(r, COL_STATUS).data(ID_ROLE) == destination_id:
                return r
        return -1

    def refresh(self) -> None:
        """Rewrite what changed since the last refresh (statuses move with the clock, figures
        with the log); rows are re-sorted only when an order key changed."""
        picture = self.ctx.pictures.current()
        now = picture.now
        self.rows = board_rows(self.destinations, picture.state.destinations, now, self._statuses)
        c = theme.colors()
        where = {
            str(self._it(r, COL_STATUS).data(ID_ROLE)): r for r in range(self.table.rowCount())
        }
        resort = False
        self.table.setSortingEnabled(False)
        for row in self.rows:
            r = where.get(row.id, -1)
            if r < 0:
                continue
            rep = row.capacity.report
            shown = _Shown(
                f"{STATE_MARK[row.state]} {row.status_text}"
                + ("" if row.accepting else " · not accepting"),
                _sort_text(row.sort_key[0], row.sort_key[1], row.id),
                {
                    OpenState.OPEN: c.ok,
                    OpenState.CLOSING_SOON: c.warning,
                    OpenState.CLOSED: c.muted,
                }[row.state],
                row.status_text,
                row.capacity_text,
                row.capacity.stale,
                c.warning if row.capacity.stale else c.text,
                row.capacity_text
                + (
                    f"\nset by {rep.operator or rep.source} at {rep.at.astimezone():%H:%M}"
                    + (f": {rep.note}" if rep.note else "")
                    if rep is not None
                    else ""
                ),
            )
            old = self._shown.get(row.id)
            if shown == old:
                continue
            self._shown[row.id] = shown
            status = self._it(r, COL_STATUS)
            _set(status, shown.status)
            if old is None or old.sort != shown.sort:
                status.setData(SORT_ROLE, shown.sort)
                resort = True
            if old is None or old.status_color != shown.status_color:
                status.setForeground(QColor(shown.status_color))
            status.setToolTip(shown.status_tip)
            self._it(r, COL_KIND).setToolTip(shown.status_tip)
            cap = self._it(r, COL_CAPACITY)
            _set(cap, shown.capacity)
            if old is None or old.stale != shown.stale:
                f = QFont(cap.font())
                f.setItalic(shown.stale)
                cap.setFont(f)
            if old is None or old.capacity_color != shown.capacity_color:
                cap.setForeground(QColor(shown.capacity_color))
            cap.setToolTip(shown.capacity_tip)
        self.table.setSortingEnabled(True)
        if resort:
            self.table.sortItems(COL_STATUS)
        n = {s: sum(1 for x in self.rows if x.state is s) for s in OpenState}
        summary = (
            f"{n[OpenState.OPEN]} open · {n[OpenState.CLOSING_SOON]} closing soon · "
            f"{n[OpenState.CLOSED]} closed"
        )
        if self.destinations.sample:
            summary += " · SAMPLE DATA (not real services)"
        if not self.destinations:
            summary = "No destinations: set [destinations] file in the configuration."
        _set_label(self.summary, summary)
        self._update_transport_hint(picture)
        self._update_buttons()

    def _update_transport_hint(self, picture: Picture) -> None:
        """Teams transporting with no destination the console knows: propose one."""
        st = picture.state
        waiting = sorted(
            f"{t.id} ({t.call})"
            for t in st.teams.values()
            if t.status is TeamStatus.TRANSPORTING
            and t.call
            and self.destinations.get(t.destination) is None
        )
        if waiting:
            _set_label(
                self.transport_hint,
                "Transporting without a destination chosen: "
                + ", ".join(waiting)
                + ". Select the call and press Propose destination.",
            )
        self.transport_hint.setVisible(bool(waiting))

    def selected_destination(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(ID_ROLE)) if items and items[0].data(ID_ROLE) else None

    def select_destination(self, destination_id: str) -> None:
        r = self.row_of(destination_id)
        if r >= 0:
            self.table.selectRow(r)

    def _on_selection(self) -> None:
        did = self.selected_destination()
        if did is None:
            r = self.table.currentRow()
            item = self.table.item(r, COL_STATUS) if r >= 0 else None
            did = str(item.data(ID_ROLE)) if item is not None else None
        if did and did != self._selected_id:
            # Only a new choice moves the map: rows re-sorted by the clock keep their selection.
            self.destination_selected.emit(did)
        self._selected_id = did
        self._update_buttons()

    def _update_buttons(self) -> None:
        can, why = self.ctx.gateway.can_act()
        has_dest = self._current_id() is not None
        self.capacity_button.setEnabled(bool(can) and has_dest)
        call_id = self.ctx.selection.call_id
        self.propose_button.setEnabled(bool(can) and bool(call_id) and bool(self.destinations))
        if not can:
            for b in (self.capacity_button, self.propose_button):
                b.setToolTip(why)

    def _current_id(self) -> str | None:
        r = self.table.currentRow()
        item = self.table.item(r, COL_STATUS) if r >= 0 else None
        return str(item.data(ID_ROLE)) if item is not None else None

    # -- updates ------------------------------------------------------------------------------

    def _on_picture(self, picture: Picture, changes: Changes | None) -> None:
        if changes is None or changes.destinations:
            self.ctx.later(self.refresh, self.refresh)
        elif changes.teams:
            # Teams move often: only the transport line depends on them.
            self.ctx.later(self._hint_now, self._hint_now)

    def _hint_now(self) -> None:
        self._update_transport_hint(self.ctx.pictures.current())

    def _on_tick(self, _now: object) -> None:
        self._ticks += 1
        if self._ticks % TICKS_PER_REFRESH == 0:
            self.ctx.later(self.refresh, self.refresh)

    # -- actions ------------------------------------------------------------------------------

    def open_capacity_dialog(self, destination_id: str | None = None) -> Any:
        from console.ui.destinations.dialogs import CapacityDialog

        did = destination_id or self._current_id()
        d = self.destinations.get(did)
        if d is None:
            return None
        dlg = CapacityDialog(self.ctx, d, parent=self.window())
        dlg.open()
        return dlg

    def open_proposal(self, call_id: str | None = None) -> Any:
        from console.ui.destinations.dialogs import open_proposal

        return open_proposal(self.ctx, call_id or self.ctx.selection.call_id, self.window())


def _sort_text(rank: int, name: str, ident: str) -> str:
    return f"{rank}|{name.casefold()}|{ident}"


def _set(item: QTableWidgetItem, text: str) -> None:
    if item.text() != text:
        item.setText(text)


def _set_label(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)
