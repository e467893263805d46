"""Events to and from plain JSON-able dicts: the stored and exported form of the log.

Explicit per type, so a renamed field is a visible change here and a stored log written by an
older version keeps loading (missing fields take their defaults).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from .commands import COMMAND_TYPES, Command
from .destinations import CapacityReport
from .events import (
    EVENT_TYPES,
    PROGRAM_EVENTS,
    Alert,
    AlertAcknowledged,
    AlertKind,
    AlertRaised,
    CallEscalated,
    CallReceived,
    CallUpdated,
    CommandConfirmed,
    CommandRefused,
    CommandRequested,
    DestinationStatusReported,
    Event,
    Note,
    NoteAdded,
    Severity,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
)
from .model import (
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
from .program import (
    CallOutcome,
    FollowUp,
    FollowUpAttempt,
    FollowUpEnd,
    NaloxoneDose,
    Outcome,
    UnservedReason,
    UnservedRecord,
)

Json = dict[str, Any]

TimeOut = Callable[[datetime], Any]
"""How a record's times are written: ISO 8601 text by default; the store passes a function
that may leave a time for its JSON encoder to write (the same text, written faster)."""


class CodecError(ValueError):
    """A stored or received record that cannot be read: names the field and the value."""


def ts(d: datetime | None) -> str | None:
    return None if d is None else d.isoformat()


def parse_ts(s: str | None, name: str = "time") -> datetime | None:
    if s is None or s == "":
        return None
    try:
        d = datetime.fromisoformat(s)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"{name}: {s!r} is not an ISO 8601 time") from exc
    if d.tzinfo is None:
        raise CodecError(f"{name}: {s!r} has no UTC offset")
    return d


def _req_ts(s: Any, name: str) -> datetime:
    d = parse_ts(s, name)
    if d is None:
        raise CodecError(f"{name} is missing")
    return d


def call_to_dict(c: Call, time: TimeOut = datetime.isoformat) -> Json:
    """Compact: fields at their default are left out (readers fill defaults back in).

    Written out field by field: this runs for every call update on the ingest hot path.
    ``time`` writes each time (see :data:`TimeOut`).
    """
    d: Json = {
        "id": c.id,
        "status": c.status.value,
        "priority": c.priority,
        "type": c.type.value,
        "received_at": time(c.received_at),
        "updated_at": time(c.updated_at),
        "version": c.version,
    }
    if c.dispatched_at is not None:
        d["dispatched_at"] = time(c.dispatched_at)
    if c.enroute_at is not None:
        d["enroute_at"] = time(c.enroute_at)
    if c.onscene_at is not None:
        d["onscene_at"] = time(c.onscene_at)
    if c.cleared_at is not None:
        d["cleared_at"] = time(c.cleared_at)
    if c.team is not None:
        d["team"] = c.team
    if c.teams:
        d["teams"] = list(c.teams)
    if c.safety_flags:
        d["safety_flags"] = [f.value for f in c.safety_flags]
    if c.lat is not None:
        d["lat"] = c.lat
        d["lon"] = c.lon
    if c.address:
        d["address"] = c.address
    if c.neighborhood:
        d["neighborhood"] = c.neighborhood
    if c.summary:
        d["summary"] = c.summary
    if c.source_type:
        d["source_type"] = c.source_type
    if c.disposition is not None:
        d["disposition"] = c.disposition
    if c.language is not None:
        d["language"] = c.language
    if c.destination is not None:
        d["destination"] = c.destination
    if c.escalated_to is not None:
        d["escalated_to"] = c.escalated_to.value
    if c.juvenile:
        d["juvenile"] = True
    if c.transport_needed:
        d["transport_needed"] = True
    if c.transport_seats != 1:
        d["transport_seats"] = c.transport_seats
    if c.status_code:
        d["status_code"] = c.status_code
    if not c.priority_given:
        d["priority_given"] = False
    if c.codes:
        d["codes"] = [list(p) for p in c.codes]
    if c.stages_partial:
        d["stages_partial"] = True
    return d


def _enum(cls: Any, value: Any, name: str) -> Any:
    try:
        return cls(value)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in cls)
        raise CodecError(f"{name}: unknown value {value!r} (allowed: {allowed})") from exc


def call_from_dict(d: Json) -> Call:
    esc = d.get("escalated_to")
    return Call(
        id=str(d["id"]),
        status=_enum(CallStatus, d["status"], "call status"),
        priority=int(d["priority"]),
        type=_enum(CallType, d["type"], "call type"),
        received_at=_req_ts(d["received_at"], "received_at"),
        updated_at=_req_ts(d["updated_at"], "updated_at"),
        dispatched_at=parse_ts(d.get("dispatched_at"), "dispatched_at"),
        enroute_at=parse_ts(d.get("enroute_at"), "enroute_at"),
        onscene_at=parse_ts(d.get("onscene_at"), "onscene_at"),
        cleared_at=parse_ts(d.get("cleared_at"), "cleared_at"),
        team=d.get("team"),
        teams=tuple(d.get("teams") or ()),
        safety_flags=tuple(
            _enum(SafetyFlag, f, "safety flag") for f in d.get("safety_flags") or ()
        ),
        lat=d.get("lat"),
        lon=d.get("lon"),
        address=d.get("address") or "",
        neighborhood=d.get("neighborhood") or "",
        disposition=d.get("disposition"),
        escalated_to=_enum(EscalationTarget, esc, "escalation target") if esc else None,
        juvenile=bool(d.get("juvenile", False)),
        language=d.get("language"),
        transport_needed=bool(d.get("transport_needed", False)),
        transport_seats=int(d.get("transport_seats", 1)),
        destination=d.get("destination"),
        summary=d.get("summary") or "",
        source_type=d.get("source_type") or "",
        version=int(d.get("version", 1)),
        status_code=d.get("status_code") or "",
        priority_given=bool(d.get("priority_given", True)),
        codes=_codes(d.get("codes")),
        stages_partial=bool(d.get("stages_partial", False)),
    )


def _codes(v: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(p[0]), str(p[1])) for p in v or ())


def caps_to_dict(c: Capabilities) -> Json:
    return {
        "narcan": c.narcan,
        "vehicle_seats": c.vehicle_seats,
        "juvenile_certified": c.juvenile_certified,
        "languages": list(c.languages),
        "clinician": c.clinician,
        "peer_specialist": c.peer_specialist,
    }


def caps_from_dict(d: Json) -> Capabilities:
    return Capabilities(
        narcan=bool(d.get("narcan", False)),
        vehicle_seats=int(d.get("vehicle_seats", 0)),
        juvenile_certified=bool(d.get("juvenile_certified", False)),
        languages=tuple(d.get("languages") or ("en",)),
        clinician=bool(d.get("clinician", True)),
        peer_specialist=bool(d.get("peer_specialist", False)),
    )


def team_to_dict(t: Team, time: TimeOut = datetime.isoformat) -> Json:
    """``time`` writes each time (see :data:`TimeOut`)."""
    upd, since, checkin = t.updated_at, t.status_since, t.last_checkin
    return {
        "id": t.id,
        "status": t.status.value,
        "updated_at": None if upd is None else time(upd),
        "provider": t.provider,
        "status_since": None if since is None else time(since),
        "call": t.call,
        "capabilities": caps_to_dict(t.capabilities),
        "last_checkin": None if checkin is None else time(checkin),
        "destination": t.destination,
        "name": t.name,
        **({"status_code": t.status_code} if t.status_code else {}),
        **({"codes": [list(p) for p in t.codes]} if t.codes else {}),
    }


def team_from_dict(d: Json) -> Team:
    return Team(
        id=str(d["id"]),
        status=_enum(TeamStatus, d["status"], "team status"),
        updated_at=_req_ts(d["updated_at"], "updated_at"),
        provider=d.get("provider") or "",
        status_since=parse_ts(d.get("status_since"), "status_since"),
        call=d.get("call"),
        capabilities=caps_from_dict(d.get("capabilities") or {}),
        last_checkin=parse_ts(d.get("last_checkin"), "last_checkin"),
        destination=d.get("destination"),
        name=d.get("name") or "",
        status_code=d.get("status_code") or "",
        codes=_codes(d.get("codes")),
    )


def capacity_to_dict(r: CapacityReport) -> Json:
    """A destination's capacity figure: its event's body, and its projection row's data."""
    return {
        "destination_id": r.destination_id,
        "at": ts(r.at),
        "available": r.available,
        "accepting": r.accepting,
        "source": r.source,
        "operator": r.operator,
        "note": r.note,
    }


