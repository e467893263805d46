"""The follow-up actions: record an attempt, close (asking for its end), open one by hand.

Each is a local record (audited, never sent to dispatch). The dialogs show the call and, to a
supervisor, the callback number from the call's own persons record; nothing else about the
person.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import CloseFollowUp, Command, RecordFollowUpAttempt
from console.domain.followup import manual_command, owner_for
from console.domain.model import Call
from console.domain.program import (
    FOLLOWUP_CHANNELS,
    FOLLOWUP_END_LABELS,
    FOLLOWUP_RESULTS,
    FollowUp,
    FollowUpEnd,
)
from console.ui.actions.base import ActionDialog
from console.ui.core.labels import call_header
from console.ui.followups.model import CAUSE_LABELS, CHANNEL_LABELS, RESULT_LABELS


def _combo(parent: QWidget, items: dict[str, str], name: str) -> QComboBox:
    box = QComboBox(parent)
    for value, label in items.items():
        box.addItem(label, value)
    box.setAccessibleName(name)
    return box


def _describe(fu: FollowUp) -> str:
    due = f"due {fu.due_at.astimezone():%a %d %b %H:%M}" if fu.due_at else "no due time"
    cause = CAUSE_LABELS.get(fu.cause, fu.cause)
    return f"Follow-up {fu.id} for {fu.call_id} — {fu.owner}, {due}; {cause}"


class _FollowUpDialog(ActionDialog):
    def __init__(self, ctx: Any, fu: FollowUp, title: str, parent: QWidget | None) -> None:
        super().__init__(ctx, title, parent)
        self.fu = fu
        call = self.state.calls.get(fu.call_id)
        if call is not None:
            self.call = call  # the subject: the call's callback number shows to a supervisor
        tried = len(fu.attempts)
        self.header.setText(_describe(fu) + f"\n{tried} attempt{'s' if tried != 1 else ''} so far")

    def blocked(self) -> str:
        if not self.fu.is_open:
            return f"{self.fu.id} is closed ({FOLLOWUP_END_LABELS[self.fu.end] if self.fu.end else ''})."
        return ""

    def subject_id(self) -> str:
        return self.fu.id


class AttemptDialog(_FollowUpDialog):
    ok_text = "&Record attempt"

    def __init__(self, ctx: Any, fu: FollowUp, parent: QWidget | None = None) -> None:
        super().__init__(ctx, fu, "Record a follow-up attempt", parent)
        form = QFormLayout(self.body)
        self.channel_box = _combo(
            self.body, {c: CHANNEL_LABELS[c] for c in FOLLOWUP_CHANNELS}, "Channel"
        )
        self.result_box = _combo(
            self.body, {r: RESULT_LABELS[r] for r in FOLLOWUP_RESULTS}, "Result"
        )
        form.addRow("&Channel:", self.channel_box)
        form.addRow("R&esult:", self.result_box)
        self.reason = self.reason_field(form, "&Note:", "optional")
        self.finish_setup()
        self.setWindowTitle(f"Record a follow-up attempt — {fu.id}")
        self.ok_button.setText(f"{self.ok_text} for {fu.call_id}")
        self.channel_box.setFocus()

    def build_command(self) -> Command | None:
        return RecordFollowUpAttempt(
            followup_id=self.fu.id,
            channel=str(self.channel_box.currentData()),
            result=str(self.result_box.currentData()),
            reason=self.reason.text().strip(),
        )


class CloseDialog(_FollowUpDialog):
    """Closing asks for the follow-up's end: none is chosen until the supervisor picks one."""

    ok_text = "&Close follow-up"

    def __init__(self, ctx: Any, fu: FollowUp, parent: QWidget | None = None) -> None:
        super().__init__(ctx, fu, "Close a follow-up", parent)
        form = QFormLayout(self.body)
        box = QWidget(self.body)
        vb = QVBoxLayout(box)
        vb.setContentsMargins(0, 0, 0, 0)
        self.ends_group = QButtonGroup(self)
        self.ends: dict[FollowUpEnd, QRadioButton] = {}
        for end, label in FOLLOWUP_END_LABELS.items():
            rb = QRadioButton(label, box)
            rb.setAccessibleName(label)
            self.ends_group.addButton(rb)
            self.ends[end] = rb
            vb.addWidget(rb)
        form.addRow("How it ended:", box)
        self.reason = self.reason_field(form, "&Note:", "optional")
        self.finish_setup()
        self.setWindowTitle(f"Close a follow-up — {fu.id}")
        self.ok_button.setText(f"{self.ok_text} for {fu.call_id}")

    def chosen(self) -> FollowUpEnd | None:
        return next((e for e, rb in self.ends.items() if rb.isChecked()), None)

    def build_command(self) -> Command | None:
        end = self.chosen()
        if end is None:
            self.show_error("Choose how the follow-up ended.", next(iter(self.ends.values())))
            return None
        return CloseFollowUp(followup_id=self.fu.id, end=end, reason=self.reason.text().strip())


class OpenDialog(ActionDialog):
    """Open a follow-up by hand for a call (the call selected, or any other by its number)."""

    ok_text = "&Open follow-up"

    def __init__(self, ctx: Any, call_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Open a follow-up", parent)
        self.header.setText("A follow-up by hand, due by the site's default.")
        form = QFormLayout(self.body)
        self.call_box = QComboBox(self.body)
        self.call_box.setEditable(True)
        self.call_box.setAccessibleName("Call")
        ids = sorted(self.state.calls, reverse=True)
        self.call_box.addItems(ids)
        if call_id:
            self.call_box.setCurrentText(call_id)
        else:
            self.call_box.setCurrentText("")
        form.addRow("C&all:", self.call_box)
        self.owner = self.reason_field(form, "O&wner:", "agency or team")
        self.reason = self.reason_field(form, "&Note:", "optional: why")
        self.call_box.currentTextChanged.connect(self._call_changed)
        self._call_changed(self.call_box.currentText())
        self.finish_setup()
        self.call_box.setFocus()

    def _policy(self) -> Any:
        return self.ctx.config.followup

    def _call_changed(self, text: str) -> None:
        call = self.state.calls.get(text.strip())
        if call is not None:
            self.header.setText(call_header(call))
            self.owner.setText(owner_for(call, self.state.teams, self._policy()))

    def build_command(self) -> Command | None:
        cid = self.call_box.currentText().strip()
        latest = self.ctx.pictures.current()
        call: Call | None = latest.state.calls.get(cid)
        if call is None:
            self.show_error(
                f"No call {cid} is known; check the call number." if cid else "Give a call number.",
                self.call_box,
            )
            return None
        return manual_command(
            call, self.owner.text(), latest.now, self._policy(), reason=self.reason.text().strip()
        )
