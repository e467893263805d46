"""Rows keep their places while the supervisor is on a table.

A live feed re-sorts the queue as calls arrive and change: a row can move from under the pointer
between the moment the supervisor aims and the moment they click, or between two key presses.
While the pointer is over the table, or a key was pressed in it within :attr:`RowHold.pause_ms`,
the proxy stops re-sorting: rows that arrive are added at the bottom and rows whose sort key
changed stay where they are, both highlighted. When the pointer leaves, or rests for the pause,
the held order is applied at once (one ``layoutChanged``, so the selection stays on its record).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView

from console.ui.tables.model import SORT_ROLE, RecordTableModel, StatusTextProxy

HOLD_PAUSE_MS = 2000
"""How long rows stay held after the pointer last moved or a key was last pressed."""

_HOLDING_EVENTS = frozenset(
    {
        QEvent.Type.Enter,
        QEvent.Type.MouseMove,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.Wheel,
        QEvent.Type.KeyPress,
    }
)


class RowHold(QObject):
    """Holds a table's row order while the supervisor is on it (see the module's notes)."""

    held_changed = Signal(bool)

    def __init__(
        self,
        view: QAbstractItemView,
        proxy: StatusTextProxy,
        model: RecordTableModel,
        *,
        pause_ms: int = HOLD_PAUSE_MS,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.proxy = proxy
        self.model = model
        self.held = False
        self.waiting: set[str] = set()
        """Ids of rows that arrived or whose sort key changed while held (highlighted)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(pause_ms)
        self._timer.timeout.connect(self.release)
        view.viewport().setMouseTracking(True)
        view.viewport().installEventFilter(self)
        view.installEventFilter(self)
        model.rowsInserted.connect(self._inserted)
        model.dataChanged.connect(self._changed)

    @property
    def pause_ms(self) -> int:
        return self._timer.interval()

    def set_pause_ms(self, ms: int) -> None:
        self._timer.setInterval(ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _HOLDING_EVENTS:
            if kind is not QEvent.Type.KeyPress or watched is self.view:
                self.hold()
        elif kind is QEvent.Type.Leave and watched is self.view.viewport():
            self.release()
        return False

    def hold(self) -> None:
        """The supervisor is on the table: keep the order until they leave or pause."""
        if not self.held:
            self.held = True
            self.proxy.hold_order(True)
            self.held_changed.emit(True)
        self._timer.start()

    def release(self) -> None:
        """Apply what was held: the proxy sorts (and filters) once, the highlight goes."""
        self._timer.stop()
        if not self.held:
            return
        self.held = False
        waiting, self.waiting = self.waiting, set()
        self.model.mark_rows(waiting, None)
        self.proxy.hold_order(False)
        self.held_changed.emit(False)

    def _mark(self, rid: str) -> None:
        if rid not in self.waiting:
            self.waiting.add(rid)
            self.model.mark_rows([rid], "held_bg")

    def _inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if not self.held:
            return
        ids = self.model.ids()
        for row in range(first, last + 1):
            self._mark(ids[row])

    def _changed(self, top: QModelIndex, bottom: QModelIndex, roles: Any = ()) -> None:
        if not self.held or (roles and SORT_ROLE not in roles):
            return
        col = self.proxy.sortColumn()
        if not top.column() <= col <= bottom.column():
            return
        ids = self.model.ids()
        for row in range(top.row(), bottom.row() + 1):
            if row < len(ids):
                self._mark(ids[row])
