"""Quarantined messages, for IT staff: what dispatch sent that the console refused and kept.

Each item shows when it came, why it was refused and the raw message exactly as received, in a
plain-text viewer (never rendered). The store is read on a worker thread (``ctx.tasks``), never
on the GUI thread; Refresh reads it again.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.store.records import QuarantineItem
from console.ui.core.labels import plain_tip

log = logging.getLogger(__name__)

LIMIT = 200
"""Items read at a time, newest first."""
ITEM_ROLE = int(Qt.ItemDataRole.UserRole)


def read_quarantine(store: Any, limit: int = LIMIT) -> tuple[int, list[QuarantineItem]]:
    """Worker thread: the quarantine's size and its newest ``limit`` items."""
    return store.quarantine_count(), store.quarantined(limit)


class QuarantineDialog(QDialog):
    """The quarantine: time, reason, and the selected message's raw text."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.items: list[QuarantineItem] = []
        self.count = 0
        self.loads = 0
        """Reads delivered (for tests and diagnostics)."""
        self._reading = False
        self.setWindowTitle("Quarantined messages")
        self.setObjectName("quarantine-dialog")
        lay = QVBoxLayout(self)
        self.summary = QLabel("Reading the quarantine…", self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setAccessibleName("Quarantine summary")
        lay.addWidget(self.summary)

        split = QSplitter(Qt.Orientation.Vertical, self)
        self.list = QTreeWidget(split)
        self.list.setColumnCount(3)
        self.list.setHeaderLabels(["Received", "Source", "Reason"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setAccessibleName("Quarantined messages, newest first")
        hdr = self.list.header()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hdr.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hdr.setStretchLastSection(True)
        self.list.currentItemChanged.connect(self._on_current)
        self.raw = QPlainTextEdit(split)
        self.raw.setReadOnly(True)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setAccessibleName("Raw message as received")
        self.raw.setPlaceholderText("Select a message to see it as received")
        split.addWidget(self.list)
        split.addWidget(self.raw)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)

        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.refresh_button = QPushButton("&Refresh", self)
        self.refresh_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self.refresh)
        box.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.rejected.connect(self.reject)
        lay.addWidget(box)
        self.resize(820, 520)
        self.refresh()

    def refresh(self) -> None:
        """Read the quarantine again, on a worker thread."""
        store = getattr(self.ctx, "store", None)
        if store is None:
            self.summary.setText("No database: nothing is quarantined in a file replay.")
            return
        if self._reading:
            return
        self._reading = True
        self.refresh_button.setEnabled(False)
        job = self.ctx.run_in_background(lambda: read_quarantine(store), self._loaded, self._failed)
        if job is None:
            self._reading = False
            self.refresh_button.setEnabled(True)

    def _loaded(self, result: tuple[int, list[QuarantineItem]]) -> None:
        self._reading = False
        self.refresh_button.setEnabled(True)
        self.error.hide()
        self.count, self.items = result
        self.loads += 1
        keep = self._current_id()
        self.list.clear()
        rows = []
        for it in self.items:
            row = QTreeWidgetItem(
                [f"{it.received_at.astimezone():%Y-%m-%d %H:%M:%S}", it.source, it.reason]
            )
            row.setData(0, ITEM_ROLE, it.id)
            row.setToolTip(2, plain_tip(it.reason))
            rows.append(row)
        self.list.addTopLevelItems(rows)
        shown = len(self.items)
        if not self.count:
            self.summary.setText("Nothing quarantined: every message from dispatch was taken in.")
        elif shown < self.count:
            self.summary.setText(f"{self.count} quarantined; the newest {shown} shown.")
        else:
            self.summary.setText(f"{self.count} quarantined, newest first.")
        target = next((r for r in rows if r.data(0, ITEM_ROLE) == keep), rows[0] if rows else None)
        if target is not None:
            self.list.setCurrentItem(target)
        else:
            self.raw.clear()

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        self.refresh_button.setEnabled(True)
        log.error("could not read the quarantine: %s", exc)
        self.error.setText(f"⚠ Could not read the quarantine: {exc}")
        self.error.show()

    def _current_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(0, ITEM_ROLE)) if item is not None else None

    def _on_current(self, current: QTreeWidgetItem | None, _prev: object) -> None:
        if current is None:
            self.raw.clear()
            return
        qid = current.data(0, ITEM_ROLE)
        item = next((i for i in self.items if i.id == qid), None)
        self.raw.setPlainText(item.raw if item is not None else "")
