"""EIDO (NENA-STA-021) documents to and from the console's domain records.

One EIDO describes one incident with the units working it (``incidentComponent``,
``locationComponent``, ``personComponent``, ``emergencyResourceComponent``, ``cautionComponent``,
``notesComponent``, ``dispatchComponent``, ``agencyComponent``), or, with no incident component,
one unit on its own (status changes and AVL positions).

What the standard has a place for goes there (see registry.py for the coded values). What it has
none for (the dispatch revision counter ``version``, the lifecycle times of the first team, the
needs of the call, team details) travels in one documented extension object, named in
``eidoExtensionId``; docs/dispatch-protocol.md lists its fields.

Reading never trusts the input, and tolerates how other CADs write (see "parsing" below and
docs/dispatch-protocol.md, "Interoperating with a CAD"): a code outside NENA's registries and the
site's table is kept as given (UNKNOWN / UNRECOGNISED with the code, or ``codes``), never a
refusal; only a document that cannot be read at all raises :class:`EidoError`, which the service
quarantines. Writing stays strict: every document built here validates against NENA's schema.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from console.domain.codec import CodecError, parse_ts
from console.domain.destinations import CapacityReport
from console.domain.events import (
    Alert,
    AlertKind,
    AlertRaised,
    CallEscalated,
    CallReceived,
    CallUpdated,
    DestinationStatusReported,
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
    CallStatus,
    CallType,
    Capabilities,
    EscalationTarget,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.wire import pidf
from console.wire import registry as reg
from console.wire.normalise import EXTENSION_KEY, normalise
from console.wire.normalise import document_key as document_key

Json = dict[str, Any]

EXTENSION_ID = "urn:responder-console:eido-extension:console:1"

PERSON_ROLES = reg.NENA_PERSON_ROLES
LOCATION_TYPES = reg.NENA_LOCATION_TYPES


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
        "unitStatusInternal": _internal_status(t.status.value, t.status_code),
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


def _internal_status(value: str, code: str) -> list[str]:
    """The local status code: the console's word, then dispatch's own code for an unknown one."""
    return [value, code] if value == "unknown" else [value]


def _unit_extension(u: UnitView) -> Json:
    t = u.team
    c = t.capabilities
    return {
        **({"codes": [list(p) for p in t.codes]} if t.codes else {}),
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
        # An unrecognised type: dispatch's own code travels as the local text.
        "incidentTypeInternalText": (
            call.source_type if call.type is CallType.UNRECOGNISED else call.type.label
        ),
        "incidentStatusCommonRegistryText": list(reg.CALL_STATUS_TO_EIDO[call.status]),
        "incidentStatusInternalText": _internal_status(call.status.value, call.status_code),
        "internalIncidentId": cid,
        # 0: dispatch gave no priority (EidoLib's default); the console's default is shown.
        "incidentCommonPriorityNumber": call.priority if call.priority_given else 0,
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
            "priorityIdentifier": reg.PRIORITY_TO_CALL_PRIORITY.get(call.priority, "normal"),
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
    if call.codes:
        ext_call["codes"] = [list(p) for p in call.codes]
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
#
# Reading is four steps, each a function of its own:
#   1. normalise(doc)          canonical names, shapes and prologues        (normalise.py)
#   2. _incident / _unit / ...  the standard fields read into domain records
#   3. registry.*_of(...)       codes: NENA's registries, then the site's table (registry.py);
#                               what neither knows is kept as given (status_code, codes,
#                               UNRECOGNISED), never a refusal
#   4. parse_eido               domain events from the records
# Only a document that cannot be read at all (not an object, no readable identity or time, a
# field of the wrong kind where the console needs it) raises EidoError.


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
    """``$id`` and time of a component (normalise has given it the document's when it had none)."""
    cid = _get(c, "$id", str, where)
    at = _time(c.get("lastUpdateTimeStamp"), f"{where}.lastUpdateTimeStamp")
    return cid, at


def _strip_suffix(component_id: str) -> str:
    return component_id.split("@", 1)[0]


def _ref_of(v: Any) -> str | None:
    return v.get("$ref") if isinstance(v, dict) and isinstance(v.get("$ref"), str) else None


def _location(loc: Json, where: str) -> pidf.Location:
    text = loc.get("locationByValue")
    if not isinstance(text, str) or not text.strip():
        return pidf.Location()
    try:
        return pidf.parse_location(text)
    except pidf.PidfError as exc:
        raise EidoError(f"{where}: {exc}") from None


@dataclass
class ParsedEido:
    """What one EIDO says, as domain events plus the personal data kept apart."""

    doc_id: str
    events: list[Event] = field(default_factory=list)
    call: Call | None = None
    teams: list[Team] = field(default_factory=list)
    persons: list[Json] = field(default_factory=list)
    """Persons of the call (Person.to_dict); the callback number, if dispatch gave one, is the
    ``"callback"`` key of the first person (a Caller is added when there is no person)."""


_ATTRS_UNDERSTOOD = frozenset(
    [reg.ATTR_CLINICIAN, reg.ATTR_OTHER, *reg.LANGUAGE_INTERPRETER.values()]
)


def _unit(
    comp: Json,
    locs: Mapping[str, Json],
    ext_units: Mapping[str, Any],
    where: str,
    site: reg.SiteCodes,
    incident_id: str | None,
) -> tuple[Team, Position | None, datetime | None]:
    cid, at = _prologue_of(comp, where)
    team_id = _strip_suffix(cid)
    codes: list[tuple[str, str]] = []
    rtype = _opt(comp, "emergencyResourceTypeCommonRegistryText", str, where)
    if rtype and rtype not in reg.RESOURCE_TYPES_KNOWN:
        codes.append(("resource_type", rtype))
    primary = _opt(comp, "primaryUnitStatusRegistryText", str, where) or ""
    secondary = _str_list(comp, "secondaryUnitStatusRegistryText", where)
    internal = _str_list(comp, "unitStatusInternal", where)
    status_code = ""
    if internal[:1] == [TeamStatus.UNKNOWN.value]:
        status, status_code = TeamStatus.UNKNOWN, (internal[1] if len(internal) > 1 else "")
    else:
        status, status_code = reg.team_status_of(primary, secondary, internal, site)
    attrs = _str_list(comp, "resourceAttributeRegistryText", where)
    local = _str_list(comp, "resourceAttributeInternalText", where)
    codes.extend(("resource_attribute", a) for a in attrs if a not in _ATTRS_UNDERSTOOD)
    ext = ext_units.get(team_id) or {}
    if not isinstance(ext, dict):
        raise EidoError(f"{EXTENSION_KEY}.units.{team_id}: expected an object")
    if isinstance(ext.get("codes"), list):
        codes = [
            (str(p[0]), str(p[1])) for p in ext["codes"] if isinstance(p, list) and len(p) == 2
        ]
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
    dref = _ref_of(comp.get("unitDestinationReference"))
    if dref is not None and dref in locs:
        destination = locs[dref].get("locationDescriptionText")
    active = _opt(comp, "activeOnIncidentId", str, where)
    if active is None and incident_id is not None and status not in _NOT_WORKING:
        # A CAD names no incident on the unit: a working unit in an incident's document works it.
        active = incident_id
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
        name=str((ext.get("name") if "name" in ext else comp.get("emergencyResourceName")) or ""),
        status_code=status_code,
        codes=tuple(codes),
    )
    pos = None
    lref = _ref_of(comp.get("unitLocationReference"))
    if lref is not None and lref in locs:
        loc = locs[lref]
        where_loc = f"{where} unit location"
        g = _location(loc, where_loc)
        if g.lat is not None and g.lon is not None:
            pos = Position(g.lat, g.lon, _time(loc.get("lastUpdateTimeStamp"), where_loc))
    backup = None
    if reg.BACKUP_SECONDARY in secondary:
        backup = _opt_time(ext, "backupSince", f"{where} extension") or at
    return team, pos, backup


