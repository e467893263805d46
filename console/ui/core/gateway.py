"""CommandGateway: the only way a panel acts.

A command is checked and queued by the store (``requested`` event + outbox row + audit row in one
transaction) on the single writer thread, never on the GUI thread. Nothing takes effect until
dispatch answers; the answer arrives through the feed and shows up in the picture, where the
gateway notices it and emits ``answered``.

``submit`` returns a :class:`CommandOp`: the caller says what to do when that one command is
queued, refused or answered (``gateway.submit(cmd).on_queued(...).on_refused(...)``), instead of
picking its own command out of the gateway's signals, which every panel's actions share.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from console.domain.commands import Command, CommandRejected, CommandStatus
from console.domain.followup import FollowUpPolicy
from console.domain.rules import ServiceHours
from console.store import Changes, Store, StoreError, Submitted
from console.ui.core.picture import Picture, PictureSource
from console.ui.core.tasks import TaskManager, default_tasks

log = logging.getLogger(__name__)


def role_refusal(role: str, *, replay: bool = False, has_store: bool = True) -> str:
    """Why this console cannot act, or "" when it can."""
    if replay:
        return "Replay: actions are disabled"
    if role != "supervisor":
        return f"{role.capitalize()} role: actions are disabled"
    if not has_store:
        return "No database: actions are disabled"
    return ""


class CommandOp:
    """One submitted command: queued (with its id) or refused, then answered by dispatch.

    A callback added after the step it waits for has happened runs at once, so callbacks may be
    chained on the value ``submit`` returns even when the refusal came before it returned."""

    def __init__(self, command: Command) -> None:
        self.command = command
        self.command_id: str | None = None
        self.refusal: str | None = None
        self.answer: tuple[bool, str] | None = None
        """(accepted, detail) once dispatch has answered."""
        self._queued: list[Callable[[str], None]] = []
        self._refused: list[Callable[[str], None]] = []
        self._answered: list[Callable[[bool, str], None]] = []

    def on_queued(self, fn: Callable[[str], None]) -> CommandOp:
        """``fn(command_id)`` once the command is queued for dispatch (local ones: done)."""
        if self.command_id is not None:
            fn(self.command_id)
        else:
            self._queued.append(fn)
        return self

    def on_refused(self, fn: Callable[[str], None]) -> CommandOp:
        """``fn(reason)`` if the console's rules (or the role) refuse it before sending."""
        if self.refusal is not None:
            fn(self.refusal)
        else:
            self._refused.append(fn)
        return self

    def on_answered(self, fn: Callable[[bool, str], None]) -> CommandOp:
        """``fn(accepted, detail)`` when dispatch's answer shows in the picture."""
        if self.answer is not None:
            fn(*self.answer)
        else:
            self._answered.append(fn)
        return self

    def _set_queued(self, command_id: str) -> None:
        self.command_id = command_id
        callbacks, self._queued, self._refused = self._queued, [], []
        for fn in callbacks:
            fn(command_id)

    def _set_refused(self, reason: str) -> None:
        self.refusal = reason
        callbacks, self._refused, self._queued, self._answered = self._refused, [], [], []
        for fn in callbacks:
            fn(reason)

    def _set_answered(self, accepted: bool, detail: str) -> None:
        self.answer = (accepted, detail)
        callbacks, self._answered = self._answered, []
        for fn in callbacks:
            fn(accepted, detail)


class CommandGateway(QObject):
    submitted = Signal(str, object)
    """(command_id, Command): queued for dispatch (or, for local commands, done)."""
    answered = Signal(str, bool, str)
    """(command_id, accepted, detail): dispatch's answer, as the picture shows it."""
    rejected = Signal(object, str)
    """(Command, reason): refused by the console's rules (or the role) before sending."""

    def __init__(
        self,
        store: Store | None,
        *,
        operator: str,
        role: str,
        pictures: PictureSource | None = None,
        tasks: TaskManager | None = None,
        mobile_crisis_hours: ServiceHours | None = None,
        followups: FollowUpPolicy | None = None,
        replay: bool = False,
        on_queued: Callable[[], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.operator = operator
        self.role = role
        self.replay = replay
        self.mobile_crisis_hours = mobile_crisis_hours
        self.followups = followups
        """The site's follow-up rules: an outcome that needs a follow-up opens it."""
        self._tasks = tasks
        self._on_queued = on_queued
        self._pending: dict[str, CommandOp] = {}
        self._in_flight = 0
        if pictures is not None:
            self.attach(pictures)

    def attach(self, pictures: PictureSource) -> None:
        pictures.picture_changed.connect(self._on_picture)

    def set_on_queued(self, fn: Callable[[], None] | None) -> None:
        """Called (GUI thread) after a command is queued, e.g. to wake the outbox sender."""
        self._on_queued = fn

    # -- acting -----------------------------------------------------------------------------------

    def can_act(self) -> tuple[bool, str]:
        why = role_refusal(self.role, replay=self.replay, has_store=self.store is not None)
        return (not why, why)

    def pending(self) -> dict[str, Command]:
        """Commands submitted from this console that dispatch has not answered yet."""
        return {cid: op.command for cid, op in self._pending.items()}

    @property
    def busy(self) -> bool:
        return self._in_flight > 0

    def submit(self, command: Command) -> CommandOp:
        """Queue ``command`` on the writer thread; emits ``submitted`` or ``rejected``, and tells
        the returned operation's callbacks."""
        op = CommandOp(command)
        ok, why = self.can_act()
        if not ok or self.store is None:
            self._refuse(op, why)
            return op
        store = self.store
        operator, role, hours = self.operator, self.role, self.mobile_crisis_hours
        followups = self.followups

        def work() -> Submitted:
            return store.submit(
                command,
                operator=operator,
                role=role,
                mobile_crisis_hours=hours,
                followups=followups,
            )

        def done(result: Submitted) -> None:
            self._in_flight -= 1
            if command.sent_to_dispatch:
                self._pending[result.command_id] = op
            log.info("%s queued as %s by %s", command.kind, result.command_id, operator)
            self.submitted.emit(result.command_id, command)
            op._set_queued(result.command_id)
            if self._on_queued is not None:
                self._on_queued()

        def failed(exc: BaseException) -> None:
            self._in_flight -= 1
            if isinstance(exc, CommandRejected):
                reason = str(exc)
            elif isinstance(exc, StoreError):
                reason = f"could not be queued: {exc}"
            else:
                log.error("submitting %s failed", command.kind, exc_info=exc)
                reason = f"could not be queued ({type(exc).__name__}: {exc})"
            log.info("%s refused before sending: %s", command.kind, reason)
            self._refuse(op, reason)

        self._in_flight += 1
        tasks = self._tasks or default_tasks()
        if tasks.run(work, done, failed, writer=True) is None:
            self._in_flight -= 1
            self._refuse(op, "the console is shutting down")
        return op

    def _refuse(self, op: CommandOp, reason: str) -> None:
        self.rejected.emit(op.command, reason)
        op._set_refused(reason)

    # -- answers ------------------------------------------------------------------------------------

    def _on_picture(self, picture: Picture, changes: Changes | None) -> None:
        if not self._pending:
            return
        if changes is not None and not (changes.commands & self._pending.keys()):
            return
        for cid in list(self._pending):
            rec = picture.state.commands.get(cid)
            if rec is None or rec.status == CommandStatus.REQUESTED:
                continue
            op = self._pending.pop(cid)
            accepted = rec.status == CommandStatus.CONFIRMED
            self.answered.emit(cid, accepted, rec.answer)
            op._set_answered(accepted, rec.answer)
