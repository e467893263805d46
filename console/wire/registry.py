"""The one table between NENA EIDO registry values and the console's vocabulary.

EIDO (NENA-STA-021) types its coded fields as plain strings whose allowed values live in
registries (see ../shared/EIDO-REGISTRIES.md). A CAD fills the common registry value and, beside
it, its own local code (``...InternalText`` / ``unitStatusInternal``). The console writes both:
the common value so any EIDO consumer understands the document, the console word as the local
code so a round trip is exact where the registry is coarser (e.g. ``transporting`` has no incident
status of its own). On reading, the common value decides; the local code only refines it when it
agrees. A value absent from this table is looked up in the site's own table (:class:`SiteCodes`,
``[codes]`` in the configuration); one in neither is kept as given by the ``*_of`` functions
(UNKNOWN / UNRECOGNISED with the code), never a reason to quarantine. The ``*_from_eido``
functions still raise :class:`UnknownCode` for the strict reading they are the first step of.

docs/dispatch-protocol.md reproduces these tables for people.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from console.domain.model import (
    CallStatus,
    CallType,
    Disposition,
    EscalationTarget,
    SafetyFlag,
    TeamStatus,
)


class UnknownCode(ValueError):
    """A registry value the console does not know: names the field and the value."""

    def __init__(self, field: str, value: object) -> None:
        self.field = field
        self.value = value
        super().__init__(f"unknown code {value!r} in {field}")


# -- call status <-> incidentStatusCommonRegistryText --------------------------------------------

CALL_STATUS_TO_EIDO: dict[CallStatus, tuple[str, ...]] = {
    CallStatus.PENDING: ("Active",),
    CallStatus.ASSIGNED: ("Active", "ResourcesAssigned"),
    CallStatus.EN_ROUTE: ("Active", "ResourcesEnroute"),
    CallStatus.ON_SCENE: ("Active", "ResourcesOnscene"),
    # No incident status for a transport: the unit says Transporting; the local code keeps it.
    CallStatus.TRANSPORTING: ("Active", "ResourcesOnscene"),
    CallStatus.CLEARED: ("Closed",),
    # Handed to another agency: closed for this program, the TransferredTo agency says to whom.
    CallStatus.ESCALATED: ("Closed",),
    CallStatus.CANCELLED: ("Cancelled",),
    # Dispatch's own status the console could not map: written as still open, the local code
    # ("unknown", then dispatch's code) keeps it.
    CallStatus.UNKNOWN: ("Active",),
}

INCIDENT_STATUS_KNOWN = frozenset(
    {
        "Active",
        "Cancelled",
        "Closed",
        "FireUnderControl",
        "NewLocation",
        "ReOpened",
        "ResourcesAssigned",
        "ResourcesEnroute",
        "ResourcesOnscene",
        "StructureCleared",
    }
)

# Reading: the most advanced common status present wins (a CAD may list several).
_INCIDENT_STATUS_RANK: tuple[tuple[str, CallStatus], ...] = (
    ("Cancelled", CallStatus.CANCELLED),
    ("Closed", CallStatus.CLEARED),
    ("StructureCleared", CallStatus.CLEARED),
    ("ResourcesOnscene", CallStatus.ON_SCENE),
    ("FireUnderControl", CallStatus.ON_SCENE),
    ("ResourcesEnroute", CallStatus.EN_ROUTE),
    ("ResourcesAssigned", CallStatus.ASSIGNED),
    ("Active", CallStatus.PENDING),
    ("ReOpened", CallStatus.PENDING),
    ("NewLocation", CallStatus.PENDING),
)


def call_status_from_eido(common: list[str], internal: list[str]) -> CallStatus:
    for v in common:
        if v not in INCIDENT_STATUS_KNOWN:
            raise UnknownCode("incidentStatusCommonRegistryText", v)
    base: CallStatus | None = None
    for value, status in _INCIDENT_STATUS_RANK:
        if value in common:
            base = status
            break
    if base is None:
        raise UnknownCode("incidentStatusCommonRegistryText", common)
    for code in internal:
        try:
            refined = CallStatus(code)
        except ValueError:
            continue
        # The local code refines only within the same common status (Closed -> escalated).
        if set(CALL_STATUS_TO_EIDO[refined]) <= set(common):
            return refined
    return base


# -- team status <-> primary/secondary unit status ------------------------------------------------

TEAM_STATUS_TO_EIDO: dict[TeamStatus, tuple[str, tuple[str, ...]]] = {
    TeamStatus.AVAILABLE: ("Available", ("InService",)),
    TeamStatus.ASSIGNED: ("NotAvailable", ("Dispatched",)),
    TeamStatus.EN_ROUTE: ("NotAvailable", ("EnRoute",)),
    TeamStatus.ON_SCENE: ("NotAvailable", ("OnScene",)),
    TeamStatus.TRANSPORTING: ("NotAvailable", ("Transporting", "AlternateLocation")),
    TeamStatus.AT_DESTINATION: ("ConditionallyAvailable", ("Arrived", "AlternateLocation")),
    TeamStatus.OUT_OF_SERVICE: ("NotAvailable", ("OutofService",)),
    TeamStatus.OFF_DUTY: ("NotAvailable", ("OffDuty",)),
    TeamStatus.UNKNOWN: ("NotAvailable", ()),
}

PRIMARY_UNIT_STATUS = frozenset({"Available", "ConditionallyAvailable", "NotAvailable"})

SECONDARY_UNIT_STATUS = frozenset(
    [
        "AcknowledgedTransmission",
        "AlternateLocation",
        "Arrived",
        "Assigned",
        "AssignmentCancelled",
        "BacktoAssignedArea",
        "Backup",
        "Break",
        "CheckedIn",
        "Cleared",
        "COP_or_POP",
        "Court",
        "CoveringAlternateArea",
        "Delayed",
        "Departed",
        "Dispatched",
        "EnRoute",
        "EquipmentIssues",
        "Event",
        "Hospital",
        "InService",
        "Investigation",
        "Location",
        "Meal",
        "Meeting",
        "OffDuty",
        "OnDuty",
        "OnScene",
        "OutofService",
        "PatientContact",
        "Post",
        "ResponderInitiatedEvent",
        "RollCall",
        "Roster",
        "ShiftPending",
        "Staging",
        "Station",
        "TrafficStop",
        "Training",
        "Transporting",
        "Unmanned",
    ]
)

BACKUP_SECONDARY = "Backup"
"""Added to a unit's secondary statuses while it has asked for backup (an alert, highest)."""

