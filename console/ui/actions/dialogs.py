"""Action dialogs: assign, reassign, escalate, change priority, note, team service, check-in.

Each dialog shows what the supervisor needs to decide, builds one domain command (carrying the
call version the supervisor saw, so a call that changed meanwhile is refused rather than acted
on blindly) and hands it to ``ctx.gateway``. The dialog stays open until the gateway says the
command was queued for dispatch; a refusal by the console's rules is shown in the dialog and
the supervisor can correct and retry. Dispatch's own answer arrives later through the picture
(queue, board, audit).

Keyboard first: Enter accepts (Ctrl+Enter in a multi-line note), Esc cancels, every field and
button has a mnemonic. A viewer or trainer sees the dialog with the reason they cannot act and
no way to send.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import (
    AddNote,
    AssignTeam,
    ChangePriority,
    Command,
    CommandRejected,
    EscalateCall,
    ReassignCall,
    RequestCheckin,
    SetTeamService,
)
from console.domain.model import (
    PRIORITIES,
    Call,
    CallStatus,
    EscalationTarget,
    Team,
    TeamStatus,
)
from console.domain.projection import State
from console.domain.rules import (
    Recommendation,
    ServiceHours,
    calls_this_shift,
    recommend,
    validate_command,
)
from console.ui.core import theme

log = logging.getLogger(__name__)

KINDS = ("assign", "reassign", "escalate", "priority", "note", "team_service", "checkin")
CALL_KINDS = frozenset({"assign", "reassign", "escalate", "priority", "note"})
TEAM_KINDS = frozenset({"team_service", "checkin"})

TARGET_LABELS: dict[EscalationTarget, str] = {
    EscalationTarget.POLICE: "&Police",
    EscalationTarget.EMS: "E&MS",
    EscalationTarget.MOBILE_CRISIS: "Mobile &crisis",
    EscalationTarget.CO_RESPONSE: "C&o-response (police + civilian team)",
}

TEAM_ID_ROLE = int(Qt.ItemDataRole.UserRole)
ELIGIBLE_ROLE = int(Qt.ItemDataRole.UserRole) + 1


def plain(text: str) -> str:
    """A label without its mnemonic ampersands."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def mobile_crisis_open(hours: ServiceHours, now: datetime) -> bool:
    """Whether mobile crisis takes calls at ``now``, judged exactly as the rules judge it."""
    return hours.open_at_instant(now)


def hours_text(hours: ServiceHours) -> str:
    end = "24:00" if (hours.end.hour, hours.end.minute) == (23, 59) else f"{hours.end:%H:%M}"
    return f"{hours.start:%H:%M}-{end}"


def describe_call(call: Call) -> str:
    where = call.address or call.neighborhood or "location unknown"
    team = f", team {call.team}" if call.team else ""
    return (
        f"{call.id}  P{call.priority} {call.type.label} — {where} "
        f"({call.status.value.replace('_', ' ')}{team})"
    )


def _set_role(w: QWidget, role: str) -> None:
    """Style hook for the theme's QSS (``QLabel[role="error"]`` ...)."""
    w.setProperty("role", role)
    w.style().unpolish(w)
    w.style().polish(w)


