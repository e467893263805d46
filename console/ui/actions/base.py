"""What every action dialog shares (assign, reassign, escalate, change priority, note, team
service, check-in: one module each in this package).

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
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import (
    Command,
    CommandRejected,
)
from console.domain.model import (
    Call,
    EscalationTarget,
    Team,
)
from console.domain.projection import State
from console.domain.rules import (
    ServiceHours,
    validate_command,
)
from console.ui.core.gateway import CommandOp
from console.ui.core.labels import (
    call_changes,
    call_header,
    describe_team,
    team_changes,
)
from console.ui.core.tasks import default_tasks

log = logging.getLogger(__name__)

KINDS = (
    "assign",
    "reassign",
    "escalate",
    "priority",
    "note",
    "team_service",
    "checkin",
    "outcome",
    "naloxone",
)
CALL_KINDS = frozenset(
    {"assign", "reassign", "escalate", "priority", "note", "outcome", "naloxone"}
)
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
        self._awaiting: CommandOp | None = None

        self.title_text = title
        self.ok_label = self.ok_text
        """The confirm button's text, naming the call or team once the subclass set it."""
        self.layout_ = QVBoxLayout(self)
        self.header = QLabel(self)
        self.header.setTextFormat(Qt.TextFormat.PlainText)  # dispatch's text, never markup
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _set_role(self.header, "header")
        self.layout_.addWidget(self.header)
        self.callback = QLabel(self)
        """The caller's callback number, for a supervisor (read from the persons, apart from
        the event log, on a worker when the dialog first shows)."""
        self.callback.setTextFormat(Qt.TextFormat.PlainText)
        self.callback.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.callback.setAccessibleName("Callback number")
        self.callback.hide()
        self.layout_.addWidget(self.callback)
        self._callback_asked = False
        self.body = QWidget(self)
        self.layout_.addWidget(self.body, 1)

        self.refusal = QLabel(self)
        self.refusal.setTextFormat(Qt.TextFormat.PlainText)
        self.refusal.setWordWrap(True)
        _set_role(self.refusal, "refusal")
        self.refusal.hide()
        self.layout_.addWidget(self.refusal)

        self.changed_notice = QLabel(self)
        self.changed_notice.setTextFormat(Qt.TextFormat.PlainText)
        self.changed_notice.setWordWrap(True)
        self.changed_notice.setAccessibleName("Changed meanwhile")
        _set_role(self.changed_notice, "safety")
        self.changed_notice.hide()
        self.layout_.addWidget(self.changed_notice)

        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
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

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._ask_callback()

    def _ask_callback(self) -> None:
        """Show the callback number dispatch sent for this call: supervisors only, read off the
        GUI thread; never logged."""
        subj = self.subject()
        store = getattr(self.ctx, "store", None)
        if self._callback_asked or subj is None or subj[0] != "call" or store is None:
            return
        if self.ctx.role != "supervisor":
            return
        self._callback_asked = True
        call_id = subj[1]
        tasks = self.ctx.tasks or default_tasks()
        tasks.run(lambda: store.persons(call_id), self._show_callback, lambda _exc: None)

    def _show_callback(self, persons: Any) -> None:
        numbers = [str(p["callback"]) for p in persons or () if p.get("callback")]
        if not numbers:
            return
        shown = ", ".join(dict.fromkeys(n.removeprefix("tel:") for n in numbers))
        self.callback.setText(f"Callback number: {shown}")
        self.callback.show()

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
        if not self.isVisible():
            return
        text = self.changed_since(picture.state)
        if not text:
            return
        sid = self.subject_id()
        self.changed_notice.setText(
            f"⚠ {sid} changed while this dialog was open: {text}. "
            "Cancel and reopen to act on what it is now."
        )
        self.changed_notice.show()

    def subject_id(self) -> str:
        subj = self.subject()
        return subj[1] if subj is not None else ""

    def changed_since(self, state: State) -> str:
        """What changed on the subject between the picture this dialog was opened on and
        ``state``, in words (empty: nothing)."""
        subj = self.subject()
        if subj is None:
            return ""
        kind, sid = subj
        if kind == "call":
            before = self.state.calls.get(sid)
            now_c = state.calls.get(sid)
            if now_c is None or before is None or now_c.version == before.version:
                return ""
            return "; ".join(call_changes(before, now_c))
        before_t = self.state.teams.get(sid)
        now_t = state.teams.get(sid)
        if now_t is None or before_t is None:
            return ""
        what = team_changes(before_t, now_t)
        return "; ".join(what)

    def already_done(self, state: State) -> str:
        """Subclass hook: why sending now would repeat what dispatch already did (empty: it
        would not)."""
        return ""

    # -- common behaviour ------------------------------------------------------------------------

    def finish_setup(self) -> None:
        """Called by subclasses once their fields exist: names the subject in the title and
        the confirm button, applies role and blocking reasons."""
        subj = self.subject()
        if subj is not None:
            sid = subj[1]
            if sid not in self.title_text:
                self.setWindowTitle(f"{self.title_text} {sid}")
            self.ok_label = f"{self.ok_text} {sid}"
            self.ok_button.setText(self.ok_label)
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
        latest = self.ctx.pictures.current()  # the picture may have moved on meanwhile
        cmd = self.build_command()
        if cmd is None:
            return
        # Refused here, nothing sent: still an attempt, audited with the reason.
        if self._repin(latest.state):
            self.ctx.gateway.refused_here(cmd, self.error.text().removeprefix("⚠").strip())
            return
        try:  # the same rules the store applies, on the picture the supervisor sees
            validate_command(
                cmd,
                latest.state.calls,
                latest.state.teams,
                mobile_crisis_hours=self.ctx.config.mobile_crisis_hours,
                now=latest.now,
            )
        except CommandRejected as e:
            self.show_error(str(e))
            self.ctx.gateway.refused_here(cmd, str(e))
            return
        self._send(cmd)

    def _repin(self, state: State) -> bool:
        """The subject changed since the dialog opened: say what, in words, send nothing, and
        take the new version as the one the supervisor now sees (a second press sends on it).
        True when nothing may be sent now."""
        changed = self.changed_since(state)
        if not changed:
            return False
        done = self.already_done(state)
        self.state = state
        subj = self.subject()
        if subj is not None and subj[0] == "call" and subj[1] in state.calls:
            call = state.calls[subj[1]]
            self.call = call
            if hasattr(self, "expected_version"):
                self.expected_version = call.version
            self.header.setText(call_header(call))
        elif subj is not None and subj[1] in state.teams:
            team = state.teams[subj[1]]
            self.team = team
            self.header.setText(describe_team(team))
        self.changed_notice.hide()
        sid = self.subject_id()
        if done:
            self.show_error(f"{sid} changed meanwhile: {changed}: {done}, nothing sent.")
        else:
            self.show_error(
                f"{sid} changed meanwhile: {changed}. Nothing sent: check the dialog and send "
                "again to act on what it is now, or cancel."
            )
        return True

    def _send(self, cmd: Command) -> None:
        self.ok_button.setEnabled(False)
        self.ok_button.setText("Sending…")
        try:
            op = self.ctx.gateway.submit(cmd)
        except Exception as e:  # a gateway failure must not take the console down
            log.exception("submitting %s failed", cmd.kind)
            self._refused(None, f"could not submit: {e}")
            return
        self._awaiting = op
        op.on_queued(lambda cid: self._queued(op, cid))
        op.on_refused(lambda reason: self._refused(op, reason))

    def _queued(self, op: CommandOp, command_id: str) -> None:
        if op is not self._awaiting:  # closed meanwhile
            return
        self._awaiting = None
        self.command = op.command
        self.command_id = command_id
        super().accept()

    def _refused(self, op: CommandOp | None, reason: str) -> None:
        if op is not self._awaiting:
            return
        self._awaiting = None
        self.ok_button.setEnabled(True)
        self.ok_button.setText(self.ok_label)
        self.show_error(f"Refused: {reason}")

    def done(self, r: int) -> None:
        self._awaiting = None
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


# -- escalate --------------------------------------------------------------------------------------


# -- priority, note --------------------------------------------------------------------------------


# -- team service, check-in ------------------------------------------------------------------------


# -- entry point ---------------------------------------------------------------------------------