CHECKED_IN_SECONDARY = "CheckedIn"

# Reading: first matching rule wins; order matters (Transporting before Arrived...).
_SECONDARY_RULES: tuple[tuple[frozenset[str], TeamStatus], ...] = (
    (frozenset({"OffDuty"}), TeamStatus.OFF_DUTY),
    (frozenset({"OutofService"}), TeamStatus.OUT_OF_SERVICE),
    (frozenset({"Transporting"}), TeamStatus.TRANSPORTING),
    (frozenset({"Arrived", "AlternateLocation"}), TeamStatus.AT_DESTINATION),
    (frozenset({"Hospital"}), TeamStatus.AT_DESTINATION),
    (frozenset({"OnScene"}), TeamStatus.ON_SCENE),
    (frozenset({"Arrived"}), TeamStatus.ON_SCENE),
    (frozenset({"PatientContact"}), TeamStatus.ON_SCENE),
    (frozenset({"EnRoute"}), TeamStatus.EN_ROUTE),
    (frozenset({"Dispatched"}), TeamStatus.ASSIGNED),
    (frozenset({"Assigned"}), TeamStatus.ASSIGNED),
)


def team_status_from_eido(primary: str, secondary: list[str], internal: list[str]) -> TeamStatus:
    if primary not in PRIMARY_UNIT_STATUS:
        raise UnknownCode("primaryUnitStatusRegistryText", primary)
    for v in secondary:
        if v not in SECONDARY_UNIT_STATUS:
            raise UnknownCode("secondaryUnitStatusRegistryText", v)
    for code in internal:
        try:
            st = TeamStatus(code)
        except ValueError:
            continue
        p, sec = TEAM_STATUS_TO_EIDO[st]
        if p == primary and set(sec) <= set(secondary):
            return st
    sec_set = set(secondary)
    for needed, st in _SECONDARY_RULES:
        if needed <= sec_set:
            return st
    if primary == "Available":
        return TeamStatus.AVAILABLE
    if primary == "ConditionallyAvailable":
        return TeamStatus.AT_DESTINATION
    return TeamStatus.OUT_OF_SERVICE


