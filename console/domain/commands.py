"""Supervisor commands: what a supervisor asks dispatch to do.

Each is a frozen value. Validation against the current picture happens here (pure); delivery
happens through the outbox, and only dispatch's answer makes a command take effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .model import EscalationTarget
from .program import FollowUpEnd, Outcome, UnservedReason


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    kind: ClassVar[str] = "command"
    sent_to_dispatch: ClassVar[bool] = True
    call_id: str | None = None
    team_id: str | None = None
    reason: str = ""
    expected_version: int | None = None
    """The call version the supervisor saw; a newer one means someone else acted first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignTeam(Command):
    kind: ClassVar[str] = "assign"
    call_id: str
    team_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReassignCall(Command):
    kind: ClassVar[str] = "reassign"
    call_id: str
    team_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalateCall(Command):
    kind: ClassVar[str] = "escalate"
    call_id: str
    target: EscalationTarget
    urgency: str = "normal"
    """``immediate`` or ``normal``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePriority(Command):
    kind: ClassVar[str] = "change_priority"
    call_id: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AddNote(Command):
    kind: ClassVar[str] = "note"
    call_id: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTeamService(Command):
    kind: ClassVar[str] = "team_service"
    team_id: str
    in_service: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCheckin(Command):
    kind: ClassVar[str] = "request_checkin"
    team_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeAlert(Command):
    """Local to the console: audited, never sent to dispatch."""

    kind: ClassVar[str] = "acknowledge_alert"
    sent_to_dispatch: ClassVar[bool] = False
    alert_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalCommand(Command):
    """A program record the console keeps itself (no CAD field for it): audited like any
    action, never sent to dispatch, recorded at once as an event in the log."""

    sent_to_dispatch: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordOutcome(LocalCommand):
    kind: ClassVar[str] = "record_outcome"
    call_id: str
    outcome: Outcome
    destination_kind: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GiveUnservedReason(LocalCommand):
    """Why an eligible call got no civilian team (``reason`` stays the free-text note)."""

    kind: ClassVar[str] = "unserved_reason"
    call_id: str
    unserved: UnservedReason


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordNaloxone(LocalCommand):
    kind: ClassVar[str] = "record_naloxone"
    call_id: str
    doses: int
    given_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenFollowUp(LocalCommand):
    kind: ClassVar[str] = "open_followup"
    call_id: str
    owner: str
    due_at: datetime
    cause: str = "manual"
    followup_id: str = ""
    """Empty: the console names it. Opened automatically for a call, it is named after the
    call, so two consoles opening it for the same call open one follow-up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFollowUpAttempt(LocalCommand):
    kind: ClassVar[str] = "followup_attempt"
    followup_id: str
    channel: str
    result: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseFollowUp(LocalCommand):
    kind: ClassVar[str] = "close_followup"
    followup_id: str
    end: FollowUpEnd


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDestinationStatus(LocalCommand):
    """Local to the console: a supervisor's capacity figure for a destination (audited and
    recorded in the log, so it replays and reaches the other consoles; not sent to dispatch)."""

    kind: ClassVar[str] = "destination_status"
    sent_to_dispatch: ClassVar[bool] = False
    destination_id: str
    available: int | None = None
    """Free beds or slots (None: not counted or not known)."""
    accepting: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDestination(Command):
    """Ask dispatch to send a transporting team (and the call's person) to a destination."""

    kind: ClassVar[str] = "set_destination"
    call_id: str
    team_id: str
    destination_id: str
    destination_name: str = ""


COMMAND_TYPES: dict[str, type[Command]] = {
    c.kind: c
    for c in (
        AssignTeam,
        ReassignCall,
        EscalateCall,
        ChangePriority,
        AddNote,
        SetTeamService,
        RequestCheckin,
        AcknowledgeAlert,
        RecordOutcome,
        GiveUnservedReason,
        RecordNaloxone,
        OpenFollowUp,
        RecordFollowUpAttempt,
        CloseFollowUp,
        SetDestinationStatus,
        SetDestination,
    )
}


class CommandStatus:
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command's life as the log tells it: requested, then confirmed or refused."""

    command_id: str
    command: Command | None
    status: str
    operator: str = ""
    requested_at: datetime | None = None
    answered_at: datetime | None = None
    answer: str = ""

    @property
    def pending(self) -> bool:
        return self.status == CommandStatus.REQUESTED


class CommandRejected(ValueError):
    """The console refuses a command before sending it: the reason says why and what to do."""
