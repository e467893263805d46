"""EIDO (NENA-STA-021) documents to and from the console's domain records.

One EIDO describes one incident with the units working it (``incidentComponent``,
``locationComponent``, ``personComponent``, ``emergencyResourceComponent``, ``cautionComponent``,
``notesComponent``, ``dispatchComponent``, ``agencyComponent``), or, with no incident component,
one unit on its own (status changes and AVL positions).

What the standard has a place for goes there (see registry.py for the coded values). What it has
none for (the dispatch revision counter ``version``, the lifecycle times of the first team, the
needs of the call, team details) travels in one documented extension object, named in
``eidoExtensionId``; docs/dispatch-protocol.md lists its fields.

Parsing never trusts the input: a missing or mistyped field raises :class:`EidoError`, an unknown
registry value :class:`~console.wire.registry.UnknownCode`; the service quarantines both.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console.domain.codec import CodecError, parse_ts
from console.domain.events import (
    Alert,
    AlertKind,
    AlertRaised,
    CallEscalated,
    CallReceived,
    CallUpdated,
    Event,
    Note,
    NoteAdded,
    Severity,
    Source,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import (
    Call,
    Capabilities,
    EscalationTarget,
    Position,
    SafetyFlag,
    Team,
)
from console.wire import registry as reg

Json = dict[str, Any]

EXTENSION_ID = "urn:responder-console:eido-extension:console:1"
EXTENSION_KEY = "responderConsoleExtension"

PERSON_ROLES = frozenset(
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
LOCATION_TYPES = frozenset(
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


class EidoError(ValueError):
    """A document that does not have the EIDO shape the console reads: names the field."""


# -- small helpers ---------------------------------------------------------------------------


def iso(d: datetime) -> str:
    return d.astimezone(UTC).isoformat()


def _opt_iso(d: datetime | None) -> str | None:
    return None if d is None else iso(d)


def _ref(x: str) -> Json:
    return {"$ref": x}


def _prologue(component_id: str, at: datetime) -> Json:
    return {
        "$id": component_id,
        "lastUpdateTimeStamp": iso(at),
        "updatedByAgencyReference": _ref(reg.DISPATCH_AGENCY.id),
    }


def incident_component_id(call_id: str) -> str:
    return f"{call_id}@{reg.DISPATCH_AGENCY.id}"


def unit_component_id(team_id: str) -> str:
    return f"{team_id}@{reg.PROGRAM_AGENCY.id}"


def gml_point(lat: float, lon: float) -> str:
    """The geometry part of a PIDF-LO location (``locationByValue``)."""
    return (
        '<gml:Point xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326">'
        f"<gml:pos>{lat:.6f} {lon:.6f}</gml:pos></gml:Point>"
    )


_POS = re.compile(r"<gml:pos>\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*</gml:pos>")


def parse_gml_point(text: str) -> tuple[float, float]:
    m = _POS.search(text)
    if m is None:
        raise EidoError("locationByValue: no <gml:pos> with latitude and longitude")
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise EidoError(f"locationByValue: {lat} {lon} is not a position on Earth")
    return lat, lon


def record_hash(record: object) -> str:
    """A short digest of a frozen domain record (its repr is complete and deterministic)."""
    return hashlib.blake2b(repr(record).encode(), digest_size=6).hexdigest()


def content_hash(obj: Any) -> str:
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(raw.encode(), digest_size=6).hexdigest()


# -- what the builder needs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitView:
    """A team as dispatch shows it in a document: status, position, where it is going."""

    team: Team
    position: Position | None = None
    dispatched_at: datetime | None = None
    """When dispatch sent this team to the incident of the document (dispatchComponent)."""
    backup_since: datetime | None = None
    """Set while the team has asked for backup."""


@dataclass(frozen=True, slots=True)
class Escalation:
    target: EscalationTarget
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NoteView:
    note_id: str
    note: Note


@dataclass(frozen=True, slots=True)
class Person:
    """Personal data about a caller or subject: kept apart from the log, masked in views."""

    role: str
    given_name: str = ""
    surname: str = ""
    age: str = ""
    phone: str = ""

    def to_dict(self) -> Json:
        return {
            "role": self.role,
            "given_name": self.given_name,
            "surname": self.surname,
            "age": self.age,
            "phone": self.phone,
        }


# -- building ----------------------------------------------------------------------------------


def _agency(agency: reg.Agency, roles: list[str], at: datetime, owner: bool = False) -> Json:
    out = {
        **_prologue(agency.id, at),
        "agencyRoleDescriptionRegistryText": roles,
        "agencyType": list(agency.types),
    }
    if owner:
        out["incidentOwningAgencyIndicator"] = True
    return out


def _resource_attributes(c: Capabilities) -> tuple[list[str], list[str]]:
    common: list[str] = []
    local: list[str] = []
    if c.clinician:
        common.append(reg.ATTR_CLINICIAN)
    for lang in c.languages:
        interp = reg.LANGUAGE_INTERPRETER.get(lang)
        if interp:
            common.append(interp)
    if c.narcan:
        local.append(reg.LOCAL_NARCAN)
    if c.juvenile_certified:
        local.append(reg.LOCAL_YOUTH)
    if c.peer_specialist:
        local.append(reg.LOCAL_PEER)
    if local:
        common.append(reg.ATTR_OTHER)
    return common, local


def _unit_parts(u: UnitView) -> tuple[Json, list[Json]]:
    """The emergencyResourceComponent of a unit and the location components it references."""
    t = u.team
    primary, secondary = reg.TEAM_STATUS_TO_EIDO[t.status]
    sec = list(secondary)
    if u.backup_since is not None:
        sec.append(reg.BACKUP_SECONDARY)
    common, local = _resource_attributes(t.capabilities)
    comp: Json = {
        **_prologue(unit_component_id(t.id), t.updated_at),
        "agentReference": [_ref(f"crew.{t.id}@{reg.PROGRAM_AGENCY.id}")],
        "emergencyResourceTypeCommonRegistryText": reg.RESOURCE_TYPE_TEAM,
        "emergencyResourceTypeInternalText": t.provider,
        "emergencyResourceName": t.name or t.id,
        "resourceAttributeRegistryText": common,
        "primaryUnitStatusRegistryText": primary,
        "secondaryUnitStatusRegistryText": sec,
        "unitStatusInternal": [t.status.value],
    }
    if local:
        comp["resourceAttributeInternalText"] = local
    if t.call:
        comp["activeOnIncidentId"] = t.call
    locs: list[Json] = []
    if u.position is not None:
        lid = f"unitloc.{t.id}@{reg.PROGRAM_AGENCY.id}"
        comp["unitLocationReference"] = _ref(lid)
        locs.append(
            {
                **_prologue(lid, u.position.at),
                "locationTypeDescriptionRegistryText": "UnitLocation",
                "locationByValue": gml_point(u.position.lat, u.position.lon),
            }
        )
    if t.destination:
        did = f"unitdest.{t.id}@{reg.PROGRAM_AGENCY.id}"
        comp["unitDestinationReference"] = _ref(did)
        locs.append(
            {
                **_prologue(did, t.updated_at),
                "locationTypeDescriptionRegistryText": "Other",
                "locationDescriptionText": t.destination,
            }
        )
    return comp, locs


def _unit_extension(u: UnitView) -> Json:
    t = u.team
    c = t.capabilities
    return {
        "provider": t.provider,
        "name": t.name,
        "statusSince": _opt_iso(t.status_since),
        "lastCheckin": _opt_iso(t.last_checkin),
        "vehicleSeats": c.vehicle_seats,
        "languages": list(c.languages),
        "clinician": c.clinician,
        "backupSince": _opt_iso(u.backup_since),
    }


def _envelope(doc_id: str, at: datetime, agencies: list[Json]) -> Json:
    return {
        **_prologue(doc_id, at),
        "eidoVersion": "1.0",
        "eidoExtensionId": [EXTENSION_ID],
        "issuingElementIdentification": reg.ISSUING_ELEMENT,
        "agencyComponent": agencies,
    }


def build_unit_eido(unit: UnitView) -> Json:
    """A unit-only EIDO (no incident): a status change or an AVL position report."""
    t = unit.team
    at = max(t.updated_at, unit.position.at if unit.position else t.updated_at)
    comp, locs = _unit_parts(unit)
    doc = _envelope(
        f"eido.unit.{t.id}.{iso(at)}@{reg.ISSUING_ELEMENT}",
        at,
        [
            _agency(reg.DISPATCH_AGENCY, ["Dispatching"], at, owner=True),
            _agency(reg.PROGRAM_AGENCY, ["Dispatched"], at),
        ],
    )
    doc["emergencyResourceComponent"] = [comp]
    if locs:
        doc["locationComponent"] = locs
    doc[EXTENSION_KEY] = {"units": {t.id: _unit_extension(unit)}}
    return doc


def build_incident_eido(
    call: Call,
    units: Sequence[UnitView] = (),
    *,
    notes: Sequence[NoteView] = (),
    persons: Sequence[Person] = (),
    escalation: Escalation | None = None,
    escalation_request: Mapping[str, str] | None = None,
) -> Json:
    """An incident EIDO: the call as dispatch describes it, with the units working it.

    ``escalation_request`` (target, urgency, reason) marks a document sent *to* dispatch in a
    ``requestForService``: the TransferredTo agency there is the one service is requested from.
    """
    cid = call.id
    at = call.updated_at
    for u in units:
        at = max(at, u.team.updated_at, u.position.at if u.position else at)
    for n in notes:
        at = max(at, n.note.at)
    agencies = [
        _agency(reg.DISPATCH_AGENCY, ["Dispatching", "CallReceiving"], at, owner=True),
        _agency(reg.PROGRAM_AGENCY, ["Dispatched"], at),
    ]
    if escalation is not None:
        agencies.append(
            _agency(reg.ESCALATION_AGENCIES[escalation.target], ["TransferredTo"], escalation.at)
        )
    doc = _envelope(f"eido.{cid}.v{call.version}.{iso(at)}@{reg.ISSUING_ELEMENT}", at, agencies)

    common_type = (
        call.source_type
        if call.source_type in reg.EIDO_TYPE_TO_CALL
        else reg.CALL_TYPE_TO_EIDO[call.type]
    )
    inc: Json = {
        **_prologue(incident_component_id(cid), call.updated_at),
        "incidentTypeCommonRegistryText": common_type,
        "incidentTypeInternalCode": call.type.value,
        "incidentTypeInternalText": call.type.label,
        "incidentStatusCommonRegistryText": list(reg.CALL_STATUS_TO_EIDO[call.status]),
        "incidentStatusInternalText": [call.status.value],
        "internalIncidentId": cid,
        "incidentCommonPriorityNumber": call.priority,
        "incidentPriorityInternalText": f"P{call.priority}",
        "reportNumberType": "New" if call.version <= 1 else "Ongoing",
    }
    locations: list[Json] = []
    if call.lat is not None and call.lon is not None:
        lid = f"loc.{cid}@{reg.DISPATCH_AGENCY.id}"
        loc: Json = {
            **_prologue(lid, call.received_at),
            "locationTypeDescriptionRegistryText": "CurrentIncident",
            "locationByValue": gml_point(call.lat, call.lon),
        }
        if call.address:
            loc["locationDescriptionText"] = call.address
        if call.neighborhood:
            loc["localIdentifier"] = [call.neighborhood]
        locations.append(loc)
        inc["locationReference"] = [_ref(lid)]
    if call.disposition:
        inc["dispositionComponent"] = [
            {
                **_prologue(f"disp.{cid}@{reg.DISPATCH_AGENCY.id}", call.updated_at),
                "dispositionCommonRegistryCode": reg.DISPOSITION_TO_EIDO.get(
                    call.disposition, "13"
                ),
                "dispositionPrimaryIndicator": True,
                "dispositionCategoryText": call.disposition,
            }
        ]
    if persons:
        inc["personReference"] = [
            _ref(f"person.{cid}.{i}@{reg.DISPATCH_AGENCY.id}") for i in range(len(persons))
        ]
        doc["personComponent"] = [
            _person(cid, i, p, call.received_at) for i, p in enumerate(persons)
        ]
    if notes:
        inc["notesReference"] = [_ref(n.note_id) for n in notes]
        doc["notesComponent"] = [
            {
                **_prologue(n.note_id, n.note.at),
                "updatedByAgentReference": _ref(n.note.author or "unknown"),
                "notesActionComments": html.escape(n.note.text),
            }
            for n in notes
        ]
    doc["incidentComponent"] = inc
    doc["callComponent"] = [
        {
            **_prologue(f"call.{cid}@{reg.DISPATCH_AGENCY.id}", call.received_at),
            "callStateRegistryText": "callEnd",
            "standardPrimaryCallType": "emergency",
            "direction": "incoming",
            "callStartTimestamp": iso(call.received_at),
            "priorityIdentifier": reg.PRIORITY_TO_CALL_PRIORITY[call.priority],
        }
    ]
    if call.safety_flags:
        doc["cautionComponent"] = [
            {
                **_prologue(f"caution.{cid}.{f.value}@{reg.DISPATCH_AGENCY.id}", call.updated_at),
                "cautionTypeInternalText": f.value,
                "cautionTypeCommonRegistryText": reg.SAFETY_FLAG_TO_CAUTION[f],
                "cautionSeverity": "highest",
            }
            for f in call.safety_flags
        ]
    dispatches = [u for u in units if u.dispatched_at is not None]
    if dispatches:
        doc["dispatchComponent"] = [
            {
                **_prologue(
                    f"dispatch.{cid}.{u.team.id}@{reg.DISPATCH_AGENCY.id}",
                    u.dispatched_at,  # type: ignore[arg-type]
                ),
                "agencyReference": _ref(reg.PROGRAM_AGENCY.id),
                "emergencyResourceReference": [_ref(unit_component_id(u.team.id))],
            }
            for u in dispatches
        ]
    if units:
        comps = []
        for u in units:
            comp, locs = _unit_parts(u)
            comps.append(comp)
            locations.extend(locs)
        doc["emergencyResourceComponent"] = comps
    if locations:
        doc["locationComponent"] = locations
    ext_call: Json = {
        "version": call.version,
        "receivedAt": iso(call.received_at),
        "dispatchedAt": _opt_iso(call.dispatched_at),
        "enrouteAt": _opt_iso(call.enroute_at),
        "onsceneAt": _opt_iso(call.onscene_at),
        "clearedAt": _opt_iso(call.cleared_at),
        "team": call.team,
        "teams": list(call.teams),
        "juvenile": call.juvenile,
        "language": call.language,
        "transportNeeded": call.transport_needed,
        "transportSeats": call.transport_seats,
        "destination": call.destination,
        "summary": call.summary,
    }
    if escalation is not None:
        ext_call["escalation"] = {
            "target": escalation.target.value,
            "at": iso(escalation.at),
            "reason": escalation.reason,
        }
    if escalation_request is not None:
        ext_call["escalationRequest"] = dict(escalation_request)
    doc[EXTENSION_KEY] = {
        "call": ext_call,
        "units": {u.team.id: _unit_extension(u) for u in units},
    }
    return doc


def _person(cid: str, i: int, p: Person, at: datetime) -> Json:
    person: Json = {}
    if p.given_name or p.surname:
        name: Json = {}
        if p.given_name:
            name["personGivenName"] = [{"value": p.given_name}]
        if p.surname:
            name["personSurName"] = [{"value": p.surname}]
        person["name"] = [name]
    if p.age:
        person["ageDescription"] = [{"value": p.age}]
    out: Json = {
        **_prologue(f"person.{cid}.{i}@{reg.DISPATCH_AGENCY.id}", at),
        "personIncidentRoleRegistryText": [p.role],
        "callIdentifier": [cid],
        "ncPersonComponent": person,
    }
    if p.phone:
        out["notesReference"] = []
        person["description"] = [{"value": f"callback {p.phone}"}]
    return out


# -- parsing -------------------------------------------------------------------------------------


def _get(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise EidoError(f"{where}.{key} is missing")
    v = d[key]
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is not bool):
        raise EidoError(f"{where}.{key}: expected {_kind_name(kind)}, got {type(v).__name__}")
    return v


def _opt(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d or d[key] is None:
        return None
    return _get(d, key, kind, where)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def _str_list(d: Mapping[str, Any], key: str, where: str, required: bool = False) -> list[str]:
    v = _get(d, key, list, where) if required else (_opt(d, key, list, where) or [])
    for x in v:
        if not isinstance(x, str):
            raise EidoError(f"{where}.{key}: expected strings, got {type(x).__name__}")
    return list(v)


def _time(s: Any, where: str) -> datetime:
    if not isinstance(s, str):
        raise EidoError(f"{where}: expected an ISO 8601 time, got {type(s).__name__}")
    try:
        d = parse_ts(s, where)
    except CodecError as exc:
        raise EidoError(str(exc)) from exc
    if d is None:  # the empty string
        raise EidoError(f"{where}: {s!r} is not an ISO 8601 time")
    return d


def _opt_time(d: Mapping[str, Any], key: str, where: str) -> datetime | None:
    v = d.get(key)
    return None if v is None else _time(v, f"{where}.{key}")


def _components(doc: Mapping[str, Any], key: str) -> list[Json]:
    v = doc.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise EidoError(f"{key}: expected an array of objects")
    return v


def _prologue_of(c: Mapping[str, Any], where: str) -> tuple[str, datetime]:
    cid = _get(c, "$id", str, where)
    at = _time(c.get("lastUpdateTimeStamp"), f"{where}.lastUpdateTimeStamp")
    ref = c.get("updatedByAgencyReference")
    if not isinstance(ref, dict) or not isinstance(ref.get("$ref"), str):
        raise EidoError(f"{where}.updatedByAgencyReference must be a reference object")
    return cid, at


def _strip_suffix(component_id: str) -> str:
    return component_id.split("@", 1)[0]


@dataclass
class ParsedEido:
    """What one EIDO says, as domain events plus the personal data kept apart."""

    doc_id: str
    events: list[Event] = field(default_factory=list)
    call: Call | None = None
    teams: list[Team] = field(default_factory=list)
    persons: list[Json] = field(default_factory=list)


def _unit(
    comp: Json, locs: Mapping[str, Json], ext_units: Mapping[str, Any], where: str
) -> tuple[Team, Position | None, datetime | None]:
    cid, at = _prologue_of(comp, where)
    team_id = _strip_suffix(cid)
    for key in (
        "agentReference",
        "resourceAttributeRegistryText",
        "secondaryUnitStatusRegistryText",
    ):
        _get(comp, key, list, where)
    rtype = _get(comp, "emergencyResourceTypeCommonRegistryText", str, where)
    if rtype not in reg.RESOURCE_TYPES_KNOWN:
        raise reg.UnknownCode("emergencyResourceTypeCommonRegistryText", rtype)
    primary = _get(comp, "primaryUnitStatusRegistryText", str, where)
    secondary = _str_list(comp, "secondaryUnitStatusRegistryText", where, required=True)
    internal = _str_list(comp, "unitStatusInternal", where)
    status = reg.team_status_from_eido(primary, secondary, internal)
    attrs = _str_list(comp, "resourceAttributeRegistryText", where, required=True)
    local = _str_list(comp, "resourceAttributeInternalText", where)
    ext = ext_units.get(team_id) or {}
    if not isinstance(ext, dict):
        raise EidoError(f"{EXTENSION_KEY}.units.{team_id}: expected an object")
    langs = tuple(ext.get("languages") or ()) or (
        "en",
        *tuple(reg.INTERPRETER_LANGUAGE[a] for a in attrs if a in reg.INTERPRETER_LANGUAGE),
    )
    caps = Capabilities(
        narcan=reg.LOCAL_NARCAN in local,
        vehicle_seats=int(ext.get("vehicleSeats") or 0),
        juvenile_certified=reg.LOCAL_YOUTH in local,
        languages=langs,
        clinician=bool(ext.get("clinician", reg.ATTR_CLINICIAN in attrs)),
        peer_specialist=reg.LOCAL_PEER in local,
    )
    destination = None
    dref = comp.get("unitDestinationReference")
    if isinstance(dref, dict) and dref.get("$ref") in locs:
        destination = locs[dref["$ref"]].get("locationDescriptionText")
    active = _opt(comp, "activeOnIncidentId", str, where)
    team = Team(
        id=team_id,
        status=status,
        updated_at=at,
        provider=str(ext.get("provider") or comp.get("emergencyResourceTypeInternalText") or ""),
        status_since=_opt_time(ext, "statusSince", f"{where} extension"),
        call=active,
        capabilities=caps,
        last_checkin=_opt_time(ext, "lastCheckin", f"{where} extension"),
        destination=destination,
        name=str(ext.get("name") or ""),
    )
    pos = None
    lref = comp.get("unitLocationReference")
    if isinstance(lref, dict) and lref.get("$ref") in locs:
        loc = locs[lref["$ref"]]
        lat, lon = parse_gml_point(_get(loc, "locationByValue", str, "unit location"))
        pos = Position(lat, lon, _time(loc.get("lastUpdateTimeStamp"), "unit location time"))
    backup = None
    if reg.BACKUP_SECONDARY in secondary:
        backup = _opt_time(ext, "backupSince", f"{where} extension") or at
    return team, pos, backup


def _persons(doc: Json) -> list[Json]:
    out: list[Json] = []
    for i, p in enumerate(_components(doc, "personComponent")):
        where = f"personComponent[{i}]"
        _prologue_of(p, where)
        roles = _str_list(p, "personIncidentRoleRegistryText", where, required=True)
        for r in roles:
            if r not in PERSON_ROLES:
                raise reg.UnknownCode("personIncidentRoleRegistryText", r)
        nc = p.get("ncPersonComponent") or {}
        if not isinstance(nc, dict):
            raise EidoError(f"{where}.ncPersonComponent: expected an object")

        def first(items: Any, key: str) -> str:
            if not isinstance(items, list) or not items or not isinstance(items[0], dict):
                return ""
            v = items[0].get(key)
            if isinstance(v, list) and v and isinstance(v[0], dict):
                return str(v[0].get("value") or "")
            return str(v or "") if not isinstance(v, list) else ""

        names = nc.get("name")
        desc = first(nc.get("description"), "value")
        out.append(
            Person(
                role=roles[0] if roles else "InvolvedPerson",
                given_name=first(names, "personGivenName"),
                surname=first(names, "personSurName"),
                age=first(nc.get("ageDescription"), "value"),
                phone=desc.removeprefix("callback ") if desc.startswith("callback ") else "",
            ).to_dict()
        )
    return out


def parse_eido(doc: Any, *, recorded_at: datetime | None = None) -> ParsedEido:
    """Domain events for one EIDO; raises EidoError / UnknownCode for input to quarantine."""
    if not isinstance(doc, dict):
        raise EidoError(f"EIDO: expected an object, got {type(doc).__name__}")
    rec = recorded_at or datetime.now(UTC)
    doc_id, _doc_at = _prologue_of(doc, "EIDO")
    if doc.get("eidoVersion") != "1.0":
        raise EidoError(f"eidoVersion: expected '1.0', got {doc.get('eidoVersion')!r}")
    _get(doc, "issuingElementIdentification", str, "EIDO")
    agencies = _components(doc, "agencyComponent")
    if "agencyComponent" not in doc:
        raise EidoError("EIDO.agencyComponent is missing")
    ext = doc.get(EXTENSION_KEY) or {}
    if not isinstance(ext, dict):
        raise EidoError(f"{EXTENSION_KEY}: expected an object")
    ext_units = ext.get("units") or {}
    if not isinstance(ext_units, dict):
        raise EidoError(f"{EXTENSION_KEY}.units: expected an object")
    locs: dict[str, Json] = {}
    for i, loc in enumerate(_components(doc, "locationComponent")):
        lid, _ = _prologue_of(loc, f"locationComponent[{i}]")
        lt = _get(loc, "locationTypeDescriptionRegistryText", str, f"locationComponent[{i}]")
        if lt not in LOCATION_TYPES:
            raise reg.UnknownCode("locationTypeDescriptionRegistryText", lt)
        locs[lid] = loc

    out = ParsedEido(doc_id)
    events = out.events

    def ev(cls: type[Event], sid: str, at: datetime, **kw: Any) -> None:
        events.append(
            cls(source=Source.DISPATCH, source_id=sid, occurred_at=at, recorded_at=rec, **kw)
        )

    units: list[tuple[Team, Position | None, datetime | None]] = []
    for i, comp in enumerate(_components(doc, "emergencyResourceComponent")):
        units.append(_unit(comp, locs, ext_units, f"emergencyResourceComponent[{i}]"))

    inc = doc.get("incidentComponent")
    if inc is not None:
        if not isinstance(inc, dict):
            raise EidoError("incidentComponent: expected an object")
        out.call = call = _incident(doc, inc, ext, locs, agencies, units)
        kind = CallReceived if inc.get("reportNumberType") == "New" else CallUpdated
        h = record_hash(call)
        ev(
            kind,
            f"call:{call.id}:v{call.version}:{iso(call.updated_at)}:{h}",
            call.updated_at,
            call=call,
        )
        for i, d in enumerate(_components(doc, "dispatchComponent")):
            where = f"dispatchComponent[{i}]"
            _, at = _prologue_of(d, where)
            for r in _get(d, "emergencyResourceReference", list, where):
                if not isinstance(r, dict) or not isinstance(r.get("$ref"), str):
                    raise EidoError(f"{where}.emergencyResourceReference: expected references")
                tid = _strip_suffix(r["$ref"])
                ev(
                    TeamAssigned,
                    f"assign:{call.id}:{tid}:{iso(at)}",
                    at,
                    call_id=call.id,
                    team_id=tid,
                )
        esc = (
            (ext.get("call") or {}).get("escalation") if isinstance(ext.get("call"), dict) else None
        )
        if call.escalated_to is not None:
            at = call.updated_at
            reason = ""
            if isinstance(esc, dict):
                at = _opt_time(esc, "at", "escalation") or at
                reason = str(esc.get("reason") or "")
            ev(
                CallEscalated,
                f"escalation:{call.id}:{call.escalated_to.value}:{iso(at)}",
                at,
                call_id=call.id,
                target=call.escalated_to,
                reason=reason,
            )
        for i, n in enumerate(_components(doc, "notesComponent")):
            where = f"notesComponent[{i}]"
            nid, at = _prologue_of(n, where)
            text = html.unescape(_get(n, "notesActionComments", str, where))
            author_ref = n.get("updatedByAgentReference")
            author = author_ref.get("$ref", "") if isinstance(author_ref, dict) else ""
            ev(NoteAdded, f"note:{nid}", at, note=Note(call.id, text, str(author), at))
        out.persons = _persons(doc)
    for team, pos, backup in units:
        out.teams.append(team)
        h = record_hash(team)
        ev(
            TeamStatusChanged,
            f"team:{team.id}:{iso(team.updated_at)}:{h}",
            team.updated_at,
            team=team,
        )
        if pos is not None:
            ev(
                TeamPositionReported,
                f"pos:{team.id}:{iso(pos.at)}:{pos.lat:.6f},{pos.lon:.6f}",
                pos.at,
                team_id=team.id,
                position=pos,
            )
        if backup is not None:
            alert = Alert(
                f"backup_request:{team.id}:{iso(backup)}",
                AlertKind.BACKUP_REQUEST,
                Severity.CRITICAL,
                team.id,
                f"{team.id} requests backup" + (f" at {team.call}" if team.call else ""),
                backup,
            )
            ev(AlertRaised, f"alert:{alert.id}", backup, alert=alert)
    if inc is None and not units:
        raise EidoError(
            "EIDO carries neither an incidentComponent nor an emergencyResourceComponent"
        )
    return out


def _incident(
    doc: Json,
    inc: Json,
    ext: Json,
    locs: Mapping[str, Json],
    agencies: list[Json],
    units: list[tuple[Team, Position | None, datetime | None]],
) -> Call:
    where = "incidentComponent"
    comp_id, updated = _prologue_of(inc, where)
    call_id = inc.get("internalIncidentId") or _strip_suffix(comp_id)
    if not isinstance(call_id, str) or not call_id:
        raise EidoError(f"{where}.internalIncidentId: expected a string")
    common_type = _get(inc, "incidentTypeCommonRegistryText", str, where)
    ctype, implied = reg.call_type_from_eido(
        common_type, _opt(inc, "incidentTypeInternalCode", str, where)
    )
    status = reg.call_status_from_eido(
        _str_list(inc, "incidentStatusCommonRegistryText", where, required=True),
        _str_list(inc, "incidentStatusInternalText", where),
    )
    priority = reg.priority_from_eido(inc.get("incidentCommonPriorityNumber"))
    flags: set[SafetyFlag] = set(implied)
    for i, c in enumerate(_components(doc, "cautionComponent")):
        w = f"cautionComponent[{i}]"
        _prologue_of(c, w)
        flags.add(
            reg.safety_flag_from_caution(
                _get(c, "cautionTypeCommonRegistryText", str, w),
                _get(c, "cautionTypeInternalText", str, w),
            )
        )
    lat = lon = None
    address = neighborhood = ""
    for r in inc.get("locationReference") or []:
        loc = locs.get(str(r.get("$ref"))) if isinstance(r, dict) else None
        if loc is None:
            raise EidoError(f"{where}.locationReference: {r!r} is not in locationComponent")
        if "locationByValue" in loc:
            lat, lon = parse_gml_point(_get(loc, "locationByValue", str, "incident location"))
        address = str(loc.get("locationDescriptionText") or "")
        ids = loc.get("localIdentifier") or []
        neighborhood = str(ids[0]) if ids else ""
        break
    disposition = None
    for i, d in enumerate(_components(inc, "dispositionComponent")):
        w = f"{where}.dispositionComponent[{i}]"
        _prologue_of(d, w)
        disposition = reg.disposition_from_eido(
            _get(d, "dispositionCommonRegistryCode", str, w),
            _opt(d, "dispositionCategoryText", str, w),
        )
    escalated_to = None
    for a in agencies:
        roles = a.get("agencyRoleDescriptionRegistryText") or []
        if isinstance(roles, list) and "TransferredTo" in roles:
            escalated_to = reg.escalation_from_agency(str(a.get("$id")))
    xc = ext.get("call") or {}
    if not isinstance(xc, dict):
        raise EidoError(f"{EXTENSION_KEY}.call: expected an object")
    received = _opt_time(xc, "receivedAt", "extension")
    if received is None:
        calls = _components(doc, "callComponent")
        received = (
            _time(calls[0].get("callStartTimestamp"), "callStartTimestamp") if calls else updated
        )
    dispatched = _opt_time(xc, "dispatchedAt", "extension")
    if dispatched is None:
        ds = [
            _time(d.get("lastUpdateTimeStamp"), "dispatch time")
            for d in _components(doc, "dispatchComponent")
        ]
        dispatched = min(ds) if ds else None
    teams_ext = xc.get("teams")
    teams = (
        tuple(str(t) for t in teams_ext)
        if isinstance(teams_ext, list)
        else tuple(t.id for t, _, _ in units if t.call == call_id)
    )
    team = xc.get("team") if "team" in xc else (teams[-1] if teams else None)
    version = xc.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EidoError(
            f"{EXTENSION_KEY}.call.version: expected a positive integer, got {version!r}"
        )
    return Call(
        id=call_id,
        status=status,
        priority=priority,
        type=ctype,
        received_at=received,
        updated_at=updated,
        dispatched_at=dispatched,
        enroute_at=_opt_time(xc, "enrouteAt", "extension"),
        onscene_at=_opt_time(xc, "onsceneAt", "extension"),
        cleared_at=_opt_time(xc, "clearedAt", "extension"),
        team=str(team) if team else None,
        teams=teams,
        safety_flags=tuple(f for f in SafetyFlag if f in flags),
        lat=lat,
        lon=lon,
        address=address,
        neighborhood=neighborhood,
        disposition=disposition,
        escalated_to=escalated_to,
        juvenile=bool(xc.get("juvenile", False)),
        language=xc.get("language") or None,
        transport_needed=bool(xc.get("transportNeeded", False)),
        transport_seats=int(xc.get("transportSeats", 1) or 1),
        destination=xc.get("destination") or None,
        summary=str(xc.get("summary") or ""),
        source_type=common_type,
        version=version,
    )


def escalation_request_of(doc: Any) -> tuple[str, EscalationTarget, str, str]:
    """(call id, target, urgency, reason) from the EIDO of a ``requestForService``."""
    if not isinstance(doc, dict):
        raise EidoError("requestForService.eido: expected an object")
    inc = doc.get("incidentComponent")
    if not isinstance(inc, dict):
        raise EidoError("requestForService.eido.incidentComponent is missing")
    call_id = inc.get("internalIncidentId")
    if not isinstance(call_id, str):
        raise EidoError("requestForService.eido.incidentComponent.internalIncidentId is missing")
    xc = ((doc.get(EXTENSION_KEY) or {}).get("call") or {}).get("escalationRequest")
    if not isinstance(xc, dict):
        raise EidoError(f"requestForService.eido.{EXTENSION_KEY}.call.escalationRequest is missing")
    try:
        target = EscalationTarget(str(xc.get("target")))
    except ValueError as exc:
        raise reg.UnknownCode("escalationRequest.target", xc.get("target")) from exc
    return call_id, target, str(xc.get("urgency") or "normal"), str(xc.get("reason") or "")