# -- call type <-> incidentTypeCommonRegistryText (APCO ANS 2.103.2) -----------------------------

CALL_TYPE_TO_EIDO: dict[CallType, str] = {
    CallType.MENTAL_HEALTH: "MNTL",
    CallType.EMOTIONAL_DISTRESS: "EDP",
    CallType.SUBSTANCE_USE: "INTOX",
    CallType.OVERDOSE: "OD",
    CallType.WELFARE_CHECK: "WELFARE",
    CallType.BASIC_NEEDS: "CITASST",
    CallType.HOMELESSNESS: "VAG",
    CallType.TRANSPORT: "CITASST",
    CallType.JUVENILE: "RUNAWAY",
    CallType.OTHER: "TROUBLE",
    # A type nobody mapped: the nearest common value; the local code and text keep dispatch's.
    CallType.UNRECOGNISED: "TROUBLE",
}

# Every APCO type a civilian program sees or must screen out -> (console type, safety flags).
EIDO_TYPE_TO_CALL: dict[str, tuple[CallType, tuple[SafetyFlag, ...]]] = {
    "MNTL": (CallType.MENTAL_HEALTH, ()),
    "EDP": (CallType.EMOTIONAL_DISTRESS, ()),
    "WELFARE": (CallType.WELFARE_CHECK, ()),
    "INTOX": (CallType.SUBSTANCE_USE, ()),
    "DRUGS": (CallType.SUBSTANCE_USE, ()),
    "OD": (CallType.OVERDOSE, ()),
    "SUICTHRT": (CallType.MENTAL_HEALTH, ()),
    "CITASST": (CallType.BASIC_NEEDS, ()),
    "VAG": (CallType.HOMELESSNESS, ()),
    "PHANDLE": (CallType.HOMELESSNESS, ()),
    "RUNAWAY": (CallType.JUVENILE, ()),
    "PERMISS": (CallType.WELFARE_CHECK, ()),
    "PERFND": (CallType.WELFARE_CHECK, ()),
    "SCRM": (CallType.EMOTIONAL_DISTRESS, ()),
    "TRESPASS": (CallType.OTHER, ()),
    "DVNA": (CallType.OTHER, ()),
    "SICK": (CallType.WELFARE_CHECK, ()),
    "FALL": (CallType.WELFARE_CHECK, ()),
    "SLMP": (CallType.WELFARE_CHECK, ()),
    "TROUBLE": (CallType.OTHER, ()),
    "SUSP": (CallType.OTHER, ()),
    # Never civilian: the type itself carries the safety flag.
    "MTLV": (CallType.MENTAL_HEALTH, (SafetyFlag.VIOLENCE,)),
    "WEAPON": (CallType.OTHER, (SafetyFlag.WEAPON,)),
    "NCRASLTWF": (CallType.OTHER, (SafetyFlag.WEAPON, SafetyFlag.VIOLENCE)),
    "FIGHT": (CallType.OTHER, (SafetyFlag.VIOLENCE,)),
    "DVA": (CallType.OTHER, (SafetyFlag.VIOLENCE,)),
    "SUICIDE": (CallType.MENTAL_HEALTH, (SafetyFlag.MEDICAL_EMERGENCY,)),
    "PERUNCON": (CallType.WELFARE_CHECK, (SafetyFlag.MEDICAL_EMERGENCY,)),
    "ACTSHOOT": (CallType.OTHER, (SafetyFlag.WEAPON, SafetyFlag.THREAT_TO_OTHERS)),
    "MAYDAY": (CallType.OTHER, (SafetyFlag.THREAT_TO_OTHERS,)),
}


