"""Escalate a call to police, EMS, mobile crisis or co-response."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.alerts import backup_requests
from console.domain.commands import (
    Command,
    EscalateCall,
)
from console.domain.model import (
    Call,
    EscalationTarget,
)
from console.domain.rules import (
    ServiceHours,
)
from console.ui.actions.base import (
    TARGET_LABELS,
    ActionDialog,
    hours_text,
    mobile_crisis_open,
    plain,
)
from console.ui.core.labels import call_header, call_status_text


def backup_text(alerts: list[Any]) -> str:
    """``CRT-3 asked for backup at 03:05`` (each request, oldest first)."""
    return "; ".join(
        f"{a.subject} asked for backup at {a.raised_at.astimezone():%H:%M}" for a in alerts
    )


class EscalateDialog(ActionDialog):
    ok_text = "&Escalate"

    def __init__(
        self,
        ctx: Any,
        call: Call,
        *,
        target: EscalationTarget | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, "Escalate call", parent)
        self.call = call
        self.expected_version = call.version
        self.header.setText(call_header(call))
        hours: ServiceHours = ctx.config.mobile_crisis_hours
        self.mobile_crisis_open = mobile_crisis_open(hours, self.now)
        self.mobile_crisis_why = (
            ""
            if self.mobile_crisis_open
            else f"closed now (hours {hours_text(hours)}); escalate to police or EMS, "
            "or co-response"
        )

        form = QFormLayout(self.body)
        box = QWidget(self.body)
        vb = QVBoxLayout(box)
        vb.setContentsMargins(0, 0, 0, 0)
        self.target_group = QButtonGroup(self)
        self.targets: dict[EscalationTarget, QRadioButton] = {}
        for t, label in TARGET_LABELS.items():
            text = label
            if t is EscalationTarget.MOBILE_CRISIS:
                text += (
                    f" — hours {hours_text(hours)}"
                    if self.mobile_crisis_open
                    else f" — {self.mobile_crisis_why}"
                )
            rb = QRadioButton(text, box)
            rb.setAccessibleName(plain(text))
            if t is EscalationTarget.MOBILE_CRISIS and not self.mobile_crisis_open:
                rb.setEnabled(False)
                rb.setToolTip("Mobile crisis is " + self.mobile_crisis_why)
            self.target_group.addButton(rb)
            self.targets[t] = rb
            vb.addWidget(rb)
        form.addRow(QLabel("To:", self.body), box)

        ubox = QWidget(self.body)
        hb = QHBoxLayout(ubox)
        hb.setContentsMargins(0, 0, 0, 0)
        self.urgency_group = QButtonGroup(self)
        self.immediate = QRadioButton("&Immediate", ubox)
        self.normal = QRadioButton("&Normal", ubox)
        for rb in (self.immediate, self.normal):
            self.urgency_group.addButton(rb)
            hb.addWidget(rb)
        hb.addStretch(1)
        form.addRow(QLabel("Urgency:", self.body), ubox)
        self.reason = self.reason_field(form, "&Reason:", "required: why escalate")

        # A team on this call asking for backup: police, immediately, as for a flagged call.
        self.backup = backup_requests(self.state, call.id)
        if self.backup:
            form.insertRow(
                0, QLabel("Backup:", self.body), QLabel(backup_text(self.backup), self.body)
            )
            target = target or EscalationTarget.POLICE
        if target is not None and self.targets[target].isEnabled():
            self.targets[target].setChecked(True)
        if call.is_unsafe or self.backup:
            self.immediate.setChecked(True)
        self.resize(620, 300)
        self.finish_setup()
        self.reason.setFocus()

    def blocked(self) -> str:
        if not self.call.is_open:
            return f"{self.call.id} is closed ({call_status_text(self.call)})."
        return ""

    def selected_target(self) -> EscalationTarget | None:
        for t, rb in self.targets.items():
            if rb.isChecked() and rb.isEnabled():
                return t
        return None

    def build_command(self) -> Command | None:
        target = self.selected_target()
        if target is None:
            self.show_error("Choose where to escalate.", self.targets[EscalationTarget.POLICE])
            return None
        if self.immediate.isChecked():
            urgency = "immediate"
        elif self.normal.isChecked():
            urgency = "normal"
        else:
            self.show_error("Choose the urgency: immediate or normal.", self.immediate)
            return None
        reason = self.reason.text().strip()
        if not reason:
            self.show_error("A reason is required to escalate a call.", self.reason)
            return None
        return EscalateCall(
            call_id=self.call.id,
            target=target,
            urgency=urgency,
            reason=reason,
            expected_version=self.expected_version,
        )
