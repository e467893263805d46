"""What the store hands back: results of writes and the rows of its side tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from console.domain.changes import Changes
from console.domain.commands import (
    Command,
    CommandRejected,
)
from console.domain.events import (
    Event,
)
from console.domain.model import Call


class CommandConflict(CommandRejected):
    """Someone else acted on the same call first: the message says what it is now.

    ``call`` is the call as it stands (None if unknown); ``pending_command_id`` and
    ``pending_operator`` name the other supervisor's command still awaiting dispatch, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        call: Call | None = None,
        pending_command_id: str | None = None,
        pending_operator: str | None = None,
    ) -> None:
        super().__init__(message)
        self.call = call
        self.pending_command_id = pending_command_id
        self.pending_operator = pending_operator


@dataclass(frozen=True, slots=True)
class AppendResult:
    appended: list[Event] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[Event, str]] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    last_seq: int = 0
    conflicts: list[tuple[Event, str]] = field(default_factory=list)
    """Of ``rejected``: records refused because a different one with the same time and
    version is stored (the caller raises the alert)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    command_id: str
    event: Event
    changes: Changes


@dataclass(frozen=True, slots=True)
class OutboxItem:
    command_id: str
    idempotency_key: str
    command: Command
    operator: str
    attempts: int
    created_at: datetime
    status: str
    claimed_until: datetime | None = None
    """When this sender's claim ends (claim_outbox only): send before then, or claim again."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    operator: str
    role: str
    action: str
    call_id: str | None
    team_id: str | None
    reason: str
    detail: str
    command_id: str | None
    answer_status: str
    answer: str
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkReport:
    """A sync service's last word on the dispatch link (wall-clock times)."""

    service: str
    state: str
    since: datetime
    url: str
    last_message_at: datetime | None
    attempts: int
    last_error: str
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    id: int
    received_at: datetime
    source: str
    reason: str
    raw: str
    reprocessed_at: datetime | None = None
    """When ``quarantine --reprocess`` read it and its facts entered the log (None: not yet)."""