def capacity_from_dict(d: Json, source: str = "") -> CapacityReport:
    """``source``: the event's, for a figure that does not name its own."""
    avail = d.get("available")
    return CapacityReport(
        str(d["destination_id"]),
        _req_ts(d["at"], "capacity at"),
        None if avail is None else int(avail),
        bool(d.get("accepting", True)),
        str(d.get("source") or source),
        str(d.get("operator") or ""),
        str(d.get("note") or ""),
    )


def command_to_dict(c: Command) -> Json:
    out: Json = {"kind": c.kind}
    for f in fields(c):
        v = getattr(c, f.name)
        if isinstance(v, StrEnum):
            v = v.value
        elif isinstance(v, datetime):
            v = v.isoformat()
        out[f.name] = v
    return out


def command_from_dict(d: Json) -> Command:
    kind = d.get("kind")
    cls = COMMAND_TYPES.get(str(kind))
    if cls is None:
        raise CodecError(
            f"command kind: unknown value {kind!r} (allowed: {', '.join(COMMAND_TYPES)})"
        )
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in d:
            v = d[f.name]
            if f.name == "target":
                v = _enum(EscalationTarget, v, "escalation target")
            elif f.name == "unserved":
                v = _enum(UnservedReason, v, "unserved reason")
            elif f.name in _COMMAND_FIELDS:
                v = _PROGRAM_FIELDS[f.name](v)
            kwargs[f.name] = v
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise CodecError(f"command {kind}: {exc}") from exc


