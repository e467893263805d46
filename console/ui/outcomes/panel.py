"""The "Needs outcome" list: closed calls with no outcome recorded, oldest first.

A call joins the list when it closes (cleared by dispatch or the console, or escalated or
cancelled after a team went) and leaves it when someone records its outcome
(:mod:`console.domain.outcomes`). Enter or a double-click opens the Record-outcome dialog
(Ctrl+U anywhere on the selected call). The list is kept by diff from each picture's changes:
only the calls a picture changed are looked at again, rows are inserted and removed in place,
so selection and scroll survive a live feed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.changes import Changes
from console.domain.model import Call
from console.domain.outcomes import calls_needing_outcome, needs_outcome
from console.domain.unserved import closed_at
from console.ui.actions.menu import actions_for
from console.ui.core.context import ConsoleContext
from console.ui.core.labels import call_status_text
from console.ui.core.picture import Picture

COLUMNS = ("Call", "Closed", "Status", "Type", "Team", "Disposition")
CALL_ID_ROLE = int(Qt.ItemDataRole.UserRole)


def _when(t: datetime, now: datetime) -> str:
    local = t.astimezone()
    return f"{local:%H:%M}" if (now - t).total_seconds() < 20 * 3600 else f"{local:%d %b %H:%M}"


def row_texts(call: Call, now: datetime) -> tuple[str, ...]:
    return (
        call.id,
        _when(closed_at(call), now),
        call_status_text(call),
        call.type.label,
        ", ".join(call.teams) or (call.team or "—"),
        call.disposition or "",
    )


class _List(QTreeWidget):
    def __init__(self, panel: NeedsOutcomePanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.panel.record_selected()
            return
        super().keyPressEvent(event)


class NeedsOutcomePanel(QWidget):
    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("needs-outcome")
        self.calls: dict[str, Call] = {}
        """The calls listed now, by id."""
        self._now: datetime = ctx.clock.now()
        v = QVBoxLayout(self)
        v.setContentsMargins(2, 2, 2, 2)
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Calls needing an outcome")
        v.addWidget(self.summary)
        self.list = _List(self)
        self.list.setColumnCount(len(COLUMNS))
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName("Needs outcome")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemActivated.connect(lambda *_: self.record_selected())
        self.list.currentItemChanged.connect(lambda *_: self._choose_current())
        self.list.itemSelectionChanged.connect(self._choose_current)
        v.addWidget(self.list, 1)
        self.setFocusProxy(self.list)
        ctx.pictures.picture_changed.connect(self._on_picture)
        self._apply(ctx.pictures.current(), None)

    # -- the list ----------------------------------------------------------------------------

    def _on_picture(self, picture: Picture, changes: Changes | None) -> None:
        if changes is not None and not changes.calls and not changes.program:
            return
        self.ctx.later(("needs-outcome", id(self)), lambda: self._apply(picture, changes))

    def _apply(self, picture: Picture, changes: Changes | None) -> None:
        st = picture.state
        self._now = picture.now
        if changes is None:
            self.calls = {c.id: c for c in calls_needing_outcome(st)}
        else:
            ids = set(changes.calls) | {i for k, i in changes.program if k == "outcome"}
            for cid in ids:
                c = st.calls.get(cid)
                if c is not None and needs_outcome(c, st.outcomes):
                    self.calls[cid] = c
                else:
                    self.calls.pop(cid, None)
        self._show(sorted(self.calls.values(), key=lambda c: (closed_at(c), c.id)))

    def _show(self, ordered: list[Call]) -> None:
        lst = self.list
        wanted = {c.id for c in ordered}
        for i in reversed(range(lst.topLevelItemCount())):
            it = lst.topLevelItem(i)
            if it is not None and it.data(0, CALL_ID_ROLE) not in wanted:
                lst.takeTopLevelItem(i)
        for i, c in enumerate(ordered):
            it = lst.topLevelItem(i)
            if it is None or it.data(0, CALL_ID_ROLE) != c.id:
                it = None
                for j in range(i + 1, lst.topLevelItemCount()):
                    other = lst.topLevelItem(j)
                    if other is not None and other.data(0, CALL_ID_ROLE) == c.id:
                        it = lst.takeTopLevelItem(j)
                        break
                if it is None:
                    it = QTreeWidgetItem()
                    it.setData(0, CALL_ID_ROLE, c.id)
                lst.insertTopLevelItem(i, it)
            for col, text in enumerate(row_texts(c, self._now)):
                if it.text(col) != text:
                    it.setText(col, text)
        n = len(ordered)
        self.summary.setText(
            "No closed call is waiting for an outcome."
            if n == 0
            else f"{n} closed call{'s' if n != 1 else ''} need{'s' if n == 1 else ''} an "
            "outcome (oldest first) — Enter or Ctrl+U records it."
        )

    def ids(self) -> list[str]:
        """The call ids listed, in order."""
        out = []
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            if it is not None:
                out.append(str(it.data(0, CALL_ID_ROLE)))
        return out

    # -- acting --------------------------------------------------------------------------------

    def selected_id(self) -> str | None:
        it = self.list.currentItem()
        return None if it is None else str(it.data(0, CALL_ID_ROLE))

    def select(self, call_id: str) -> None:
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            if it is not None and it.data(0, CALL_ID_ROLE) == call_id:
                self.list.setCurrentItem(it)
                return

    def _choose_current(self) -> None:
        """The row under the cursor names the window's call once it is chosen (selected: an
        arrow key, a click or the space bar). Focus coming to the list puts the cursor on its
        first row without choosing it."""
        cur = self.list.currentItem()
        if cur is not None and cur.isSelected():
            self.ctx.selection.select_call(str(cur.data(0, CALL_ID_ROLE)))

    def record_selected(self) -> Any:
        cid = self.selected_id()
        if cid is None:
            return None
        return actions_for(self.ctx).trigger("outcome", call_id=cid)

    def _menu(self, pos: Any) -> None:
        it = self.list.itemAt(pos)
        if it is not None:
            self.list.setCurrentItem(it)
        menu = QMenu(self)
        acts = actions_for(self.ctx).actions
        for kind in ("outcome", "naloxone", "note"):
            menu.addAction(acts[kind])
        menu.exec(self.list.viewport().mapToGlobal(pos))