_NOT_WORKING = frozenset(
    [TeamStatus.AVAILABLE, TeamStatus.OFF_DUTY, TeamStatus.OUT_OF_SERVICE, TeamStatus.UNKNOWN]
)


def _first_text(items: Any, key: str) -> str:
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return ""
    v = items[0].get(key)
    if isinstance(v, dict):
        v = [v]
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return str(v[0].get("value") or "")
    return str(v or "") if not isinstance(v, list) else ""


def _callbacks(doc: Json) -> dict[str, str]:
    """callbackComponent $id -> the number to call back (``tel:`` preferred, updated CBN first)."""
    out: dict[str, str] = {}
    for cb in _components(doc, "callbackComponent"):
        uris: list[str] = []
        upd = cb.get("updatedCbn")
        if isinstance(upd, dict) and isinstance(upd.get("updatedCbnIdentifierUri"), str):
            uris.append(upd["updatedCbnIdentifierUri"])
        uris.extend(u for u in cb.get("callBackInformationUri") or () if isinstance(u, str))
        tel = next((u for u in uris if u.lower().startswith("tel:")), None)
        chosen = tel or (uris[0] if uris else "")
        if chosen and isinstance(cb.get("$id"), str):
            out[cb["$id"]] = chosen[4:] if chosen.lower().startswith("tel:") else chosen
    return out


