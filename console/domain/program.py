"""What the crisis program records beyond dispatch's picture: how each call ended, why an
eligible call went unserved, naloxone given, and the follow-ups after a call.

These are the console's own facts (a CAD has no field for them). Each is an event in the one
log, so it replays, syncs between consoles and is audited like any supervisor action; the
records here are what the fold keeps of them (see :mod:`console.domain.projection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Outcome(StrEnum):
    """How a call ended, in the program's own terms (beside dispatch's disposition code)."""

    RESOLVED_ON_SCENE = "resolved_on_scene"
    REFERRED = "referred"
    CONNECTED_TO_SERVICES = "connected_to_services"
    TRANSPORTED_COMMUNITY = "transported_community"
    """Transported to a community destination (shelter, sobering centre, crisis unit...)."""
    TRANSPORTED_ED = "transported_ed"
    """Transported to an emergency department."""
    REFUSED_SERVICES = "refused_services"
    UNABLE_TO_LOCATE = "unable_to_locate"
    """Gone on arrival or unable to locate."""
    POLICE_INVOLVED = "police_involved"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.RESOLVED_ON_SCENE: "Resolved on scene",
    Outcome.REFERRED: "Referred",
    Outcome.CONNECTED_TO_SERVICES: "Connected to services",
    Outcome.TRANSPORTED_COMMUNITY: "Transported to a community destination",
    Outcome.TRANSPORTED_ED: "Transported to an emergency department",
    Outcome.REFUSED_SERVICES: "Refused services",
    Outcome.UNABLE_TO_LOCATE: "Gone on arrival / unable to locate",
    Outcome.POLICE_INVOLVED: "Police involved",
}


class UnservedReason(StrEnum):
    """Why a call that passed the eligibility screen got no civilian team (a fixed list)."""

    NO_TEAM_ON_DUTY = "no_team_on_duty"
    OUTSIDE_PROGRAM_HOURS = "outside_program_hours"
    ALL_TEAMS_BUSY = "all_teams_busy"
    NO_CAPABLE_TEAM = "no_capable_team"
    """No team with a needed capability (youth, language, seats)."""
    TRIAGE_INCOMPLETE = "triage_incomplete"
    RESCREENED_UNSAFE = "rescreened_unsafe"
    CALLER_DECLINED = "caller_declined"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return UNSERVED_REASON_LABELS[self]


UNSERVED_REASON_LABELS: dict[UnservedReason, str] = {
    UnservedReason.NO_TEAM_ON_DUTY: "No team on duty",
    UnservedReason.OUTSIDE_PROGRAM_HOURS: "Outside program hours",
    UnservedReason.ALL_TEAMS_BUSY: "All teams busy",
    UnservedReason.NO_CAPABLE_TEAM: "No team with a needed capability",
    UnservedReason.TRIAGE_INCOMPLETE: "Triage incomplete",
    UnservedReason.RESCREENED_UNSAFE: "Re-screened unsafe",
    UnservedReason.CALLER_DECLINED: "Caller declined",
    UnservedReason.DUPLICATE: "Duplicate call",
}


class FollowUpEnd(StrEnum):
    """How a follow-up ended."""

    CONNECTED = "connected"
    """Connected to services."""
    DECLINED = "declined"
    UNABLE_TO_REACH = "unable_to_reach"
    HANDED_OFF = "handed_off"
    """Handed to another agency."""

    @property
    def label(self) -> str:
        return FOLLOWUP_END_LABELS[self]


FOLLOWUP_END_LABELS: dict[FollowUpEnd, str] = {
    FollowUpEnd.CONNECTED: "Connected to services",
    FollowUpEnd.DECLINED: "Declined",
    FollowUpEnd.UNABLE_TO_REACH: "Unable to reach",
    FollowUpEnd.HANDED_OFF: "Handed to another agency",
}

FOLLOWUP_CHANNELS = ("phone", "text", "visit", "agency", "other")
"""How a follow-up attempt was made."""

FOLLOWUP_RESULTS = ("reached", "no_answer", "left_message", "wrong_number", "declined", "other")
"""What one attempt gave (the follow-up's end is given when it is closed)."""

DEFAULT_FOLLOWUP_DUE = timedelta(hours=48)

MAX_NALOXONE_DOSES = 10


@dataclass(frozen=True, slots=True)
class CallOutcome:
    call_id: str
    outcome: Outcome
    operator: str
    at: datetime
    destination_kind: str = ""
    """For a transport: the kind of destination (``emergency_department``, ``shelter``...)."""


@dataclass(frozen=True, slots=True)
class UnservedRecord:
    call_id: str
    reason: UnservedReason
    operator: str
    at: datetime
    inferred: bool = False
    """True when the console worked it out from the log; a supervisor's reason overrides it."""


@dataclass(frozen=True, slots=True)
class NaloxoneDose:
    call_id: str
    doses: int
    given_at: datetime
    operator: str


@dataclass(frozen=True, slots=True)
class FollowUpAttempt:
    at: datetime
    channel: str
    result: str
    operator: str


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A follow-up after a call, as its events tell it (opened, attempts, closed)."""

    id: str
    call_id: str = ""
    owner: str = ""
    """The provider agency or team that owns it."""
    due_at: datetime | None = None
    opened_at: datetime | None = None
    """None while only later events of it are known (they can arrive first)."""
    cause: str = ""
    """Why it exists: the disposition or outcome that called for it, ``outside_hours``,
    ``unserved``, or ``manual``."""
    opened_by: str = ""
    attempts: tuple[FollowUpAttempt, ...] = ()
    end: FollowUpEnd | None = None
    closed_at: datetime | None = None
    closed_by: str = ""

    @property
    def is_open(self) -> bool:
        return self.end is None

    def overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at is not None and now > self.due_at


FOLLOWUP_OUTCOMES = frozenset(
    {
        Outcome.REFERRED,
        Outcome.REFUSED_SERVICES,
        Outcome.UNABLE_TO_LOCATE,
        Outcome.TRANSPORTED_COMMUNITY,
        Outcome.TRANSPORTED_ED,
    }
)
"""Outcomes that call for a follow-up by default (a site can change the list)."""
