"""De-identification of a shift for training.

Behavioral-health calls are sensitive (HIPAA, 42 CFR Part 2): a trainer's copy of a shift keeps
what a supervisor decided on -- call types, priorities, timings, safety flags, teams, where in
the city -- and nothing that points at a person:

- names (callers, subjects, operators, note authors) become stable pseudonyms ("Person 3",
  "Operator 1") assigned in order of appearance, never derived from the name itself;
- phone numbers, dates of birth and any other personal field are dropped; an age becomes a
  ten-year band (90 and over merged);
- free text (notes, summaries, reasons, answers, alert wording, destinations) is withheld;
- record identifiers that lead back to dispatch's record -- call (incident) numbers, event and
  alert ids, which may embed them or exact coordinates -- become sequential pseudonyms;
- an exact address becomes its neighborhood (or its hundred block when no neighborhood is
  known); a point is moved to a random spot of its ~300 m block cell, the same spot for every
  event of a call. The spot comes from a keyed hash whose key is drawn per export and never
  stored, so it cannot be undone from the file.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import replace
from typing import Any

from console.domain.commands import AddNote, Command
from console.domain.events import (
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
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import Call, Disposition, Position, Team

WITHHELD = "(withheld)"
NOTE_WITHHELD = "(note withheld)"

CELL_LAT = 0.0027
"""Block cell height in degrees (~300 m)."""
CELL_LON = 0.0036
"""Block cell width in degrees (~300 m at Hartford's latitude)."""

_HOUSE_NUMBER = re.compile(r"^\s*(\d+)[A-Za-z]?(?:-\d+)?\s+(.+?)\s*$")
_UNIT = re.compile(r"\s*(?:,|#|\b(?:apt|unit|suite|ste|fl|floor|rm|room)\b\.?).*$", re.IGNORECASE)
_DISPOSITIONS = frozenset(d.value for d in Disposition)
_CALL_ALERTS = frozenset({AlertKind.PENDING_OVERDUE, AlertKind.NO_ELIGIBLE_TEAM})
"""Alert kinds whose subject is a call (the others name a team or the link)."""


def generalize_address(address: str, neighborhood: str = "") -> str:
    """An exact address as its neighborhood, else its hundred block ("100 block of Main St")."""
    if not address.strip():
        return ""
    if neighborhood.strip():
        return neighborhood.strip()
    m = _HOUSE_NUMBER.match(address)
    if m is None:
        return WITHHELD
    street = _UNIT.sub("", m.group(2)).strip()
    if not street or any(ch.isdigit() for ch in street):
        return WITHHELD
    block = int(m.group(1)) // 100 * 100
    return f"{block} block of {street}"


def age_band(age: Any) -> str:
    try:
        years = int(str(age).strip())
    except (TypeError, ValueError):
        return ""
    if years < 0:
        return ""
    if years >= 90:
        return "90+"
    lo = years // 10 * 10
    return f"{lo}-{lo + 9}"


class Deidentifier:
    """One export's pseudonyms and jitter key: stable within the file, unlinkable across files."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._people: dict[str, str] = {}
        self._operators: dict[str, str] = {}
        self._calls: dict[str, str] = {}
        self._sources: dict[str, str] = {}
        self._alerts: dict[str, str] = {}

    # -- pieces ------------------------------------------------------------------------------

    def _unit(self, *parts: str) -> tuple[float, float]:
        msg = "\x1f".join(parts).encode()
        d = hmac.new(self._key, msg, hashlib.sha256).digest()
        a = int.from_bytes(d[:8], "big") / 2**64
        b = int.from_bytes(d[8:16], "big") / 2**64
        # Keep off the cell's edges so a point never lands exactly on a neighbor's border.
        return 0.1 + 0.8 * a, 0.1 + 0.8 * b

    def jitter(self, lat: float, lon: float, *key: str) -> tuple[float, float]:
        """The point moved to a keyed-random spot of its block cell."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return lat, lon
        ci, cj = math.floor(lat / CELL_LAT), math.floor(lon / CELL_LON)
        u, v = self._unit(*key, str(ci), str(cj))
        return round((ci + u) * CELL_LAT, 6), round((cj + v) * CELL_LON, 6)

    def person(self, name: str) -> str:
        key = " ".join(name.split()).casefold()
        if not key:
            return ""
        if key not in self._people:
            self._people[key] = f"Person {len(self._people) + 1}"
        return self._people[key]

    def operator(self, name: str) -> str:
        key = " ".join(name.split()).casefold()
        if not key:
            return ""
        if key not in self._operators:
            self._operators[key] = f"Operator {len(self._operators) + 1}"
        return self._operators[key]

    def call_id(self, cid: str) -> str:
        """A call (incident) number as a pseudonym, the same for every record of the call."""
        if cid not in self._calls:
            self._calls[cid] = f"CALL-{len(self._calls) + 1:05d}"
        return self._calls[cid]

    def source_id(self, sid: str) -> str:
        """Dispatch's fact id (it may embed a call number or exact coordinates) as an opaque,
        still unique, one."""
        if sid not in self._sources:
            self._sources[sid] = f"f{len(self._sources) + 1:08d}"
        return self._sources[sid]

    def alert_id(self, aid: str) -> str:
        if aid not in self._alerts:
            kind = aid.split(":", 1)[0]
            self._alerts[aid] = f"{kind}:{len(self._alerts) + 1}"
        return self._alerts[aid]

    @staticmethod
    def text(s: str, placeholder: str = WITHHELD) -> str:
        return placeholder if s.strip() else ""

    # -- records -----------------------------------------------------------------------------

    def call(self, c: Call) -> Call:
        lat, lon = c.lat, c.lon
        if lat is not None and lon is not None:
            lat, lon = self.jitter(lat, lon, "call", c.id)
        disposition = c.disposition
        if disposition is not None and disposition not in _DISPOSITIONS:
            disposition = "other"
        return replace(
            c,
            id=self.call_id(c.id),
            lat=lat,
            lon=lon,
            address=generalize_address(c.address, c.neighborhood),
            summary="",
            destination=None if c.destination is None else self.text(c.destination) or None,
            disposition=disposition,
        )

    def team(self, t: Team) -> Team:
        return replace(
            t,
            call=None if t.call is None else self.call_id(t.call),
            name="",
            destination=None if t.destination is None else self.text(t.destination) or None,
        )

    def position(self, team_id: str, p: Position) -> Position:
        lat, lon = self.jitter(p.lat, p.lon, "team", team_id, p.at.isoformat())
        return Position(lat, lon, p.at)

    def command(self, c: Command) -> Command:
        kw: dict[str, Any] = {"reason": self.text(c.reason)}
        if c.call_id is not None:
            kw["call_id"] = self.call_id(c.call_id)
        if isinstance(c, AddNote):
            kw["text"] = NOTE_WITHHELD
        return replace(c, **kw)

    def alert(self, a: Alert) -> Alert:
        subject = a.subject
        if subject in self._calls or a.kind in _CALL_ALERTS:
            subject = self.call_id(subject)
        return replace(
            a,
            id=self.alert_id(a.id),
            subject=subject,
            message=f"{a.kind.value.replace('_', ' ')}: {subject}",
        )

    def persons(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A call's people as role, pseudonym and age band; nothing else survives."""
        out: list[dict[str, Any]] = []
        for p in rows:
            name = " ".join(
                str(p.get(k) or "") for k in ("given_name", "surname", "name") if p.get(k)
            )
            row: dict[str, Any] = {"role": str(p.get("role") or "")}
            pseudo = self.person(name)
            if pseudo:
                row["name"] = pseudo
            band = age_band(p.get("age"))
            if band:
                row["age_band"] = band
            out.append(row)
        return out

    def event(self, e: Event) -> Event:
        """The event with everything identifying removed or replaced."""
        e = replace(e, source_id=self.source_id(e.source_id))
        if isinstance(e, CallReceived | CallUpdated):
            return replace(e, call=self.call(e.call))
        if isinstance(e, TeamStatusChanged):
            return replace(e, team=self.team(e.team))
        if isinstance(e, TeamPositionReported):
            return replace(e, position=self.position(e.team_id, e.position))
        if isinstance(e, TeamAssigned):
            return replace(e, call_id=self.call_id(e.call_id))
        if isinstance(e, CallEscalated):
            return replace(e, call_id=self.call_id(e.call_id), reason=self.text(e.reason))
        if isinstance(e, CommandRequested):
            return replace(e, command=self.command(e.command), operator=self.operator(e.operator))
        if isinstance(e, CommandConfirmed):
            return replace(e, detail=self.text(e.detail))
        if isinstance(e, CommandRefused):
            return replace(e, reason=self.text(e.reason))
        if isinstance(e, AlertRaised):
            return replace(e, alert=self.alert(e.alert))
        if isinstance(e, AlertAcknowledged):
            return replace(
                e,
                alert_id=self.alert_id(e.alert_id),
                operator=self.operator(e.operator),
                note=self.text(e.note),
            )
        if isinstance(e, NoteAdded):
            n = e.note
            return replace(
                e, note=Note(self.call_id(n.call_id), NOTE_WITHHELD, self.operator(n.author), n.at)
            )
        if isinstance(e, DestinationStatusReported):
            # A place, not a person: the figure stays; who set it and their note do not.
            r = e.report
            return replace(
                e, report=replace(r, operator=self.operator(r.operator), note=self.text(r.note))
            )
        return e


def deidentify_events(events: list[Event], d: Deidentifier) -> list[Event]:
    return [d.event(e) for e in events]