class ActionDialog(QDialog):
    """Common frame: header, body, inline error, refusal for roles that cannot act, buttons."""

    ok_text = "&Send"

    def __init__(self, ctx: Any, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setObjectName(f"action-dialog-{type(self).__name__}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        picture = ctx.pictures.current()
        self.state: State = picture.state
        self.now: datetime = picture.now
        self.command: Command | None = None
        """The command handed to the gateway (None until accepted)."""
        self.command_id: str | None = None
        """The id the store gave it (for following dispatch's answer)."""
        self.followup: QDialog | None = None
        """A dialog this one opened instead of itself (escalation offered by the safety screen)."""
        self._awaiting: Command | None = None
        self._connected = False

        self.layout_ = QVBoxLayout(self)
        self.header = QLabel(self)
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _set_role(self.header, "header")
        self.layout_.addWidget(self.header)
        self.body = QWidget(self)
        self.layout_.addWidget(self.body, 1)

        self.refusal = QLabel(self)
        self.refusal.setWordWrap(True)
        _set_role(self.refusal, "refusal")
        self.refusal.hide()
        self.layout_.addWidget(self.refusal)

        self.changed_notice = QLabel(self)
        self.changed_notice.setWordWrap(True)
        self.changed_notice.setAccessibleName("Changed meanwhile")
        _set_role(self.changed_notice, "safety")
        self.changed_notice.hide()
        self.layout_.addWidget(self.changed_notice)

        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Error")
        _set_role(self.error, "error")
        self.error.hide()
        self.layout_.addWidget(self.error)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.ok_text)
        self.ok_button.setDefault(True)
        self.ok_button.setAutoDefault(True)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("Cancel")  # Esc; no mnemonic to collide with fields
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

        ctx.pictures.picture_changed.connect(self._on_picture)

        allowed, why = ctx.gateway.can_act()
        self.can_act = bool(allowed)
        self.refusal_reason = "" if allowed else (why or "Actions are disabled")

    # -- subclass hooks --------------------------------------------------------------------------

    def build_command(self) -> Command | None:
        """The command the fields describe, or None after showing what is missing."""
        raise NotImplementedError

    def blocked(self) -> str:
        """Why this action cannot be taken at all here (empty: it can)."""
        return ""

    def subject(self) -> tuple[str, str] | None:
        """("call" | "team", id) this dialog acts on, to notice when it changes."""
        call = getattr(self, "call", None)
        if isinstance(call, Call):
            return ("call", call.id)
        team = getattr(self, "team", None)
        if isinstance(team, Team):
            return ("team", team.id)
        return None

    def _on_picture(self, picture: Any, _changes: Any) -> None:
        """Never act on a stale view without saying so: the subject changed under the dialog."""
        subj = self.subject()
        if subj is None or not self.isVisible():
            return
        kind, sid = subj
        if kind == "call":
            before = self.state.calls.get(sid)
            now_c = picture.state.calls.get(sid)
            if now_c is None or before is None or now_c.version == before.version:
                return
            team = f", team {now_c.team}" if now_c.team else ""
            text = (
                f"⚠ {sid} changed while this dialog was open: now "
                f"{now_c.status.value.replace('_', ' ')}, priority {now_c.priority}{team}. "
                "Cancel and reopen to act on what it is now."
            )
        else:
            before_t = self.state.teams.get(sid)
            now_t = picture.state.teams.get(sid)
            if now_t is None or before_t is None or now_t.status is before_t.status:
                return
            on = f" on {now_t.call}" if now_t.call else ""
            text = (
                f"⚠ {sid} changed while this dialog was open: now "
                f"{now_t.status.value.replace('_', ' ')}{on}."
            )
        self.changed_notice.setText(text)
        self.changed_notice.show()

    # -- common behaviour ------------------------------------------------------------------------

    def finish_setup(self) -> None:
        """Called by subclasses once their fields exist: applies role and blocking reasons."""
        reason = self.refusal_reason or self.blocked()
        if reason:
            self.refusal.setText("✖ " + reason)
            self.refusal.show()
            self.ok_button.setEnabled(False)
            self.ok_button.setToolTip(reason)
        if not self.can_act:
            for w in self.body.findChildren(QWidget):
                if isinstance(w, QLineEdit | QPlainTextEdit | QRadioButton):
                    w.setEnabled(False)

    def show_error(self, text: str, field: QWidget | None = None) -> None:
        self.error.setText("⚠ " + text)
        self.error.show()
        if field is not None:
            field.setProperty("invalid", True)
            field.style().unpolish(field)
            field.style().polish(field)
            field.setFocus()

    def clear_error(self) -> None:
        self.error.hide()
        self.error.clear()
        for w in self.body.findChildren(QWidget):
            if w.property("invalid"):
                w.setProperty("invalid", False)
                w.style().unpolish(w)
                w.style().polish(w)

    def accept(self) -> None:
        if self._awaiting is not None:
            return  # already handed to the gateway; its answer closes or reopens the dialog
        if not self.can_act:
            self.show_error(self.refusal_reason)
            return
        self.clear_error()
        cmd = self.build_command()
        if cmd is None:
            return
        try:  # the same rules the store applies, on the picture the supervisor sees
            latest = self.ctx.pictures.current()  # the picture may have moved on meanwhile
            validate_command(
                cmd,
                latest.state.calls,
                latest.state.teams,
                mobile_crisis_hours=self.ctx.config.mobile_crisis_hours,
                now=latest.now,
            )
        except CommandRejected as e:
            self.show_error(str(e))
            return
        self._send(cmd)

    def _send(self, cmd: Command) -> None:
        gw = self.ctx.gateway
        self._awaiting = cmd
        self.ok_button.setEnabled(False)
        self.ok_button.setText("Sending…")
        if not self._connected:
            gw.submitted.connect(self._on_submitted)
            gw.rejected.connect(self._on_rejected)
            self._connected = True
        try:
            gw.submit(cmd)
        except Exception as e:  # a gateway failure must not take the console down
            log.exception("submitting %s failed", cmd.kind)
            self._on_rejected(cmd, f"could not submit: {e}")

    def _disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        gw = self.ctx.gateway
        for sig, slot in ((gw.submitted, self._on_submitted), (gw.rejected, self._on_rejected)):
            with contextlib.suppress(RuntimeError, TypeError):
                sig.disconnect(slot)

    def _on_submitted(self, command_id: str, command: object) -> None:
        if command is not self._awaiting:
            return
        self._disconnect()
        self.command = self._awaiting
        self._awaiting = None
        self.command_id = command_id
        super().accept()

    def _on_rejected(self, command: object, reason: str) -> None:
        if command is not self._awaiting:
            return
        self._disconnect()
        self._awaiting = None
        self.ok_button.setEnabled(True)
        self.ok_button.setText(self.ok_text)
        self.show_error(f"Refused: {reason}")

    def done(self, r: int) -> None:
        self._disconnect()
        with contextlib.suppress(RuntimeError, TypeError):
            self.ctx.pictures.picture_changed.disconnect(self._on_picture)
        super().done(r)

    # -- small builders --------------------------------------------------------------------------

    def reason_field(self, form: QFormLayout, label: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self.body)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(plain(label))
        lab = QLabel(label, self.body)
        lab.setBuddy(edit)
        form.addRow(lab, edit)
        return edit


# -- assign / reassign -----------------------------------------------------------------------------


class AssignDialog(ActionDialog):
    """The recommendation: eligible teams ranked with reasons, ineligible ones greyed with why not."""

    def __init__(
        self, ctx: Any, call: Call, *, reassign: bool = False, parent: QWidget | None = None
    ) -> None:
        self.reassign = reassign
        self.ok_text = "&Reassign" if reassign else "&Assign"
        super().__init__(ctx, "Reassign call" if reassign else "Assign a team", parent)
        self.call = call
        self.expected_version = call.version
        st = self.state
        self.recommendation: Recommendation = recommend(
            call,
            st.teams.values(),
            st.positions,
            calls_this_shift(st.assignments.keys()),
            ctx.config.recommendation,
        )
        rec = self.recommendation
        self.header.setText(describe_call(call))

        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(0, 0, 0, 0)
        self.screen_label = QLabel(self.body)
        self.screen_label.setWordWrap(True)
        lay.addWidget(self.screen_label)
        self.escalate_button: QPushButton | None = None

        list_label = QLabel("&Teams (best first):", self.body)
        lay.addWidget(list_label)
        self.teams = QTreeWidget(self.body)
        self.teams.setColumnCount(4)
        self.teams.setHeaderLabels(["#", "Team", "Status", "Why"])
        self.teams.setRootIsDecorated(False)
        self.teams.setAlternatingRowColors(True)
        self.teams.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.teams.setAccessibleName("Teams, best first")
        self.teams.header().setStretchLastSection(True)
        self.teams.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.teams.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.teams.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.teams.itemDoubleClicked.connect(lambda *_: self.accept())
        list_label.setBuddy(self.teams)
        lay.addWidget(self.teams, 1)

        muted = QColor(theme.colors().muted)
        for rank, cand in enumerate(rec.ranked, start=1):
            team = st.teams[cand.team_id]
            item = QTreeWidgetItem(
                [
                    str(rank),
                    cand.team_id,
                    team.status.value.replace("_", " "),
                    ("★ recommended — " if rank == 1 else "") + "; ".join(cand.reasons),
                ]
            )
            item.setData(0, TEAM_ID_ROLE, cand.team_id)
            item.setData(0, ELIGIBLE_ROLE, True)
            item.setToolTip(3, "\n".join(cand.reasons))
            self.teams.addTopLevelItem(item)
        for team_id, why in rec.ineligible:
            team = st.teams[team_id]
            item = QTreeWidgetItem(
                [
                    "✕",
                    team_id,
                    team.status.value.replace("_", " "),
                    "not eligible: " + "; ".join(why),
                ]
            )
            item.setData(0, TEAM_ID_ROLE, team_id)
            item.setData(0, ELIGIBLE_ROLE, False)
            item.setToolTip(3, "Not eligible:\n" + "\n".join(why))
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed, cannot be chosen
            for col in range(4):
                item.setForeground(col, muted)
            self.teams.addTopLevelItem(item)

        form = QFormLayout()
        lay.addLayout(form)
        self.reason = self.reason_field(
            form,
            "&Reason:",
            "required: why this call moves to another team"
            if reassign
            else "optional: anything dispatch should know",
        )

        if not rec.screen.civilian_ok:
            self.screen_label.setText("⚠ " + rec.screen.message)
            _set_role(self.screen_label, "safety")
            self._offer_escalation(
                rec.screen.escalate_to[0] if rec.screen.escalate_to else None,
                rec.screen.escalate_to,
            )
        elif not rec.ranked:
            self.screen_label.setText(
                "⚠ No eligible team for this call right now (see why below). "
                "Wait for a team to clear, or escalate."
            )
            _set_role(self.screen_label, "safety")
            self._offer_escalation(None, ())
        else:
            self.screen_label.setText("✓ " + rec.screen.message)
            _set_role(self.screen_label, "muted")

        if rec.best is not None:
            first = self.teams.topLevelItem(0)
            if first is not None:
                self.teams.setCurrentItem(first)
                first.setSelected(True)
        self.teams.setFocus()
        self.resize(760, 420)
        self.finish_setup()

    def _offer_escalation(
        self, target: EscalationTarget | None, targets: tuple[EscalationTarget, ...]
    ) -> None:
        label = "&Escalate"
        if target is not None:
            label += " to " + plain(TARGET_LABELS[target]).split(" (")[0]
        label += "…"
        btn = QPushButton(label, self)
        btn.setAutoDefault(True)
        btn.setToolTip("Open the escalation dialog for this call")
        btn.clicked.connect(lambda: self.escalate_instead(target))
        self.buttons.addButton(btn, QDialogButtonBox.ButtonRole.ActionRole)
        self.escalate_button = btn
        self.ok_button.setDefault(False)
        btn.setDefault(True)
        self.suggested_target = target

    def blocked(self) -> str:
        rec = self.recommendation
        if not rec.screen.civilian_ok:
            return "This call cannot be given to a civilian team: " + "; ".join(rec.screen.reasons)
        if not rec.ranked:
            return "No eligible team for this call."
        if self.reassign and self.call.team is None:
            return f"{self.call.id} has no team to reassign from; assign it instead."
        if self.reassign and self.call.status in (CallStatus.ON_SCENE, CallStatus.TRANSPORTING):
            where = self.call.status.value.replace("_", " ")
            return f"{self.call.team} is already {where} at {self.call.id}; it cannot be moved."
        return ""

    def escalate_instead(self, target: EscalationTarget | None) -> EscalateDialog:
        dlg = EscalateDialog(self.ctx, self.call, target=target, parent=self.parentWidget())
        self.followup = dlg
        self.reject()
        dlg.open()
        return dlg

    def selected_team(self) -> str | None:
        items = self.teams.selectedItems()
        if not items or not items[0].data(0, ELIGIBLE_ROLE):
            return None
        return str(items[0].data(0, TEAM_ID_ROLE))

    def build_command(self) -> Command | None:
        team_id = self.selected_team()
        if team_id is None:
            self.show_error("Choose an eligible team.", self.teams)
            return None
        reason = self.reason.text().strip()
        if self.reassign:
            if not reason:
                self.show_error("A reason is required to reassign a call.", self.reason)
                return None
            return ReassignCall(
                call_id=self.call.id,
                team_id=team_id,
                reason=reason,
                expected_version=self.expected_version,
            )
        return AssignTeam(
            call_id=self.call.id,
            team_id=team_id,
            reason=reason,
            expected_version=self.expected_version,
        )


# -- escalate --------------------------------------------------------------------------------------


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
        self.header.setText(describe_call(call))
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

        if target is not None and self.targets[target].isEnabled():
            self.targets[target].setChecked(True)
        if call.is_unsafe:
            self.immediate.setChecked(True)
        self.resize(620, 300)
        self.finish_setup()
        self.reason.setFocus()

    def blocked(self) -> str:
        if not self.call.is_open:
            return f"{self.call.id} is closed ({self.call.status.value})."
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


# -- priority, note --------------------------------------------------------------------------------


class PriorityDialog(ActionDialog):
    ok_text = "&Change"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Change priority", parent)
        self.call = call
        self.expected_version = call.version
        self.header.setText(describe_call(call))
        form = QFormLayout(self.body)
        box = QWidget(self.body)
        hb = QHBoxLayout(box)
        hb.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.choices: dict[int, QRadioButton] = {}
        names = {1: "urgent", 2: "normal", 3: "routine"}
        for p in PRIORITIES:
            text = f"&{p} {names.get(p, '')}" + (" (current)" if p == call.priority else "")
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
            return f"{self.call.id} is closed ({self.call.status.value})."
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


class NoteDialog(ActionDialog):
    ok_text = "&Add note"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Add a note", parent)
        self.call = call
        self.expected_version = call.version
        self.header.setText(describe_call(call))
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


# -- team service, check-in ------------------------------------------------------------------------


def describe_team(team: Team, call_label: str = "") -> str:
    status = team.status.value.replace("_", " ")
    on = f" on {team.call}" if team.call else ""
    prov = f" ({team.provider})" if team.provider else ""
    return f"{team.id}{prov} — {status}{on}{call_label}"


class TeamServiceDialog(ActionDialog):
    def __init__(self, ctx: Any, team: Team, parent: QWidget | None = None) -> None:
        self.team = team
        self.going_in = team.status in (TeamStatus.OUT_OF_SERVICE, TeamStatus.OFF_DUTY)
        self.ok_text = "Back &in service" if self.going_in else "&Out of service"
        super().__init__(
            ctx, "Return team to service" if self.going_in else "Set team out of service", parent
        )
        self.header.setText(describe_team(team))
        form = QFormLayout(self.body)
        self.reason = self.reason_field(
            form,
            "&Reason:",
            "optional" if self.going_in else "required: why the team goes out of service",
        )
        self.reason.setFocus()
        self.finish_setup()

    def blocked(self) -> str:
        if not self.going_in and self.team.status.busy:
            return f"{self.team.id} is working {self.team.call}; clear or reassign it first."
        return ""

    def build_command(self) -> Command | None:
        reason = self.reason.text().strip()
        if not self.going_in and not reason:
            self.show_error("A reason is required to take a team out of service.", self.reason)
            return None
        return SetTeamService(team_id=self.team.id, in_service=self.going_in, reason=reason)


class CheckinDialog(ActionDialog):
    ok_text = "&Request check-in"

    def __init__(self, ctx: Any, team: Team, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Request a check-in", parent)
        self.team = team
        last = (
            f"last check-in {team.last_checkin:%H:%M}" if team.last_checkin else "no check-in yet"
        )
        self.header.setText(describe_team(team, f"; {last}"))
        form = QFormLayout(self.body)
        self.reason = self.reason_field(form, "&Message:", "optional: what to ask the team")
        self.reason.setFocus()
        self.finish_setup()

    def blocked(self) -> str:
        if not self.team.status.on_duty:
            return f"{self.team.id} is {self.team.status.value.replace('_', ' ')}."
        return ""

    def build_command(self) -> Command | None:
        return RequestCheckin(team_id=self.team.id, reason=self.reason.text().strip())


# -- entry point ---------------------------------------------------------------------------------


_CALL_DIALOGS: dict[str, Callable[..., ActionDialog]] = {
    "assign": lambda ctx, call, parent: AssignDialog(ctx, call, parent=parent),
    "reassign": lambda ctx, call, parent: AssignDialog(ctx, call, reassign=True, parent=parent),
    "escalate": lambda ctx, call, parent: EscalateDialog(ctx, call, parent=parent),
    "priority": lambda ctx, call, parent: PriorityDialog(ctx, call, parent=parent),
    "note": lambda ctx, call, parent: NoteDialog(ctx, call, parent=parent),
}
_TEAM_DIALOGS: dict[str, Callable[..., ActionDialog]] = {
    "team_service": lambda ctx, team, parent: TeamServiceDialog(ctx, team, parent=parent),
    "checkin": lambda ctx, team, parent: CheckinDialog(ctx, team, parent=parent),
}


def open_action_dialog(
    kind: str,
    ctx: Any,
    call_id: str | None = None,
    team_id: str | None = None,
    parent: QWidget | None = None,
) -> ActionDialog | None:
    """Open (window-modal, non-blocking) the dialog for action ``kind`` and return it.

    ``call_id`` / ``team_id`` default to the shared selection. Returns None when there is no
    call (or team) to act on; the reason is in :func:`why_no_dialog`.
    """
    global _last_refusal
    if kind not in KINDS:
        raise ValueError(f"unknown action {kind!r} (expected one of {', '.join(KINDS)})")
    state: State = ctx.pictures.current().state
    sel = getattr(ctx, "selection", None)
    dlg: ActionDialog
    if kind in CALL_KINDS:
        cid = call_id or (getattr(sel, "call_id", None) if sel is not None else None)
        call = state.calls.get(cid) if cid else None
        if call is None:
            _last_refusal = f"No call selected to {kind}." if not cid else f"Unknown call {cid}."
            return None
        if kind == "reassign" and call.team is None and call.status is CallStatus.PENDING:
            kind = "assign"  # nothing to reassign from: the same dialog, without the reason rule
        dlg = _CALL_DIALOGS[kind](ctx, call, parent)
    else:
        tid = team_id or (getattr(sel, "team_id", None) if sel is not None else None)
        team = state.teams.get(tid) if tid else None
        if team is None:
            _last_refusal = "No team selected." if not tid else f"Unknown team {tid}."
            return None
        dlg = _TEAM_DIALOGS[kind](ctx, team, parent)
    _last_refusal = ""
    dlg.open()
    return dlg


_last_refusal = ""


def why_no_dialog() -> str:
    """Why the last :func:`open_action_dialog` returned None (for the status bar)."""
    return _last_refusal
