"""Adding and editing a trainer's bookmark or decision point (saved in the shift file)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from console.domain.model import CallStatus
from console.domain.projection import State

AUTO_CALL = ""
"""Decision on "the most urgent call waiting" at that moment."""


class AnnotationDialog(QDialog):
    """Title and note; for a decision point, the call it is about."""

    def __init__(
        self,
        kind: str,
        at: datetime,
        state: State,
        *,
        existing: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.delete_requested = False
        what = "decision point" if kind == "decision" else "bookmark"
        self.setWindowTitle(f"{'Edit' if existing else 'Add'} {what}")
        form = QFormLayout(self)
        form.addRow("At", QLabel(f"{at.astimezone():%a %d %b %Y %H:%M:%S}", self))
        self.title_edit = QLineEdit(self)
        self.title_edit.setPlaceholderText(
            "e.g. Four calls pending, two teams past an hour on scene"
            if kind == "bookmark"
            else "e.g. Who goes to the overdose call?"
        )
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setPlaceholderText("What to look at, what to ask")
        self.note_edit.setFixedHeight(90)
        form.addRow("Title", self.title_edit)
        form.addRow("Note", self.note_edit)
        self.call_box: QComboBox | None = None
        if kind == "decision" and existing is None:
            box = QComboBox(self)
            box.addItem("The most urgent call waiting", AUTO_CALL)
            waiting = sorted(
                (c for c in state.calls.values() if c.status is CallStatus.PENDING),
                key=lambda c: (c.priority, c.received_at),
            )
            for c in waiting:
                box.addItem(f"{c.id}  P{c.priority} {c.type.label}", c.id)
            self.call_box = box
            form.addRow("Call", box)
        if existing is not None:
            self.title_edit.setText(existing.title)
            self.note_edit.setPlainText(existing.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        if existing is not None:
            delete = QPushButton("Delete", self)
            buttons.addButton(delete, QDialogButtonBox.ButtonRole.DestructiveRole)
            delete.clicked.connect(self._delete)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.title_edit.setFocus()

    def _delete(self) -> None:
        self.delete_requested = True
        self.accept()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "title": self.title_edit.text().strip()
            or ("Decision point" if self.kind == "decision" else "Bookmark"),
            "note": self.note_edit.toPlainText().strip(),
        }
        if self.call_box is not None:
            out["call_id"] = self.call_box.currentData() or None
        return out