def _alert_to_dict(a: Alert) -> Json:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "severity": a.severity.value,
        "subject": a.subject,
        "message": a.message,
        "raised_at": ts(a.raised_at),
    }


def _alert_from_dict(d: Json) -> Alert:
    return Alert(
        str(d["id"]),
        _enum(AlertKind, d["kind"], "alert kind"),
        _enum(Severity, d["severity"], "alert severity"),
        str(d["subject"]),
        str(d["message"]),
        _req_ts(d["raised_at"], "raised_at"),
    )


def event_body(e: Event) -> Json:
    """The kind-specific part of an event (what is stored as the payload)."""
    if isinstance(e, CallReceived | CallUpdated):
        return {"call": call_to_dict(e.call)}
    if isinstance(e, TeamStatusChanged):
        return {"team": team_to_dict(e.team)}
    if isinstance(e, TeamPositionReported):
        p = e.position
        return {"team_id": e.team_id, "lat": p.lat, "lon": p.lon, "at": ts(p.at)}
    if isinstance(e, TeamAssigned):
        return {"call_id": e.call_id, "team_id": e.team_id}
    if isinstance(e, CallEscalated):
        return {"call_id": e.call_id, "target": e.target.value, "reason": e.reason}
    if isinstance(e, CommandRequested):
        return {
            "command_id": e.command_id,
            "command": command_to_dict(e.command),
            "operator": e.operator,
        }
    if isinstance(e, CommandConfirmed):
        return {"command_id": e.command_id, "detail": e.detail}
    if isinstance(e, CommandRefused):
        return {"command_id": e.command_id, "reason": e.reason}
    if isinstance(e, AlertRaised):
        return {"alert": _alert_to_dict(e.alert)}
    if isinstance(e, AlertAcknowledged):
        return {"alert_id": e.alert_id, "operator": e.operator, "note": e.note}
    if isinstance(e, NoteAdded):
        n = e.note
        return {"call_id": n.call_id, "text": n.text, "author": n.author, "at": ts(n.at)}
    if type(e) in PROGRAM_EVENTS:
        return _program_body(e)
    if isinstance(e, DestinationStatusReported):
        return capacity_to_dict(e.report)
    raise CodecError(f"no codec for event type {type(e).__name__}")


