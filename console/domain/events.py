"""Events: one immutable record per fact.

Every change, dispatch's or the console's own, is an event appended to one log. ``source`` +
``source_id`` identify a fact uniquely (a re-delivered message is the same fact);
``occurred_at`` is when it happened in the world (dispatch's ``lastUpdateTimeStamp``),
``recorded_at`` when this console learned it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from .commands import Command
from .model import Call, EscalationTarget, Position, Team
from .program import FollowUpEnd, Outcome, UnservedReason

if TYPE_CHECKING:
    from .destinations import CapacityReport


class Source:
    DISPATCH = "dispatch"
    CONSOLE = "console"


class AlertKind(StrEnum):
    BACKUP_REQUEST = "backup_request"
    PENDING_OVERDUE = "pending_overdue"
    CHECKIN_OVERDUE = "checkin_overdue"
    POSITION_STALE = "position_stale"
    NO_ELIGIBLE_TEAM = "no_eligible_team"
    LINK_DOWN = "link_down"
    UNKNOWN_CODE = "unknown_code"
    """Dispatch sent a status or type the console cannot map (shown with its code)."""
    QUARANTINE = "quarantine"
    """Input from dispatch was refused and kept aside (the quarantine)."""
    FEED_CONFLICT = "feed_conflict"
    """Dispatch sent two different descriptions of one record with the same time and version."""
    DESTINATION_WAIT = "destination_wait"
    """A team waiting at a destination's intake past the site's limit."""
    FOLLOWUP_OVERDUE = "followup_overdue"
    """An open follow-up after a call is past its due time."""
    CHECKIN_ESCALATION = "checkin_escalation"
    """A step of the missed check-in ladder that asks the supervisor to act (call the team,
    ask police for a welfare check)."""


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    """Stable per condition (``pending_overdue:HCR-000123``) so it is raised and acked once."""
    kind: AlertKind
    severity: Severity
    subject: str
    message: str
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class Note:
    call_id: str
    text: str
    author: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    kind: ClassVar[str] = "event"
    source: str
    source_id: str
    occurred_at: datetime
    recorded_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.source_id)

    @property
    def entity_id(self) -> str:
        """The call or team (or command, alert) the fact is about."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class CallReceived(Event):
    kind: ClassVar[str] = "call_received"
    call: Call

    @property
    def entity_id(self) -> str:
        return self.call.id


@dataclass(frozen=True, slots=True, kw_only=True)
class CallUpdated(Event):
    kind: ClassVar[str] = "call_updated"
    call: Call

    @property
    def entity_id(self) -> str:
        return self.call.id


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamStatusChanged(Event):
    kind: ClassVar[str] = "team_status"
    team: Team

    @property
    def entity_id(self) -> str:
        return self.team.id


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamPositionReported(Event):
    kind: ClassVar[str] = "team_position"
    team_id: str
    position: Position

    @property
    def entity_id(self) -> str:
        return self.team_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamAssigned(Event):
    """Dispatch sent a team to a call (a fact kept for history and metrics)."""

    kind: ClassVar[str] = "assignment"
    call_id: str
    team_id: str

    @property
    def entity_id(self) -> str:
        return self.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEscalated(Event):
    kind: ClassVar[str] = "escalation"
    call_id: str
    target: EscalationTarget
    reason: str = ""

    @property
    def entity_id(self) -> str:
        return self.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRequested(Event):
    kind: ClassVar[str] = "command_requested"
    command_id: str
    command: Command
    operator: str

    @property
    def entity_id(self) -> str:
        return self.command_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandConfirmed(Event):
    kind: ClassVar[str] = "command_confirmed"
    command_id: str
    detail: str = ""

    @property
    def entity_id(self) -> str:
        return self.command_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRefused(Event):
    kind: ClassVar[str] = "command_refused"
    command_id: str
    reason: str

    @property
    def entity_id(self) -> str:
        return self.command_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    kind: ClassVar[str] = "alert_raised"
    alert: Alert

    @property
    def entity_id(self) -> str:
        return self.alert.id


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAcknowledged(Event):
    kind: ClassVar[str] = "alert_acknowledged"
    alert_id: str
    operator: str
    note: str = ""

    @property
    def entity_id(self) -> str:
        return self.alert_id


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteAdded(Event):
    kind: ClassVar[str] = "note"
    note: Note

    @property
    def entity_id(self) -> str:
        return self.note.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeRecorded(Event):
    """How a call ended, in the program's terms (given by a supervisor or a team)."""

    kind: ClassVar[str] = "outcome"
    call_id: str
    outcome: Outcome
    operator: str
    destination_kind: str = ""

    @property
    def entity_id(self) -> str:
        return self.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class UnservedReasonGiven(Event):
    """Why an eligible call got no civilian team: asked of the supervisor, or inferred from
    the log (``inferred``) where the log proves it."""

    kind: ClassVar[str] = "unserved_reason"
    call_id: str
    reason: UnservedReason
    operator: str
    inferred: bool = False

    @property
    def entity_id(self) -> str:
        return self.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class NaloxoneRecorded(Event):
    kind: ClassVar[str] = "naloxone"
    call_id: str
    doses: int
    given_at: datetime
    operator: str

    @property
    def entity_id(self) -> str:
        return self.call_id


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpOpened(Event):
    kind: ClassVar[str] = "followup_opened"
    followup_id: str
    call_id: str
    owner: str
    due_at: datetime
    cause: str
    operator: str

    @property
    def entity_id(self) -> str:
        return self.followup_id


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpAttempted(Event):
    kind: ClassVar[str] = "followup_attempt"
    followup_id: str
    channel: str
    result: str
    operator: str

    @property
    def entity_id(self) -> str:
        return self.followup_id


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpClosed(Event):
    kind: ClassVar[str] = "followup_closed"
    followup_id: str
    end: FollowUpEnd
    operator: str

    @property
    def entity_id(self) -> str:
        return self.followup_id


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationStatusReported(Event):
    """A destination's capacity and whether it takes people, as a supervisor set it or
    dispatch reported it."""

    kind: ClassVar[str] = "destination_status"
    report: CapacityReport

    @property
    def entity_id(self) -> str:
        return self.report.destination_id


PROGRAM_EVENTS: tuple[type[Event], ...] = (
    OutcomeRecorded,
    UnservedReasonGiven,
    NaloxoneRecorded,
    FollowUpOpened,
    FollowUpAttempted,
    FollowUpClosed,
)
"""The program's own facts (:mod:`console.domain.program`): never from dispatch."""


_ALL_EVENTS: tuple[type[Event], ...] = (
    CallReceived,
    CallUpdated,
    TeamStatusChanged,
    TeamPositionReported,
    TeamAssigned,
    CallEscalated,
    CommandRequested,
    CommandConfirmed,
    CommandRefused,
    AlertRaised,
    AlertAcknowledged,
    NoteAdded,
    *PROGRAM_EVENTS,
    DestinationStatusReported,
)

EVENT_TYPES: dict[str, type[Event]] = {e.kind: e for e in _ALL_EVENTS}