def _persons(doc: Json, site: reg.SiteCodes) -> tuple[list[Json], list[tuple[str, str]]]:
    """Persons (personal data, kept apart from the log) and the role codes nobody maps."""
    out: list[Json] = []
    codes: list[tuple[str, str]] = []
    callbacks = _callbacks(doc)
    call_cb = next(
        (
            callbacks[r]
            for c in _components(doc, "callComponent")
            if (r := _ref_of(c.get("callBackReference"))) in callbacks
        ),
        next(iter(callbacks.values()), ""),
    )
    for i, p in enumerate(_components(doc, "personComponent")):
        where = f"personComponent[{i}]"
        roles = _str_list(p, "personIncidentRoleRegistryText", where)
        role = roles[0] if roles else "InvolvedPerson"
        if role not in PERSON_ROLES:
            mapped = site.get("person_role", role)
            if mapped is None:
                codes.append(("person_role", role))
            role = mapped or role
        nc = p.get("ncPersonComponent") or {}
        if not isinstance(nc, dict):
            raise EidoError(f"{where}.ncPersonComponent: expected an object")
        names = nc.get("name")
        desc = _first_text(nc.get("description"), "value")
        person = Person(
            role=role,
            given_name=_first_text(names, "personGivenName"),
            surname=_first_text(names, "personSurName"),
            age=_first_text(nc.get("ageDescription"), "value"),
            phone=desc.removeprefix("callback ") if desc.startswith("callback ") else "",
        ).to_dict()
        cb = callbacks.get(_ref_of(p.get("callBackReference")) or "")
        if cb:
            person["callback"] = cb
        out.append(person)
    if call_cb and not any(p.get("callback") for p in out):
        if out:
            out[0]["callback"] = call_cb
        else:
            out.append({**Person(role="Caller").to_dict(), "callback": call_cb})
    return out, codes


