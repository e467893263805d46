"""Add a note to a call."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import (
    AddNote,
    Command,
)
from console.domain.model import (
    Call,
)
from console.ui.actions.base import (
    ActionDialog,
)
from console.ui.core.labels import call_header


class NoteDialog(ActionDialog):
    ok_text = "&Add note"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Add a note", parent)
        self.call = call
        self.expected_version = call.version
        self.header.setText(call_header(call))
        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(0, 0, 0, 0)
        lab = QLabel("&Note (Ctrl+Enter adds it):", self.body)
        self.text = QPlainTextEdit(self.body)
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName("Note")
        lab.setBuddy(self.text)
        lay.addWidget(lab)
        lay.addWidget(self.text, 1)
        self.text.installEventFilter(self)
        self.text.setFocus()
        self.finish_setup()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Enter writes a new line in the note; Ctrl+Enter adds the note.
        if (
            obj is self.text
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.accept()
            return True
        return super().eventFilter(obj, event)

    def build_command(self) -> Command | None:
        text = self.text.toPlainText().strip()
        if not text:
            self.show_error("A note cannot be empty.", self.text)
            return None
        # Notes never conflict with other changes: no expected version, so one always lands.
        return AddNote(call_id=self.call.id, text=text)