_HEADER = frozenset({"source", "source_id", "occurred_at", "recorded_at"})

_PROGRAM_FIELDS: dict[str, Any] = {
    "outcome": lambda v: _enum(Outcome, v, "outcome"),
    "reason": lambda v: _enum(UnservedReason, v, "unserved reason"),
    "end": lambda v: _enum(FollowUpEnd, v, "follow-up end"),
    "due_at": lambda v: _req_ts(v, "due_at"),
    "given_at": lambda v: _req_ts(v, "given_at"),
    "doses": int,
    "inferred": bool,
}
"""How each field of the program's events is read (any other field is a string)."""

_COMMAND_FIELDS = frozenset({"outcome", "end", "due_at", "given_at", "doses"})
"""The program's typed fields in commands (a command's ``reason`` is always free text)."""


def _program_body(e: Event) -> Json:
    out: Json = {}
    for f in fields(e):
        if f.name in _HEADER:
            continue
        v = getattr(e, f.name)
        if isinstance(v, datetime):
            v = v.isoformat()
        elif isinstance(v, StrEnum):
            v = v.value
        out[f.name] = v
    return out


def _program_event(cls: type[Event], h: Json, b: Json) -> Event:
    kw: Json = {}
    for f in fields(cls):
        if f.name in _HEADER:
            continue
        if f.name not in b:
            continue  # a default applies, or the constructor names the missing field
        v = b[f.name]
        read = _PROGRAM_FIELDS.get(f.name)
        kw[f.name] = read(v) if read is not None else ("" if v is None else str(v))
    return cls(**h, **kw)


def event_to_dict(e: Event) -> Json:
    return {
        "kind": e.kind,
        "source": e.source,
        "source_id": e.source_id,
        "occurred_at": ts(e.occurred_at),
        "recorded_at": ts(e.recorded_at),
        **event_body(e),
    }


def event_from_parts(
    kind: str, source: str, source_id: str, occurred_at: datetime, recorded_at: datetime, b: Json
) -> Event:
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise CodecError(f"event kind: unknown value {kind!r}")
    h: Json = {
        "source": source,
        "source_id": source_id,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
    }
    try:
        if cls is CallReceived or cls is CallUpdated:
            return cls(**h, call=call_from_dict(b["call"]))
        if cls is TeamStatusChanged:
            return TeamStatusChanged(**h, team=team_from_dict(b["team"]))
        if cls is TeamPositionReported:
            pos = Position(float(b["lat"]), float(b["lon"]), _req_ts(b["at"], "position at"))
            return TeamPositionReported(**h, team_id=str(b["team_id"]), position=pos)
        if cls is TeamAssigned:
            return TeamAssigned(**h, call_id=str(b["call_id"]), team_id=str(b["team_id"]))
        if cls is CallEscalated:
            return CallEscalated(
                **h,
                call_id=str(b["call_id"]),
                target=_enum(EscalationTarget, b["target"], "escalation target"),
                reason=b.get("reason") or "",
            )
        if cls is CommandRequested:
            return CommandRequested(
                **h,
                command_id=str(b["command_id"]),
                command=command_from_dict(b["command"]),
                operator=str(b.get("operator") or ""),
            )
        if cls is CommandConfirmed:
            return CommandConfirmed(
                **h, command_id=str(b["command_id"]), detail=b.get("detail") or ""
            )
        if cls is CommandRefused:
            return CommandRefused(**h, command_id=str(b["command_id"]), reason=str(b["reason"]))
        if cls is AlertRaised:
            return AlertRaised(**h, alert=_alert_from_dict(b["alert"]))
        if cls is AlertAcknowledged:
            return AlertAcknowledged(
                **h,
                alert_id=str(b["alert_id"]),
                operator=str(b.get("operator") or ""),
                note=b.get("note") or "",
            )
        if cls is NoteAdded:
            note = Note(
                str(b["call_id"]),
                str(b["text"]),
                str(b.get("author") or ""),
                _req_ts(b["at"], "note at"),
            )
            return NoteAdded(**h, note=note)
        if cls in PROGRAM_EVENTS:
            return _program_event(cls, h, b)
        if cls is DestinationStatusReported:
            return DestinationStatusReported(**h, report=capacity_from_dict(b, source))
    except KeyError as exc:
        raise CodecError(f"{kind}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"{kind}: {exc}") from exc
    raise CodecError(f"event kind: unknown value {kind!r}")


def event_from_dict(d: Json) -> Event:
    try:
        return event_from_parts(
            str(d["kind"]),
            str(d["source"]),
            str(d["source_id"]),
            _req_ts(d["occurred_at"], "occurred_at"),
            _req_ts(d["recorded_at"], "recorded_at"),
            d,
        )
    except KeyError as exc:
        raise CodecError(f"event: missing field {exc.args[0]!r}") from exc


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, StrEnum):
        return v.value
    return v