def parse_eido(
    doc: Any, *, recorded_at: datetime | None = None, codes: reg.SiteCodes | None = None
) -> ParsedEido:
    """Domain events for one EIDO; raises EidoError only for a document that cannot be read.

    ``codes`` is the site's own code table (default: the one installed at start).
    """
    if not isinstance(doc, dict):
        raise EidoError(f"EIDO: expected an object, got {type(doc).__name__}")
    site = codes or reg.site_codes()
    rec = recorded_at or datetime.now(UTC)
    doc = normalise(doc)
    doc_id, _doc_at = _prologue_of(doc, "EIDO")
    version = doc.get("eidoVersion", "1.0")
    if not isinstance(version, str) or not version.startswith("1"):
        raise EidoError(f"eidoVersion: expected '1.0', got {version!r}")
    agencies = _components(doc, "agencyComponent")
    ext = doc.get(EXTENSION_KEY) or {}
    if not isinstance(ext, dict):
        raise EidoError(f"{EXTENSION_KEY}: expected an object")
    ext_units = ext.get("units") or {}
    if not isinstance(ext_units, dict):
        raise EidoError(f"{EXTENSION_KEY}.units: expected an object")
    loc_codes: dict[str, str] = {}
    locs: dict[str, Json] = {}
    for i, loc in enumerate(_components(doc, "locationComponent")):
        lid, _ = _prologue_of(loc, f"locationComponent[{i}]")
        lt = _opt(loc, "locationTypeDescriptionRegistryText", str, f"locationComponent[{i}]")
        if lt and lt not in LOCATION_TYPES and site.get("location_type", lt) is None:
            loc_codes[lid] = lt
        locs[lid] = loc

    out = ParsedEido(doc_id)
    events = out.events

    def ev(cls: type[Event], sid: str, at: datetime, **kw: Any) -> None:
        events.append(
            cls(source=Source.DISPATCH, source_id=sid, occurred_at=at, recorded_at=rec, **kw)
        )

    inc = doc.get("incidentComponent")
    if inc is not None and not isinstance(inc, dict):
        raise EidoError("incidentComponent: expected an object")
    incident_id = _incident_id(inc) if inc is not None else None
    units: list[tuple[Team, Position | None, datetime | None]] = []
    for i, comp in enumerate(_components(doc, "emergencyResourceComponent")):
        units.append(
            _unit(comp, locs, ext_units, f"emergencyResourceComponent[{i}]", site, incident_id)
        )

    if inc is not None:
        persons, person_codes = _persons(doc, site)
        out.call = call = _incident(doc, inc, ext, locs, loc_codes, agencies, units, site)
        if person_codes and not isinstance((ext.get("call") or {}).get("codes"), list):
            call = replace(call, codes=(*call.codes, *person_codes))
            out.call = call
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
            refs = d.get("emergencyResourceReference") or []
            if not isinstance(refs, list):
                raise EidoError(f"{where}.emergencyResourceReference: expected references")
            for r in refs:
                ref = _ref_of(r)
                if ref is None:
                    raise EidoError(f"{where}.emergencyResourceReference: expected references")
                tid = _strip_suffix(ref)
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
            author = _ref_of(n.get("updatedByAgentReference")) or _ref_of(n.get("agentReference"))
            if isinstance(n.get("agentReference"), dict) and EXTENSION_KEY not in doc:
                author = _ref_of(n.get("agentReference")) or author  # EidoLib: the author
            ev(NoteAdded, f"note:{nid}", at, note=Note(call.id, text, str(author or ""), at))
        out.persons = persons
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
    for report in _destination_figures(doc, ext, locs):
        ev(
            DestinationStatusReported,
            f"dest:{report.destination_id}:{iso(report.at)}:{record_hash(report)}",
            report.at,
            report=report,
        )
    # A document with neither an incident nor units (NENA's call-transfer sample: a call, its
    # agencies and persons) says nothing the console tracks: read, no events, not an error.
    return out


def _destination_figures(
    doc: Json, ext: Mapping[str, Any], locs: Mapping[str, Json]
) -> list[CapacityReport]:
    """Capacity figures dispatch gives for the places its units and persons are going: a
    unit's ``unitDestinationReference`` (or a unit's or person's ``destinationReference``)
    names a location whose ``locationDescriptionText`` is the destination, and the console's
    extension ``destinations.<location id>`` carries ``available``, ``accepting`` and ``at``.
    The console keeps a figure only for a destination its site knows by that id or name."""
    figures = ext.get("destinations") or {}
    if not isinstance(figures, dict):
        raise EidoError(f"{EXTENSION_KEY}.destinations: expected an object")
    if not figures:
        return []
    refs: list[str] = []
    for comp in [
        *_components(doc, "emergencyResourceComponent"),
        *_components(doc, "personComponent"),
    ]:
        for key in ("unitDestinationReference", "destinationReference"):
            r = _ref_of(comp.get(key))
            if r is not None and r not in refs:
                refs.append(r)
    out = []
    for r in refs:
        fig, loc = figures.get(r), locs.get(r)
        if fig is None or loc is None:
            continue
        where = f"{EXTENSION_KEY}.destinations.{r}"
        if not isinstance(fig, dict):
            raise EidoError(f"{where}: expected an object")
        name = loc.get("locationDescriptionText")
        if not isinstance(name, str) or not name.strip():
            raise EidoError(f"{where}: the location names no destination (locationDescriptionText)")
        at = _opt_time(fig, "at", where) or _prologue_of(loc, where)[1]
        available = fig.get("available")
        if available is not None and (
            isinstance(available, bool) or not isinstance(available, int) or available < 0
        ):
            raise EidoError(f"{where}.available: expected a whole number >= 0, got {available!r}")
        accepting = fig.get("accepting", True)
        if not isinstance(accepting, bool):
            raise EidoError(f"{where}.accepting: expected true or false, got {accepting!r}")
        out.append(CapacityReport(name.strip(), at, available, accepting, Source.DISPATCH))
    return out


