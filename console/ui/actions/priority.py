"""Change a call's priority, with the reason."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QWidget,
)

from console.domain.commands import (
    ChangePriority,
    Command,
)
from console.domain.model import (
    PRIORITIES,
    Call,
)
from console.ui.actions.base import (
    ActionDialog,
)
from console.ui.core.labels import call_header, call_status_text


class PriorityDialog(ActionDialog):
    ok_text = "&Change"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Change priority", parent)
        self.call = call
        self.expected_version = call.version
        self.header.setText(call_header(call))
        form = QFormLayout(self.body)
        box = QWidget(self.body)
        hb = QHBoxLayout(box)
        hb.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.choices: dict[int, QRadioButton] = {}
        names = {1: "urgent", 2: "normal", 3: "routine"}
        for p in PRIORITIES:
            current = " (current)" if call.priority_given else " (current: site default)"
            text = f"&{p} {names.get(p, '')}" + (current if p == call.priority else "")
            rb = QRadioButton(text, box)
            if p == call.priority:
                rb.setEnabled(False)
            self.group.addButton(rb, p)
            self.choices[p] = rb
            hb.addWidget(rb)
        hb.addStretch(1)
        form.addRow(QLabel("Priority:", self.body), box)
        self.reason = self.reason_field(form, "&Reason:", "why the priority changes")
        # The likely change is one step more urgent (or less, from 1).
        guess = call.priority - 1 if call.priority > min(PRIORITIES) else call.priority + 1
        self.choices[guess].setChecked(True)
        self.choices[guess].setFocus()
        self.finish_setup()

    def blocked(self) -> str:
        if not self.call.is_open:
            return f"{self.call.id} is closed ({call_status_text(self.call)})."
        return ""

    def build_command(self) -> Command | None:
        p = self.group.checkedId()
        if p not in PRIORITIES:
            self.show_error("Choose the new priority.")
            return None
        return ChangePriority(
            call_id=self.call.id,
            priority=p,
            reason=self.reason.text().strip(),
            expected_version=self.expected_version,
        )
