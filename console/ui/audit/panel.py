"""The audit panel: every supervisor action — who, when, what, why, and what dispatch answered.

The log is read from the store on a worker thread (``ctx.run_in_background``) whenever commands
change (a command queued, refused by the console, answered by dispatch, an alert acknowledged);
refreshes are coalesced so a burst of answers costs one read. Rows are updated in place —
new entries are inserted at the top, answered ones change — so the supervisor's selection and
scroll position survive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.store import AuditEntry
from console.ui.core import theme

log = logging.getLogger(__name__)

AUDIT_LIMIT = 500
"""Rows shown; the full log stays in the database (``responder-console`` reports read it)."""

ACTION_LABELS = {
    "assign": "Assign",
    "reassign": "Reassign",
    "escalate": "Escalate",
    "change_priority": "Change priority",
    "note": "Note",
    "team_service": "Team service",
    "request_checkin": "Request check-in",
    "acknowledge_alert": "Acknowledge alert",
    "open_followup": "Open follow-up",
    "followup_attempt": "Follow-up attempt",
    "close_followup": "Close follow-up",
    "checkin_call_team": "Missed check-in: call the team",
    "checkin_welfare_check": "Missed check-in: welfare check",
    "record_outcome": "Record outcome",
    "unserved_reason": "Why not served",
    "record_naloxone": "Naloxone given",
}

_ANSWER_MARK = {
    "pending": "⟳ awaiting dispatch",
    "confirmed": "✓ confirmed",
    "refused": "✕ refused by dispatch",
    "rejected": "✕ refused by the console",
    "done": "✓ done (local)",
}

Index = QModelIndex | QPersistentModelIndex

COLUMN_SAMPLES = (
    "00:00:00",
    "sup.jones (viewer)",
    "Acknowledge alert",
    "HCR-000000",
    "CRT-10",
    "caller reports a weapon in the home",
    "",
    "00:00:00",
)
"""Typical widest content of each audit column (the answer column takes what is left)."""


def _time(t: datetime | None) -> str:
    return t.astimezone().strftime("%H:%M:%S") if t is not None else ""


def answer_text(e: AuditEntry) -> str:
    head = _ANSWER_MARK.get(e.answer_status, e.answer_status)
    return f"{head}: {e.answer}" if e.answer else head


class AuditModel(QAbstractTableModel):
    """Audit entries, newest first; updated by diff, never reset for a new entry."""

    COLUMNS = (
        "When",
        "Operator",
        "Action",
        "Call",
        "Team",
        "Reason",
        "Dispatch's answer",
        "Answered",
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.entries: list[AuditEntry] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (
                _time(e.at),
                f"{e.operator} ({e.role})" if e.role and e.role != "supervisor" else e.operator,
                ACTION_LABELS.get(e.action, e.action),
                e.call_id or "",
                e.team_id or "",
                e.reason,
                answer_text(e),
                _time(e.answered_at),
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return e.at.isoformat()
            if col == 6:
                return answer_text(e)
            if col == 5:
                return e.reason or "(no reason given)"
            if col == 2:
                return e.detail
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == 6:
            c = theme.colors()
            color = {
                "pending": c.pending,
                "confirmed": c.ok,
                "done": c.ok,
                "refused": c.error,
                "rejected": c.error,
            }.get(e.answer_status)
            return QColor(color) if color else None
        return None

    def set_entries(self, new: Sequence[AuditEntry]) -> None:
        new = list(new)
        old = self.entries
        old_ids = [e.id for e in old]
        new_ids = [e.id for e in new]
        if old_ids == new_ids:
            self._changed(new)
            return
        # The usual case: entries added at the top, perhaps some dropped off the bottom.
        k = new_ids.index(old_ids[0]) if old_ids and old_ids[0] in new_ids else -1
        if (
            k >= 0
            and len(new_ids) - k <= len(old_ids)
            and new_ids[k:] == old_ids[: len(new_ids) - k]
        ):
            keep = len(new_ids) - k
            if keep < len(old):
                self.beginRemoveRows(QModelIndex(), keep, len(old) - 1)
                self.entries = old[:keep]
                self.endRemoveRows()
            if k:
                self.beginInsertRows(QModelIndex(), 0, k - 1)
                self.entries = new[:k] + self.entries
                self.endInsertRows()
            self._changed(new)
            return
        if not old:
            if new:
                self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
                self.entries = new
                self.endInsertRows()
            return
        self.beginResetModel()  # an unrelated list (another database): nothing to keep
        self.entries = new
        self.endResetModel()

    def _changed(self, new: list[AuditEntry]) -> None:
        old = self.entries
        self.entries = new
        rows = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if rows:
            self.dataChanged.emit(
                self.index(min(rows), 0), self.index(max(rows), len(self.COLUMNS) - 1)
            )


class AuditPanel(QWidget):
    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit-panel")
        self.ctx = ctx
        self.model = AuditModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.loads = 0
        """Completed reads (for tests and diagnostics)."""
        self._in_flight = False
        self._dirty = False
        self._closed = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        lab = QLabel("Filte&r:", self)  # Alt+F stays the File menu
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("operator, action, call, team, reason, answer…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        lab.setBuddy(self.filter)
        row.addWidget(lab)
        row.addWidget(self.filter, 1)
        lay.addLayout(row)
        self.status = QLabel(self)
        self.status.setProperty("role", "muted")
        lay.addWidget(self.status)

        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.setAccessibleName("Audit log, newest first")
        # Ctrl+6 (the window's "go to audit") lands in the table, where the arrows move.
        self.setFocusProxy(self.view)
        hdr = self.view.horizontalHeader()
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hdr.setStretchLastSection(False)
        hdr.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        # Sized from typical content (measuring 500 rows would stall the GUI thread); long
        # reasons and answers are elided, whole in their tooltips.
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        fm, hfm = self.view.fontMetrics(), hdr.fontMetrics()
        for col, sample in enumerate(COLUMN_SAMPLES):
            if col != 6:
                title = self.model.COLUMNS[col]
                hdr.resizeSection(
                    col, max(fm.horizontalAdvance(sample), hfm.horizontalAdvance(title)) + 20
                )
        lay.addWidget(self.view, 1)

        if ctx.store is None:
            self.status.setText("No audit log: this console has no database (file replay).")
            self.filter.setEnabled(False)
            return
        ctx.pictures.picture_changed.connect(self._on_picture)
        gw = ctx.gateway
        gw.submitted.connect(lambda *_: self.request_refresh())
        gw.rejected.connect(lambda *_: self.request_refresh())
        gw.audited.connect(lambda *_: self.request_refresh())
        gw.answered.connect(lambda *_: self.request_refresh())
        self.destroyed.connect(self._on_destroyed)
        self.request_refresh()

    def _on_destroyed(self, *_: object) -> None:
        self._closed = True

    def _on_picture(self, picture: Any, changes: Any) -> None:
        if (
            changes is None
            or getattr(changes, "commands", None)
            or getattr(changes, "alerts", None)
        ):
            self.request_refresh()

    def request_refresh(self) -> None:
        """Read the log again, off the GUI thread; calls during a read coalesce into one more."""
        if self._closed or self.ctx.store is None:
            return
        if self._in_flight:
            self._dirty = True
            return
        self._in_flight = True
        self._dirty = False
        store = self.ctx.store
        if (
            self.ctx.run_in_background(lambda: store.audit(AUDIT_LIMIT), self._loaded, self._failed)
            is None
        ):
            self._in_flight = False

    def _loaded(self, entries: list[AuditEntry]) -> None:
        self._in_flight = False
        if self._closed:
            return
        self.loads += 1
        self.model.set_entries(entries)
        pending = sum(1 for e in entries if e.answer_status == "pending")
        self.status.setText(
            f"{len(entries)} action{'s' if len(entries) != 1 else ''}"
            + (f", {pending} awaiting dispatch" if pending else "")
            + (f" (latest {AUDIT_LIMIT} shown)" if len(entries) >= AUDIT_LIMIT else "")
        )
        if self._dirty:
            self.request_refresh()

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        if self._closed:
            return
        log.warning("audit log could not be read: %s", exc)
        self.status.setText(f"⚠ The audit log could not be read: {exc}")
        if self._dirty:
            self.request_refresh()