def _incident_id(inc: Json) -> str:
    comp_id = _get(inc, "$id", str, "incidentComponent")
    call_id = inc.get("internalIncidentId") or _strip_suffix(comp_id)
    if not isinstance(call_id, str) or not call_id:
        raise EidoError("incidentComponent.internalIncidentId: expected a string")
    return call_id


def _incident(
    doc: Json,
    inc: Json,
    ext: Json,
    locs: Mapping[str, Json],
    loc_codes: Mapping[str, str],
    agencies: list[Json],
    units: list[tuple[Team, Position | None, datetime | None]],
    site: reg.SiteCodes,
) -> Call:
    where = "incidentComponent"
    _, updated = _prologue_of(inc, where)
    call_id = _incident_id(inc)
    codes: list[tuple[str, str]] = []
    common_type = _opt(inc, "incidentTypeCommonRegistryText", str, where) or ""
    internal_code = _opt(inc, "incidentTypeInternalCode", str, where)
    ctype, implied, _known = reg.call_type_of(common_type, internal_code, site)
    source_type = common_type
    if ctype is CallType.UNRECOGNISED:
        given = inc.get("incidentTypeInternalText")
        if internal_code == CallType.UNRECOGNISED.value and isinstance(given, str) and given:
            source_type = given  # the console's own writing: dispatch's code in the text
        else:
            source_type = common_type or internal_code or ""
    internal_status = _str_list(inc, "incidentStatusInternalText", where)
    if internal_status[:1] == [CallStatus.UNKNOWN.value]:
        status = CallStatus.UNKNOWN
        status_code = internal_status[1] if len(internal_status) > 1 else ""
    else:
        status, status_code = reg.call_status_of(
            _str_list(inc, "incidentStatusCommonRegistryText", where), internal_status, site
        )
    priority, priority_given = reg.priority_of(
        inc.get("incidentCommonPriorityNumber"), site.default_priority
    )
    flags: set[SafetyFlag] = set(implied)
    for i, c in enumerate(_components(doc, "cautionComponent")):
        w = f"cautionComponent[{i}]"
        common = _opt(c, "cautionTypeCommonRegistryText", str, w) or ""
        internal = _opt(c, "cautionTypeInternalText", str, w) or ""
        try:
            flags.add(reg.safety_flag_from_caution(common, internal))
        except reg.UnknownCode:
            mapped = site.get("caution", internal) or site.get("caution", common)
            if mapped is not None:
                flags.add(SafetyFlag(mapped))
            else:
                codes.append(("caution", common or internal))
    lat = lon = None
    address = neighborhood = ""
    refs = [r for r in (_ref_of(x) for x in inc.get("locationReference") or []) if r]
    if not refs and len(locs) == 1:
        refs = list(locs)
    for r in refs:
        loc = locs.get(r)
        if loc is None:
            raise EidoError(f"{where}.locationReference: {r!r} is not in locationComponent")
        g = _location(loc, "incident location")
        lat, lon = g.lat, g.lon
        address = str(loc.get("locationDescriptionText") or "") or g.civic
        ids = loc.get("localIdentifier") or []
        neighborhood = str(ids[0]) if ids else ""
        if r in loc_codes:
            codes.append(("location_type", loc_codes[r]))
        break
    disposition = None
    for i, d in enumerate(_components(inc, "dispositionComponent")):
        w = f"{where}.dispositionComponent[{i}]"
        code = _opt(d, "dispositionCommonRegistryCode", str, w) or ""
        category = _opt(d, "dispositionCategoryText", str, w)
        try:
            disposition = reg.disposition_from_eido(code, category)
        except reg.UnknownCode:
            disposition = category or f"code-{code}"
            codes.append(("disposition", code))
    escalated_to = None
    for a in agencies:
        roles = a.get("agencyRoleDescriptionRegistryText") or []
        if isinstance(roles, list) and "TransferredTo" in roles:
            try:
                escalated_to = reg.escalation_from_agency(str(a.get("$id")))
            except reg.UnknownCode:
                codes.append(("transferred_to", str(a.get("$id"))))
        for role in roles if isinstance(roles, list) else ():
            if isinstance(role, str) and role not in AGENCY_ROLES:
                codes.append(("agency_role", role))
    xc = ext.get("call") or {}
    if not isinstance(xc, dict):
        raise EidoError(f"{EXTENSION_KEY}.call: expected an object")
    if isinstance(xc.get("codes"), list):
        codes = [(str(p[0]), str(p[1])) for p in xc["codes"] if isinstance(p, list) and len(p) == 2]
    received = _opt_time(xc, "receivedAt", "extension")
    if received is None:
        calls = _components(doc, "callComponent")
        start = calls[0].get("callStartTimestamp") if calls else None
        received = _time(start, "callStartTimestamp") if start else updated
    times = _standard_times(doc, status, updated, units, call_id)
    dispatched = _opt_time(xc, "dispatchedAt", "extension") or times[0]
    teams_ext = xc.get("teams")
    teams = (
        tuple(str(t) for t in teams_ext)
        if isinstance(teams_ext, list)
        else tuple(t.id for t, _, _ in units if t.call == call_id)
    )
    team = xc.get("team") if "team" in xc else (teams[-1] if teams else None)
    if not xc:
        # No extension: every unit the document dispatches or lists worked this incident (a
        # unit names no incident of its own); the team is the last one still working it.
        teams = tuple(dict.fromkeys([*_dispatched_teams(doc), *(t.id for t, _, _ in units)]))
        working = [t.id for t, _, _ in units if t.call == call_id]
        team = working[-1] if working else None
    version = xc.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EidoError(
            f"{EXTENSION_KEY}.call.version: expected a positive integer, got {version!r}"
        )
    if not xc and received > updated:
        received = updated
    return Call(
        id=call_id,
        status=status,
        priority=priority,
        type=ctype,
        received_at=received,
        updated_at=updated,
        dispatched_at=dispatched,
        enroute_at=_opt_time(xc, "enrouteAt", "extension") if xc else times[1],
        onscene_at=_opt_time(xc, "onsceneAt", "extension") if xc else times[2],
        cleared_at=_opt_time(xc, "clearedAt", "extension") if xc else times[3],
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
        source_type=source_type,
        version=version,
        status_code=status_code,
        priority_given=priority_given,
        codes=tuple(dict.fromkeys(codes)),
        stages_partial=not xc,
    )