def call_type_from_eido(
    common: str, internal: str | None
) -> tuple[CallType, tuple[SafetyFlag, ...]]:
    """Console type and the flags the APCO type implies; the local code refines the type."""
    hit = EIDO_TYPE_TO_CALL.get(common)
    if hit is None:
        raise UnknownCode("incidentTypeCommonRegistryText", common)
    ctype, flags = hit
    if internal:
        with contextlib.suppress(ValueError):
            ctype = CallType(internal)
    return ctype, flags


# -- safety flags <-> cautionComponent ---------------------------------------------------------

SAFETY_FLAG_TO_CAUTION: dict[SafetyFlag, str] = {
    SafetyFlag.WEAPON: "Weapons",
    SafetyFlag.VIOLENCE: "ViolentPerson",
    SafetyFlag.THREAT_TO_OTHERS: "ThreatToOthers",
    SafetyFlag.MEDICAL_EMERGENCY: "MedicalEmergency",
}
CAUTION_TO_SAFETY_FLAG = {v: k for k, v in SAFETY_FLAG_TO_CAUTION.items()}


def safety_flag_from_caution(common: str, internal: str) -> SafetyFlag:
    try:
        return SafetyFlag(internal)
    except ValueError:
        pass
    flag = CAUTION_TO_SAFETY_FLAG.get(common)
    if flag is None:
        raise UnknownCode("cautionTypeCommonRegistryText", common)
    return flag


# -- disposition <-> dispositionCommonRegistryCode (APCO ANS 1.111.2) ------------------------------

DISPOSITION_TO_EIDO: dict[str, str] = {
    Disposition.RESOLVED_ON_SCENE: "18",
    Disposition.TRANSPORTED: "16",
    Disposition.REFERRED: "15",
    Disposition.REFUSED_SERVICES: "42",
    Disposition.UNABLE_TO_LOCATE: "14",
    Disposition.HANDED_TO_POLICE: "15",
    Disposition.HANDED_TO_EMS: "44",
    Disposition.HANDED_TO_MOBILE_CRISIS: "15",
    Disposition.CANCELLED: "10",
}
_DISPOSITION_CODES = frozenset(f"{n:02d}" for n in range(1, 101))


def disposition_from_eido(code: str, category: str | None) -> str:
    """Console disposition word; a CAD's own text (category) is kept when it is not one."""
    if code not in _DISPOSITION_CODES:
        raise UnknownCode("dispositionCommonRegistryCode", code)
    if category:
        return category
    for word, c in DISPOSITION_TO_EIDO.items():
        if c == code:
            return str(word)
    return f"apco-{code}"


# -- escalation targets <-> agencies ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    """Globally unique agency identifier (an FQDN-like name, as EIDO examples use)."""
    types: tuple[str, ...]
    """IANA urn:emergency:service:responder values (without the prefix)."""
    name: str


ESCALATION_AGENCIES: dict[EscalationTarget, Agency] = {
    EscalationTarget.POLICE: Agency("police.hartford.example", ("police",), "City police"),
    EscalationTarget.EMS: Agency("ems.hartford.example", ("ems",), "EMS"),
    EscalationTarget.MOBILE_CRISIS: Agency(
        "mobile-crisis.ct.example", ("mental_health",), "State mobile crisis"
    ),
    EscalationTarget.CO_RESPONSE: Agency(
        "co-response.hartford.example", ("police", "mental_health"), "Police co-response"
    ),
}
AGENCY_TO_ESCALATION = {a.id: t for t, a in ESCALATION_AGENCIES.items()}

DISPATCH_AGENCY = Agency("decc.hartford.example", ("dispatch",), "Emergency communications")
PROGRAM_AGENCY = Agency("hcr.hartford.example", ("mental_health",), "Community responders")
ISSUING_ELEMENT = "cad.decc.hartford.example"


