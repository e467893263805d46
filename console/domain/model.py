"""Entities and value types of the crisis-response program.

Records are frozen dataclasses: the projection swaps whole records, never mutates them, so a
record handed to a view can never change under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CallStatus(StrEnum):
    PENDING = "pending"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    CLEARED = "cleared"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    """Dispatch sent a status the console cannot map: shown with its code (``Call.status_code``)."""

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_CALL_STATUSES


CLOSED_CALL_STATUSES = frozenset({CallStatus.CLEARED, CallStatus.ESCALATED, CallStatus.CANCELLED})


class TeamStatus(StrEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_DESTINATION = "at_destination"
    OUT_OF_SERVICE = "out_of_service"
    OFF_DUTY = "off_duty"
    UNKNOWN = "unknown"
    """Dispatch sent a status the console cannot map: shown with its code (``Team.status_code``)."""

    @property
    def on_duty(self) -> bool:
        return self not in (TeamStatus.OFF_DUTY, TeamStatus.OUT_OF_SERVICE)

    @property
    def busy(self) -> bool:
        return self in BUSY_TEAM_STATUSES


BUSY_TEAM_STATUSES = frozenset(
    {
        TeamStatus.ASSIGNED,
        TeamStatus.EN_ROUTE,
        TeamStatus.ON_SCENE,
        TeamStatus.TRANSPORTING,
        TeamStatus.AT_DESTINATION,
    }
)


class CallType(StrEnum):
    MENTAL_HEALTH = "mental_health"
    EMOTIONAL_DISTRESS = "emotional_distress"
    SUBSTANCE_USE = "substance_use"
    OVERDOSE = "overdose"
    WELFARE_CHECK = "welfare_check"
    BASIC_NEEDS = "basic_needs"
    HOMELESSNESS = "homelessness_outreach"
    TRANSPORT = "transport_request"
    JUVENILE = "juvenile_behavioral"
    OTHER = "other"
    UNRECOGNISED = "unrecognised"
    """A type outside the registry and the site's code table (the CAD's code is
    ``Call.source_type``): never auto-eligible, the supervisor screens it."""

    @property
    def label(self) -> str:
        return CALL_TYPE_LABELS[self]


CALL_TYPE_LABELS: dict[CallType, str] = {
    CallType.MENTAL_HEALTH: "Mental-health crisis",
    CallType.EMOTIONAL_DISTRESS: "Emotional distress",
    CallType.SUBSTANCE_USE: "Substance use",
    CallType.OVERDOSE: "Suspected overdose",
    CallType.WELFARE_CHECK: "Welfare check",
    CallType.BASIC_NEEDS: "Basic needs",
    CallType.HOMELESSNESS: "Homelessness outreach",
    CallType.TRANSPORT: "Transport request",
    CallType.JUVENILE: "Juvenile behavioral",
    CallType.OTHER: "Other",
    CallType.UNRECOGNISED: "Unrecognised type",
}


class SafetyFlag(StrEnum):
    """Cautions that make a call unsafe for an unarmed civilian team."""

    WEAPON = "weapon"
    VIOLENCE = "violence"
    THREAT_TO_OTHERS = "threat_to_others"
    MEDICAL_EMERGENCY = "medical_emergency"


class EscalationTarget(StrEnum):
    POLICE = "police"
    EMS = "ems"
    MOBILE_CRISIS = "mobile_crisis"
    CO_RESPONSE = "co_response"


class Disposition(StrEnum):
    RESOLVED_ON_SCENE = "resolved_on_scene"
    TRANSPORTED = "transported"
    REFERRED = "referred"
    REFUSED_SERVICES = "refused_services"
    UNABLE_TO_LOCATE = "unable_to_locate"
    HANDED_TO_POLICE = "handed_to_police"
    HANDED_TO_EMS = "handed_to_ems"
    HANDED_TO_MOBILE_CRISIS = "handed_to_mobile_crisis"
    CANCELLED = "cancelled"


PRIORITIES = (1, 2, 3)
"""1 urgent .. 3 routine."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a team brings: decides eligibility for a call."""

    narcan: bool = False
    vehicle_seats: int = 0
    juvenile_certified: bool = False
    languages: tuple[str, ...] = ("en",)
    clinician: bool = True
    peer_specialist: bool = False

    @property
    def has_vehicle(self) -> bool:
        return self.vehicle_seats > 0


@dataclass(frozen=True, slots=True)
class Call:
    """A call for service as dispatch last described it.

    Lifecycle timestamps are those of the first team sent (CONTRACTS.md: "the first team's
    timestamps count").
    """

    id: str
    status: CallStatus
    priority: int
    type: CallType
    received_at: datetime
    updated_at: datetime
    dispatched_at: datetime | None = None
    enroute_at: datetime | None = None
    onscene_at: datetime | None = None
    cleared_at: datetime | None = None
    team: str | None = None
    teams: tuple[str, ...] = ()
    safety_flags: tuple[SafetyFlag, ...] = ()
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    neighborhood: str = ""
    disposition: str | None = None
    escalated_to: EscalationTarget | None = None
    juvenile: bool = False
    language: str | None = None
    transport_needed: bool = False
    transport_seats: int = 1
    destination: str | None = None
    summary: str = ""
    source_type: str = ""
    status_code: str = ""
    """Dispatch's own status code when ``status`` is UNKNOWN."""
    priority_given: bool = True
    """False when dispatch sent no priority (or 0): ``priority`` is the site's default."""
    codes: tuple[tuple[str, str], ...] = ()
    """Descriptive codes outside NENA's registries and the site's table, kept as given:
    (field, value) pairs, e.g. ("locationType", "XST"). Shown, never dropped."""
    stages_partial: bool = False
    """Read from a document that states only the stage it announces (a CAD without the
    console's extension): stage times it leaves out are kept from the call's other records
    (see ``projection``), for the stages the call has passed."""
    """Dispatch's own incident type code (e.g. APCO ``MNTL``), kept for the record."""
    version: int = 1
    """Dispatch's revision counter of this call: optimistic concurrency for commands."""

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_unsafe(self) -> bool:
        return bool(self.safety_flags)


@dataclass(frozen=True, slots=True)
class Team:
    """A crisis-response team as dispatch last described it."""

    id: str
    status: TeamStatus
    updated_at: datetime
    provider: str = ""
    status_since: datetime | None = None
    call: str | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    last_checkin: datetime | None = None
    destination: str | None = None
    name: str = ""
    status_code: str = ""
    """Dispatch's own status code when ``status`` is UNKNOWN."""
    codes: tuple[tuple[str, str], ...] = ()
    """Descriptive codes outside the registries (resource attributes...), kept as given."""


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    at: datetime