AGENCY_ROLES = frozenset(
    [
        "CallReceiving",
        "CallTransferring",
        "Dispatching",
        "Dispatched",
        "IncidentCommand",
        "TransferredTo",
        "Assisting",
        "Notified",
        "Responding",
        "Other",
    ]
)


def _dispatched_teams(doc: Json) -> tuple[str, ...]:
    out: list[str] = []
    for d in _components(doc, "dispatchComponent"):
        for r in d.get("emergencyResourceReference") or ():
            ref = _ref_of(r)
            if ref and _strip_suffix(ref) not in out:
                out.append(_strip_suffix(ref))
    return tuple(out)


_STAGE = {
    TeamStatus.EN_ROUTE: 1,
    TeamStatus.ON_SCENE: 2,
    TeamStatus.TRANSPORTING: 2,
    TeamStatus.AT_DESTINATION: 2,
}


def _standard_times(
    doc: Json,
    status: CallStatus,
    updated: datetime,
    units: list[tuple[Team, Position | None, datetime | None]],
    call_id: str,
) -> tuple[datetime | None, ...]:
    """(dispatched, en route, on scene, cleared) from standard fields alone.

    Dispatched: the earliest dispatchComponent time. En route / on scene: the time of the document
    in which a unit working this incident (or the incident status) first says so; a CAD that
    re-sends the full state keeps the earlier time only in its own fields, so a later document
    gives the later stages. Cleared: the incident time once it is Closed.
    """
    ds = [
        _time(d.get("lastUpdateTimeStamp"), "dispatch time")
        for d in _components(doc, "dispatchComponent")
    ]
    dispatched = min(ds) if ds else None
    enroute = onscene = None
    for team, _, _ in units:
        stage = _STAGE.get(team.status)
        if team.call != call_id or stage is None:
            continue
        if stage == 1:
            enroute = min(enroute or team.updated_at, team.updated_at)
        else:
            onscene = min(onscene or team.updated_at, team.updated_at)
    if status is CallStatus.EN_ROUTE and enroute is None:
        enroute = updated
    if status in (CallStatus.ON_SCENE, CallStatus.TRANSPORTING) and onscene is None:
        onscene = updated
    cleared = updated if status in (CallStatus.CLEARED, CallStatus.CANCELLED) else None
    return dispatched, enroute, onscene, cleared


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
