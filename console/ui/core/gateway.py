"""CommandGateway: the only way a panel acts.

A command is checked and queued by the store (``requested`` event + outbox row + audit row in one
transaction) on the single writer thread, never on the GUI thread. Nothing takes effect until
dispatch answers; the answer arrives through the feed and shows up in the picture, where the
gateway notices it and emits ``answered``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from console.domain.commands import Command, CommandRejected, CommandStatus
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
        self._tasks = tasks
        self._on_queued = on_queued
        self._pending: dict[str, Command] = {}
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
        return dict(self._pending)

    @property
    def busy(self) -> bool:
        return self._in_flight > 0

    def submit(self, command: Command) -> None:
        """Queue ``command`` on the writer thread; emits ``submitted`` or ``rejected``."""
        ok, why = self.can_act()
        if not ok or self.store is None:
            self.rejected.emit(command, why)
            return
        store = self.store
        operator, role, hours = self.operator, self.role, self.mobile_crisis_hours

        def work() -> Submitted:
            return store.submit(command, operator=operator, role=role, mobile_crisis_hours=hours)

        def done(result: Submitted) -> None:
            self._in_flight -= 1
            if command.sent_to_dispatch:
                self._pending[result.command_id] = command
            log.info("%s queued as %s by %s", command.kind, result.command_id, operator)
            self.submitted.emit(result.command_id, command)
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
            self.rejected.emit(command, reason)

        self._in_flight += 1
        tasks = self._tasks or default_tasks()
        if tasks.run(work, done, failed, writer=True) is None:
            self._in_flight -= 1
            self.rejected.emit(command, "the console is shutting down")

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
            del self._pending[cid]
            accepted = rec.status == CommandStatus.CONFIRMED
            self.answered.emit(cid, accepted, rec.answer)
