"""Escalate a call to police, EMS, mobile crisis or co-response."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
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
    GiveUnservedReason,
)
from console.domain.model import (
    Call,
    EscalationTarget,
)
from console.domain.program import UnservedReason
from console.domain.rules import (
    ServiceHours,
)
from console.domain.unserved import reason_if_closed_now, would_go_unserved
from console.ui.actions.base import (
    TARGET_LABELS,
    ActionDialog,
    hours_text,
    mobile_crisis_open,
    plain,
)
from console.ui.core.gateway import CommandOp
from console.ui.core.labels import call_header, call_status_text

log = logging.getLogger(__name__)


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
        # An eligible call no team went to: escalating it leaves it unserved, so say why (the
        # reason the records prove, if any, is chosen already).
        self.unserved: QComboBox | None = None
        self.unserved_command: GiveUnservedReason | None = None
        self.reason_op: CommandOp | None = None
        """The recording of the unserved reason, once the escalation is queued."""
        self.inferred_reason: UnservedReason | None = None
        if would_go_unserved(call, self.state):
            self.inferred_reason = reason_if_closed_now(
                call, self.state, getattr(ctx.config, "program_hours", ServiceHours()), self.now
            )
            self.unserved = QComboBox(self.body)
            self.unserved.addItem("— choose why —", None)
            for r in UnservedReason:
                self.unserved.addItem(r.label, r.value)
            if self.inferred_reason is not None:
                self.unserved.setCurrentIndex(self.unserved.findData(self.inferred_reason.value))
            self.unserved.setAccessibleName("Why no civilian team")
            self.unserved.setToolTip(
                "This call passed the safety screen and no team went: the program records why."
            )
            lab = QLabel("&Why no civilian team:", self.body)
            lab.setBuddy(self.unserved)
            form.addRow(lab, self.unserved)
            self.target_group.buttonToggled.connect(self._target_toggled)

        if target is not None and self.targets[target].isEnabled():
            self.targets[target].setChecked(True)
        if call.is_unsafe or self.backup:
            self.immediate.setChecked(True)
        self.resize(620, 300)
        self.finish_setup()
        self.reason.setFocus()

    def _target_toggled(self, *_: Any) -> None:
        if self.unserved is not None:  # a co-response sends a civilian team with police
            co = self.targets[EscalationTarget.CO_RESPONSE].isChecked()
            self.unserved.setEnabled(not co and self.can_act)

    def unserved_reason(self) -> UnservedReason | None:
        if self.unserved is None or not self.unserved.isEnabled():
            return None
        data = self.unserved.currentData()
        return UnservedReason(data) if data else None

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
        why = self.unserved_reason()
        if self.unserved is not None and self.unserved.isEnabled() and why is None:
            self.show_error("Choose why no civilian team takes this call.", self.unserved)
            return None
        self.unserved_command = (
            None if why is None else GiveUnservedReason(call_id=self.call.id, unserved=why)
        )
        return EscalateCall(
            call_id=self.call.id,
            target=target,
            urgency=urgency,
            reason=reason,
            expected_version=self.expected_version,
        )

    def _queued(self, op: CommandOp, command_id: str) -> None:
        """The escalation is queued: record why no civilian team went with it (a second,
        audited submission; the dialog closes once the escalation is queued)."""
        if op is self._awaiting and self.unserved_command is not None:
            reason_op = self.ctx.gateway.submit(self.unserved_command)
            reason_op.on_refused(
                lambda why: log.warning("the unserved reason was not recorded: %s", why)
            )
            self.reason_op = reason_op
        super()._queued(op, command_id)