def escalation_from_agency(agency_id: str) -> EscalationTarget:
    t = AGENCY_TO_ESCALATION.get(agency_id)
    if t is None:
        raise UnknownCode("agencyComponent $id (TransferredTo)", agency_id)
    return t


# -- team capabilities <-> resource attributes ----------------------------------------------------

LANGUAGE_INTERPRETER: dict[str, str] = {
    "es": "SpanishCastilianInterpreter",
    "pt": "PortugueseInterpreter",
    "pl": "PolishInterpreter",
    "fr": "FrenchInterpreter",
    "ht": "HaitianHaitianCreoleInterpreter",
    "vi": "VietnameseInterpreter",
    "ar": "ArabicInterpreter",
    "zh": "ChineseInterpreter",
}
INTERPRETER_LANGUAGE = {v: k for k, v in LANGUAGE_INTERPRETER.items()}

ATTR_CLINICIAN = "CrisisInterventionSpecialist"
ATTR_OTHER = "Other"
LOCAL_NARCAN = "narcan"
LOCAL_YOUTH = "youth-certified"
LOCAL_PEER = "peer-specialist"

RESOURCE_TYPE_TEAM = "CrisisInterventionUnit"
RESOURCE_TYPE_TRANSPORT = "ResponderCrewTransport"
RESOURCE_TYPES_KNOWN = frozenset(
    {
        "CrisisInterventionUnit",
        "DetoxTransport",
        "ResponderCrewTransport",
        "PatrolUnit",
        "GroundBLSAmbulance",
        "GroundALSAmbulance",
        "CommandLevel3",
    }
)

# -- priority -------------------------------------------------------------------------------

PRIORITY_TO_CALL_PRIORITY = {1: "highest", 2: "normal", 3: "low"}
"""callComponent.priorityIdentifier (STA-023 words) for a console priority."""


DEFAULT_PRIORITY = 2
"""The priority of a call dispatch gave none (``incidentCommonPriorityNumber`` 0 or absent)."""


def priority_of(number: object, default: int = DEFAULT_PRIORITY) -> tuple[int, bool]:
    """(priority, given): 1-3 as given; 0, absent or anything else -> the default, not given."""
    if isinstance(number, bool) or not isinstance(number, int) or number not in (1, 2, 3):
        return default, False
    return number, True


def priority_from_eido(number: object) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or number not in (1, 2, 3):
        raise UnknownCode("incidentCommonPriorityNumber", number)
    return number


# -- the site's own code table (step 3b of reading: after NENA's registries) ---------------------

SITE_CODE_KINDS = (
    "call_type",
    "call_status",
    "team_status",
    "location_type",
    "person_role",
    "caution",
)
"""The tables of ``[codes]`` in the configuration file: a CAD code -> the console's word."""

NENA_LOCATION_TYPES: frozenset[str] = frozenset(
    [
        "RoutingLocation",
        "Caller",
        "CurrentIncident",
        "InitialIncident",
        "Investigation",
        "Other",
        "Staging",
        "TowerLocation",
        "UnitLocation",
    ]
)
"""NENA's location type registry."""
NENA_PERSON_ROLES: frozenset[str] = frozenset(
    [
        "InvolvedPerson",
        "Caller",
        "Patient",
        "PatientAcquaintance",
        "PatientRelative",
        "PersonOfInterest",
        "ReportingParty",
        "Suspect",
        "Victim",
        "VictimAcquaintance",
        "VictimRelative",
        "Witness",
    ]
)
"""NENA's person role registry."""

_SITE_TARGETS: dict[str, frozenset[str]] = {
    "call_type": frozenset(t.value for t in CallType if t is not CallType.UNRECOGNISED),
    "call_status": frozenset(s.value for s in CallStatus if s is not CallStatus.UNKNOWN),
    "team_status": frozenset(s.value for s in TeamStatus if s is not TeamStatus.UNKNOWN),
    "location_type": NENA_LOCATION_TYPES,
    "person_role": NENA_PERSON_ROLES,
    "caution": frozenset(f.value for f in SafetyFlag),
}


