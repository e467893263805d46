"""Record how a closed call ended (the program's outcome, the kind of destination of a
transport, naloxone given), and naloxone given on any call.

The outcome list is fixed (``console.domain.program``); dispatch's disposition chooses one
already where it says it (``console.domain.outcomes``). Naloxone is a second record, submitted
once the outcome is recorded; both are audited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from console.domain.commands import Command, CommandRejected, RecordNaloxone, RecordOutcome
from console.domain.local import check_local
from console.domain.model import Call
from console.domain.outcomes import (
    DESTINATION_KIND_LABELS,
    DESTINATION_KINDS,
    outcome_from_disposition,
)
from console.domain.program import MAX_NALOXONE_DOSES, Outcome
from console.ui.actions.base import ActionDialog
from console.ui.core.gateway import CommandOp
from console.ui.core.labels import call_header, call_status_text

log = logging.getLogger(__name__)


def _qdt(t: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(t.timestamp()))


def _py(q: QDateTime) -> datetime:
    return datetime.fromtimestamp(q.toSecsSinceEpoch(), UTC)


class NaloxoneFields:
    """Doses (0: none given) and the time given, in a form."""

    def __init__(self, dlg: ActionDialog, form: QFormLayout, call: Call, *, required: bool) -> None:
        self.dlg = dlg
        self.call = call
        self.doses = QSpinBox(dlg.body)
        self.doses.setRange(1 if required else 0, MAX_NALOXONE_DOSES)
        self.doses.setValue(1 if required else 0)
        self.doses.setAccessibleName("Naloxone doses")
        if not required:
            self.doses.setSpecialValueText("none given")
        lab = QLabel("Nal&oxone doses:", dlg.body)
        lab.setBuddy(self.doses)
        form.addRow(lab, self.doses)
        self.given_at = QDateTimeEdit(dlg.body)
        self.given_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.given_at.setMinimumDateTime(_qdt(call.received_at))
        self.given_at.setMaximumDateTime(_qdt(max(dlg.now, call.received_at)))
        guess = call.onscene_at or dlg.now
        self.given_at.setDateTime(_qdt(min(max(guess, call.received_at), dlg.now)))
        self.given_at.setAccessibleName("Naloxone given at")
        tl = QLabel("&Given at:", dlg.body)
        tl.setBuddy(self.given_at)
        form.addRow(tl, self.given_at)
        self.doses.valueChanged.connect(self._sync)
        self._sync()

    def _sync(self, *_: Any) -> None:
        self.given_at.setEnabled(self.doses.value() > 0 and self.dlg.can_act)

    def command(self) -> RecordNaloxone | None:
        """The naloxone record the fields describe (None: none given), after checking it;
        shows the error and raises CommandRejected when it cannot stand."""
        if self.doses.value() <= 0:
            return None
        cmd = RecordNaloxone(
            call_id=self.call.id, doses=self.doses.value(), given_at=_py(self.given_at.dateTime())
        )
        try:
            check_local(cmd, self.dlg.state, self.dlg.ctx.clock.now())
        except CommandRejected as e:
            self.dlg.show_error(str(e), self.given_at)
            raise
        return cmd


class OutcomeDialog(ActionDialog):
    ok_text = "&Record outcome"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Record outcome", parent)
        self.call = call
        self.header.setText(call_header(call))
        form = QFormLayout(self.body)
        self.outcome = QComboBox(self.body)
        self.outcome.addItem("— choose how the call ended —", "")
        for o in Outcome:
            self.outcome.addItem(o.label, o.value)
        self.outcome.setAccessibleName("Outcome")
        lab = QLabel("&Outcome:", self.body)
        lab.setBuddy(self.outcome)
        form.addRow(lab, self.outcome)
        self.suggested = outcome_from_disposition(call.disposition)
        if call.disposition:
            hint = QLabel(
                f"Dispatch's disposition: {call.disposition}"
                + ("" if self.suggested is None else f" (suggests: {self.suggested.label})"),
                self.body,
            )
            hint.setWordWrap(True)
            form.addRow(QLabel("", self.body), hint)
        self.destination = QComboBox(self.body)
        self.destination.setAccessibleName("Destination kind")
        dl = QLabel("&Destination:", self.body)
        dl.setBuddy(self.destination)
        form.addRow(dl, self.destination)
        self.naloxone = NaloxoneFields(self, form, call, required=False)
        self.previous = self.state.outcomes.get(call.id)
        if self.previous is not None:
            form.addRow(
                QLabel("", self.body),
                QLabel(f"Recorded already: {self.previous.outcome.label} (replaced)", self.body),
            )
        self.naloxone_command: RecordNaloxone | None = None
        self.naloxone_op: CommandOp | None = None
        """The recording of naloxone given, once the outcome is recorded."""
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        chosen = self.previous.outcome if self.previous is not None else self.suggested
        if chosen is not None:
            self.outcome.setCurrentIndex(self.outcome.findData(chosen.value))
        self._outcome_changed()
        self.resize(560, 280)
        self.finish_setup()
        self.outcome.setFocus()

    def selected_outcome(self) -> Outcome | None:
        data = self.outcome.currentData()
        return Outcome(data) if data else None

    def _outcome_changed(self, *_: Any) -> None:
        kinds = DESTINATION_KINDS.get(self.selected_outcome() or Outcome.REFERRED, ())
        self.destination.clear()
        if len(kinds) > 1:
            self.destination.addItem("— choose the kind of place —", "")
        for k in kinds:
            self.destination.addItem(DESTINATION_KIND_LABELS[k], k)
        self.destination.setEnabled(bool(kinds) and self.can_act)

    def blocked(self) -> str:
        if self.call.is_open:
            return (
                f"{self.call.id} is still open ({call_status_text(self.call)}): record its "
                "outcome once it is cleared."
            )
        return ""

    def build_command(self) -> Command | None:
        outcome = self.selected_outcome()
        if outcome is None:
            self.show_error("Choose how the call ended.", self.outcome)
            return None
        dest = ""
        if outcome in DESTINATION_KINDS:
            dest = str(self.destination.currentData() or "")
            if not dest:
                self.show_error("Choose the kind of place the person went to.", self.destination)
                return None
        try:
            self.naloxone_command = self.naloxone.command()
        except CommandRejected:
            return None
        return RecordOutcome(call_id=self.call.id, outcome=outcome, destination_kind=dest)

    def _queued(self, op: CommandOp, command_id: str) -> None:
        if op is self._awaiting and self.naloxone_command is not None:
            nal = self.ctx.gateway.submit(self.naloxone_command)
            nal.on_refused(lambda why: log.warning("naloxone was not recorded: %s", why))
            self.naloxone_op = nal
        super()._queued(op, command_id)


class NaloxoneDialog(ActionDialog):
    ok_text = "&Record naloxone"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Record naloxone", parent)
        self.call = call
        self.header.setText(call_header(call))
        form = QFormLayout(self.body)
        given = self.state.naloxone_for(call.id)
        if given:
            form.addRow(
                QLabel("Given already:", self.body),
                QLabel(
                    "; ".join(
                        f"{d.doses} at {d.given_at.astimezone():%H:%M} ({d.operator})"
                        for d in given
                    ),
                    self.body,
                ),
            )
        self.naloxone = NaloxoneFields(self, form, call, required=True)
        self.finish_setup()
        self.naloxone.doses.setFocus()

    def build_command(self) -> Command | None:
        try:
            return self.naloxone.command()
        except CommandRejected:
            return None