def program_record_to_dict(rec: CallOutcome | UnservedRecord | NaloxoneDose | FollowUp) -> Json:
    """A program record as stored in its projection row."""
    out: Json = {f.name: _plain(getattr(rec, f.name)) for f in fields(rec)}
    if isinstance(rec, FollowUp):
        out["attempts"] = [
            {f.name: _plain(getattr(a, f.name)) for f in fields(a)} for a in rec.attempts
        ]
    return out


def program_record_from_dict(kind: str, d: Json) -> Any:
    """The record of one program kind (``outcome``, ``unserved``, ``naloxone``, ``followup``)."""
    try:
        if kind == "outcome":
            return CallOutcome(
                str(d["call_id"]),
                _enum(Outcome, d["outcome"], "outcome"),
                str(d.get("operator") or ""),
                _req_ts(d["at"], "at"),
                str(d.get("destination_kind") or ""),
            )
        if kind == "unserved":
            return UnservedRecord(
                str(d["call_id"]),
                _enum(UnservedReason, d["reason"], "unserved reason"),
                str(d.get("operator") or ""),
                _req_ts(d["at"], "at"),
                bool(d.get("inferred")),
            )
        if kind == "naloxone":
            return NaloxoneDose(
                str(d["call_id"]),
                int(d["doses"]),
                _req_ts(d["given_at"], "given_at"),
                str(d.get("operator") or ""),
            )
        if kind == "followup":
            end = d.get("end")
            return FollowUp(
                str(d["id"]),
                str(d.get("call_id") or ""),
                str(d.get("owner") or ""),
                parse_ts(d.get("due_at"), "due_at"),
                parse_ts(d.get("opened_at"), "opened_at"),
                str(d.get("cause") or ""),
                str(d.get("opened_by") or ""),
                tuple(
                    FollowUpAttempt(
                        _req_ts(a["at"], "attempt at"),
                        str(a.get("channel") or ""),
                        str(a.get("result") or ""),
                        str(a.get("operator") or ""),
                    )
                    for a in d.get("attempts") or ()
                ),
                None if end is None else _enum(FollowUpEnd, end, "follow-up end"),
                parse_ts(d.get("closed_at"), "closed_at"),
                str(d.get("closed_by") or ""),
            )
    except KeyError as exc:
        raise CodecError(f"{kind} record: missing field {exc.args[0]!r}") from exc
    raise CodecError(f"program record kind: unknown value {kind!r}")