def site_code_targets(kind: str) -> frozenset[str]:
    """The words a site may map its codes of ``kind`` to (for checking the configuration)."""
    return _SITE_TARGETS[kind]


@dataclass(frozen=True, slots=True)
class SiteCodes:
    """A site's own CAD codes, per kind, mapped to the console's words (checked beforehand)."""

    tables: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    default_priority: int = 2
    """The priority of a call dispatch gave none (``[dispatch] default_priority``)."""

    @classmethod
    def of(cls, tables: dict[str, dict[str, str]], default_priority: int = 2) -> SiteCodes:
        for kind, table in tables.items():
            allowed = _SITE_TARGETS.get(kind)
            if allowed is None:
                raise ValueError(f"codes.{kind}: unknown table ({', '.join(SITE_CODE_KINDS)})")
            for code, word in table.items():
                if word not in allowed:
                    raise ValueError(
                        f"codes.{kind}.{code}: {word!r} is not one of {', '.join(sorted(allowed))}"
                    )
        if default_priority not in (1, 2, 3):
            raise ValueError(f"default_priority: {default_priority!r} is not 1, 2 or 3")
        return cls(
            tuple((k, tuple(sorted(v.items()))) for k, v in sorted(tables.items())),
            default_priority,
        )

    def get(self, kind: str, code: str | None) -> str | None:
        if not code:
            return None
        for k, table in self.tables:
            if k == kind:
                for c, word in table:
                    if c == code or c.casefold() == code.casefold():
                        return word
        return None


_installed = SiteCodes()


def install_site_codes(codes: SiteCodes) -> None:
    """Make ``codes`` the table every reader uses unless it is given one (set at start)."""
    global _installed
    _installed = codes


def site_codes() -> SiteCodes:
    return _installed


def call_type_of(
    common: str, internal: str | None, site: SiteCodes
) -> tuple[CallType, tuple[SafetyFlag, ...], bool]:
    """(type, implied flags, recognised): NENA's registry, then the site's table, else UNRECOGNISED."""
    with contextlib.suppress(UnknownCode):
        t, flags = call_type_from_eido(common, internal)
        mapped = site.get("call_type", internal) if internal else None
        if mapped is not None and not internal_is_console_type(internal):
            t = CallType(mapped)
        return t, flags, True
    for code in (common, internal):
        mapped = site.get("call_type", code)
        if mapped is not None:
            return CallType(mapped), (), True
    return CallType.UNRECOGNISED, (), False


def internal_is_console_type(code: str | None) -> bool:
    try:
        CallType(code or "")
    except ValueError:
        return False
    return True


def call_status_of(
    common: list[str], internal: list[str], site: SiteCodes
) -> tuple[CallStatus, str]:
    """(status, dispatch's code when UNKNOWN): NENA's registry, then the site's table."""
    with contextlib.suppress(UnknownCode):
        return call_status_from_eido(common, internal), ""
    for code in (*internal, *common):
        mapped = site.get("call_status", code)
        if mapped is not None:
            return CallStatus(mapped), ""
    unknown = [c for c in common if c not in INCIDENT_STATUS_KNOWN] or internal or ["none"]
    return CallStatus.UNKNOWN, "/".join(unknown)


def team_status_of(
    primary: str, secondary: list[str], internal: list[str], site: SiteCodes
) -> tuple[TeamStatus, str]:
    with contextlib.suppress(UnknownCode):
        return team_status_from_eido(primary, secondary, internal), ""
    for code in (*internal, *secondary, primary):
        mapped = site.get("team_status", code)
        if mapped is not None:
            return TeamStatus(mapped), ""
    unknown = [primary] if primary not in PRIMARY_UNIT_STATUS else []
    unknown += [s for s in secondary if s not in SECONDARY_UNIT_STATUS]
    return TeamStatus.UNKNOWN, "/".join(unknown or internal or ["none"])
