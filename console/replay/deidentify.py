"""De-identification of a shift for training: an allow-list, built record by record.

Behavioral-health calls are sensitive (HIPAA, 42 CFR Part 2). A trainer's copy of a shift keeps
what a supervisor decided on -- call types, priorities, safety flags, the order and spacing of
events, teams, roughly where in the city -- and nothing that points at a person. Every record of
the copy is *built anew* from the fields listed here; nothing is copied wholesale, so:

- an event kind not listed in :data:`ALLOWED` (a kind added after this module was written) is
  dropped, and counted in :attr:`Deidentifier.dropped`;
- a field not listed for its record (a field added to ``Call`` or ``Team`` later) is left out:
  the copy takes that field's default;
- free text (notes, summaries, addresses, destinations, reasons, answers, alert wording, vendor
  codes) is never copied: a placeholder stands where there was text.

What the kept fields become (docs/deidentification.md has the table against the 18 HIPAA Safe
Harbor identifiers):

- **times** move by a secret whole number of weeks, drawn per file and never written to it
  (between 52 and 520 weeks, earlier or later): the weekday and the UTC time of day stay, the
  intervals between events stay exact, the real date cannot be read back. All times are written
  in UTC (a local UTC offset would tell winter from summer).
- **locations**: one point per call (the first dispatch gave), generalised so that every point
  of the file is shared by at least ``k`` calls (default 5): the centre of a grid cell, the grid
  coarsened (300 m, 600 m, 1.2 km, 2.4 km, 4.8 km) until every occupied cell holds ``k`` calls;
  past the coarsest level, calls of a cell holding fewer are snapped to their neighborhood's
  centre (when at least ``k`` such calls share it) or to the city centre. A file with fewer than
  ``k`` located calls keeps no location. A team's position is its call's point while it serves
  one, else its cell's centre when that cell holds ``k`` calls, else the report is dropped.
- **neighborhood** names are kept only where the neighborhood holds at least ``k`` calls of the
  file, and at least ``k`` of them share the call's generalised point.
- **language** becomes a code from ISO 639-1 (``"es"``), anything else ``"other"``.
- **people**: a call's persons become a role from NENA's registry, an age band (90 and over
  merged) and a number drawn at random for that call: the same person in two calls gets two
  unrelated numbers. Names, phones, dates of birth and any other field are dropped.
- **identifiers** that lead back to dispatch's records (call numbers, fact ids, command and
  alert ids) become sequential pseudonyms; operators and note authors become "Operator N" (staff,
  stable within the file, unlinkable across files).
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.commands import (
    AcknowledgeAlert,
    AddNote,
    AssignTeam,
    ChangePriority,
    Command,
    EscalateCall,
    ReassignCall,
    RequestCheckin,
    SetTeamService,
)
from console.domain.destinations import DestinationKind
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
    FollowUpAttempted,
    FollowUpClosed,
    FollowUpOpened,
    NaloxoneRecorded,
    Note,
    NoteAdded,
    OutcomeRecorded,
    Source,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
    UnservedReasonGiven,
)
from console.domain.model import Call, Capabilities, Disposition, Position, Team
from console.domain.program import FOLLOWUP_CHANNELS, FOLLOWUP_RESULTS, Outcome
from console.wire.registry import NENA_PERSON_ROLES

WITHHELD = "(withheld)"
NOTE_WITHHELD = "(note withheld)"

K_DEFAULT = 5
"""Fewest calls of the file that any kept location point (and neighborhood name) stands for."""

SHIFT_WEEKS = (52, 520)
"""The secret offset's size, in whole weeks (either direction)."""

CELL_LAT = 0.0027
"""Finest grid cell height in degrees (~300 m)."""
CELL_LON = 0.0036
"""Finest grid cell width in degrees (~300 m at Hartford's latitude)."""
MAX_LEVEL = 4
"""Coarsest grid: 2**4 finest cells a side (~4.8 km)."""

_DEST_KINDS = frozenset(k.value for k in DestinationKind)
_FOLLOWUP_CAUSES = frozenset(
    {
        *(d.value for d in Disposition),
        *(o.value for o in Outcome),
        "outside_hours",
        "unserved",
        "manual",
    }
)
"""The words a follow-up's cause may be (anything else is shown as ``other``)."""

ALLOWED: dict[str, tuple[str, ...]] = {
    "call_received": ("call",),
    "call_updated": ("call",),
    "team_status": ("team",),
    "team_position": ("team_id", "position"),
    "assignment": ("call_id", "team_id"),
    "escalation": ("call_id", "target"),
    "command_requested": ("command_id", "command", "operator"),
    "command_confirmed": ("command_id",),
    "command_refused": ("command_id",),
    "alert_raised": ("alert",),
    "alert_acknowledged": ("alert_id", "operator"),
    "note": ("note",),
    "destination_status": ("report",),
    "outcome": ("call_id", "outcome", "destination_kind", "operator"),
    "unserved_reason": ("call_id", "reason", "operator", "inferred"),
    "naloxone": ("call_id", "doses", "given_at", "operator"),
    "followup_opened": ("followup_id", "call_id", "owner", "due_at", "cause", "operator"),
    "followup_attempt": ("followup_id", "channel", "result", "operator"),
    "followup_closed": ("followup_id", "end", "operator"),
}
"""Event kinds a de-identified file may hold, and the fields each keeps (besides the event's
own source, fact id and times). Any other kind is dropped."""

CALL_FIELDS = (
    "id",
    "status",
    "priority",
    "type",
    "received_at",
    "updated_at",
    "dispatched_at",
    "enroute_at",
    "onscene_at",
    "cleared_at",
    "team",
    "teams",
    "safety_flags",
    "lat",
    "lon",
    "neighborhood",
    "disposition",
    "escalated_to",
    "juvenile",
    "language",
    "transport_needed",
    "transport_seats",
    "priority_given",
    "stages_partial",
    "version",
)
"""The call fields kept (transformed as the module says); ``address``, ``summary``,
``destination``, ``source_type``, ``status_code``, ``codes`` and any later field are not."""

TEAM_FIELDS = (
    "id",
    "status",
    "updated_at",
    "provider",
    "status_since",
    "call",
    "capabilities",
    "last_checkin",
)
"""The team fields kept; ``name``, ``destination``, ``status_code``, ``codes`` are not."""

_ISO_639_1_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia
id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo
lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl
ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk
tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
"""The ISO 639-1 two-letter language codes (184)."""

_LANGUAGE_NAMES = {
    "english": "en",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "portuguese": "pt",
    "polish": "pl",
    "french": "fr",
    "haitian creole": "ht",
    "haitian": "ht",
    "italian": "it",
    "arabic": "ar",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "zh",
    "vietnamese": "vi",
    "russian": "ru",
    "ukrainian": "uk",
    "bosnian": "bs",
    "albanian": "sq",
    "somali": "so",
    "swahili": "sw",
    "nepali": "ne",
    "urdu": "ur",
    "hindi": "hi",
    "bengali": "bn",
    "korean": "ko",
    "japanese": "ja",
    "tagalog": "tl",
    "german": "de",
    "greek": "el",
    "turkish": "tr",
    "persian": "fa",
    "farsi": "fa",
    "pashto": "ps",
    "burmese": "my",
    "tigrinya": "ti",
    "amharic": "am",
}
"""English names a CAD may send instead of a code."""

_LANGUAGE_TAG = re.compile(r"([a-z]{2})(?:[-_][a-z0-9]{1,8})*")
_DISPOSITIONS = frozenset(d.value for d in Disposition)
_CALL_ALERTS = frozenset({AlertKind.PENDING_OVERDUE, AlertKind.NO_ELIGIBLE_TEAM})
_TEAM_ALERTS = frozenset(
    {AlertKind.BACKUP_REQUEST, AlertKind.CHECKIN_OVERDUE, AlertKind.POSITION_STALE}
)
_URGENCIES = frozenset({"immediate", "normal"})
_SOURCES = frozenset({Source.DISPATCH, Source.CONSOLE})


def language_code(value: Any) -> str | None:
    """A language as an ISO 639-1 code: a code (``"es"``), a tag (``"es-US"``) or an English
    name (``"Spanish"``) is read; anything else is ``"other"``; nothing stays nothing."""
    if value is None:
        return None
    s = " ".join(str(value).split()).casefold()
    if not s:
        return None
    m = _LANGUAGE_TAG.fullmatch(s)
    if m is not None and m.group(1) in ISO_639_1:
        return m.group(1)
    return _LANGUAGE_NAMES.get(s, "other")


def age_band(age: Any) -> str:
    """An age as a ten-year band; 90 and over as one band (Safe Harbor)."""
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


def secret_week_offset(rng: random.Random | None = None) -> timedelta:
    """A whole number of weeks, earlier or later, drawn from the system's secure source."""
    lo, hi = SHIFT_WEEKS
    if rng is None:
        weeks = lo + secrets.randbelow(hi - lo + 1)
        sign = 1 if secrets.randbelow(2) else -1
    else:
        weeks = rng.randint(lo, hi)
        sign = rng.choice((1, -1))
    return timedelta(weeks=sign * weeks)


# -- locations ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Point:
    lat: float
    lon: float
    neighborhood: str


def _cell(lat: float, lon: float, level: int) -> tuple[int, int]:
    size = 2**level
    return math.floor(lat / (CELL_LAT * size)), math.floor(lon / (CELL_LON * size))


def _centre(cell: tuple[int, int], level: int) -> tuple[float, float]:
    size = 2**level
    return (
        round((cell[0] + 0.5) * CELL_LAT * size, 6),
        round((cell[1] + 0.5) * CELL_LON * size, 6),
    )


class LocationPlan:
    """Where each call of one file is shown: every point shared by at least ``k`` calls."""

    def __init__(
        self,
        points: dict[str, _Point],
        k: int = K_DEFAULT,
        city_centre: tuple[float, float] | None = None,
    ) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self.level = MAX_LEVEL
        self._at: dict[str, tuple[float, float]] = {}
        self._cells: Counter[tuple[int, int]] = Counter()
        self._names: dict[str, str] = {}
        if len(points) < k:
            return  # too few calls to hide any of them among k: no location at all
        for level in range(MAX_LEVEL + 1):
            cells = Counter(_cell(p.lat, p.lon, level) for p in points.values())
            if min(cells.values()) >= k:
                self.level = level
                break
        cells = Counter(_cell(p.lat, p.lon, self.level) for p in points.values())
        groups: dict[Any, list[str]] = {}
        centres: dict[Any, tuple[float, float]] = {}
        residue: list[str] = []
        for cid, p in points.items():
            c = _cell(p.lat, p.lon, self.level)
            if cells[c] >= k:
                groups.setdefault(("cell", c), []).append(cid)
                centres[("cell", c)] = _centre(c, self.level)
            else:
                residue.append(cid)
        by_name: dict[str, list[str]] = {}
        for cid in residue:
            by_name.setdefault(points[cid].neighborhood, []).append(cid)
        city: list[str] = []
        for name, cids in by_name.items():
            if name and len(cids) >= k:
                spots = [
                    _centre(_cell(points[c].lat, points[c].lon, MAX_LEVEL), MAX_LEVEL) for c in cids
                ]
                groups[("nbhd", name)] = cids
                centres[("nbhd", name)] = (
                    round(sum(s[0] for s in spots) / len(spots), 4),
                    round(sum(s[1] for s in spots) / len(spots), 4),
                )
            else:
                city.extend(cids)
        # The city-centre group must hold k calls too: fold the smallest groups into it.
        while city and len(city) < k:
            smallest = min(groups, key=lambda g: (len(groups[g]), str(g)))
            city.extend(groups.pop(smallest))
            centres.pop(smallest)
        if city:
            if city_centre is None:
                spots = [
                    _centre(_cell(p.lat, p.lon, MAX_LEVEL), MAX_LEVEL) for p in points.values()
                ]
                city_centre = (
                    sum(s[0] for s in spots) / len(spots),
                    sum(s[1] for s in spots) / len(spots),
                )
            groups[("city",)] = city
            centres[("city",)] = (round(city_centre[0], 4), round(city_centre[1], 4))
        for g, cids in groups.items():
            for cid in cids:
                self._at[cid] = centres[g]
        self._cells = Counter(
            _cell(points[cid].lat, points[cid].lon, self.level)
            for g, cids in groups.items()
            if g[0] == "cell"
            for cid in cids
        )
        # A neighborhood name is shown where it stands for k calls, k of them at the point.
        totals = Counter(p.neighborhood for p in points.values() if p.neighborhood)
        pairs = Counter((self._at[c], p.neighborhood) for c, p in points.items() if p.neighborhood)
        for cid, p in points.items():
            n = p.neighborhood
            if n and totals[n] >= k and pairs[(self._at[cid], n)] >= k:
                self._names[cid] = n

    def call_point(self, call_id: str) -> tuple[float, float] | None:
        return self._at.get(call_id)

    def neighborhood(self, call_id: str) -> str:
        return self._names.get(call_id, "")

    def free_point(self, lat: float, lon: float) -> tuple[float, float] | None:
        """A point not tied to a call (a team between calls): its cell's centre when that cell
        holds ``k`` calls of the file, else None (not shown)."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        c = _cell(lat, lon, self.level)
        if self._cells[c] >= self.k:
            return _centre(c, self.level)
        return None


# -- the de-identifier -------------------------------------------------------------------------


class Deidentifier:
    """One export's offset, pseudonyms and location plan: stable within the file, unlinkable
    across files. Call :meth:`prepare` with every event of the file before :meth:`event`."""

    def __init__(
        self,
        *,
        k: int = K_DEFAULT,
        offset: timedelta | None = None,
        city_centre: tuple[float, float] | None = None,
    ) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self._offset = offset if offset is not None else secret_week_offset()
        if self._offset % timedelta(weeks=1):
            raise ValueError("the date offset must be a whole number of weeks")
        self._city_centre = city_centre
        self._plan = LocationPlan({}, k)
        self._calls: dict[str, str] = {}
        self._sources: dict[str, str] = {}
        self._commands: dict[str, str] = {}
        self._alerts: dict[str, str] = {}
        self._operators: dict[str, str] = {}
        self._teams: set[str] = set()
        self._followups: dict[str, str] = {}
        self._providers: set[str] = set()
        self._serving: dict[str, str] = {}
        self._dropped_commands: set[str] = set()
        self._person_numbers: set[int] = set()
        """Drawn at random, each once in the file: no two people share one."""
        self.dropped: Counter[str] = Counter()
        """Records left out because their kind is not on the allow-list, by kind."""

    # -- the whole file first ------------------------------------------------------------------

    def prepare(self, events: Iterable[Event]) -> None:
        """Plan the file: call pseudonyms in order of appearance, one location per call."""
        points: dict[str, _Point] = {}
        for e in events:
            if type(e) in (CallReceived, CallUpdated) and isinstance(e, CallReceived | CallUpdated):
                c = e.call
                self.call_id(c.id)
                if (
                    c.id not in points
                    and c.lat is not None
                    and c.lon is not None
                    and math.isfinite(c.lat)
                    and math.isfinite(c.lon)
                ):
                    points[c.id] = _Point(c.lat, c.lon, " ".join(c.neighborhood.split()))
            elif type(e) is TeamStatusChanged and isinstance(e, TeamStatusChanged):
                self._teams.add(e.team.id)
                if e.team.provider:
                    self._providers.add(e.team.provider)
        self._plan = LocationPlan(points, self.k, self._city_centre)

    @property
    def plan(self) -> LocationPlan:
        return self._plan

    # -- pieces ------------------------------------------------------------------------------

    def time(self, d: datetime) -> datetime:
        return d.astimezone(UTC) + self._offset

    def opt_time(self, d: datetime | None) -> datetime | None:
        return None if d is None else self.time(d)

    def call_id(self, cid: str) -> str:
        """A call (incident) number as a pseudonym, the same for every record of the call."""
        if cid not in self._calls:
            self._calls[cid] = f"CALL-{len(self._calls) + 1:05d}"
        return self._calls[cid]

    def known_call(self, cid: str) -> str | None:
        return self._calls.get(cid)

    def followup_id(self, fid: str) -> str:
        """A follow-up's name as a pseudonym (it is named after its call's CAD number)."""
        if fid not in self._followups:
            self._followups[fid] = f"FU-{len(self._followups) + 1:05d}"
        return self._followups[fid]

    def owner(self, name: str) -> str:
        """A follow-up's owner kept only when it is a provider agency of the file's teams or
        the site's word for the program; anything typed by hand could name a person."""
        return name if name in self._providers or name == "program" else "other"

    def source_id(self, sid: str) -> str:
        """Dispatch's fact id (it may embed a call number or exact coordinates) as an opaque,
        still unique, one."""
        if sid not in self._sources:
            self._sources[sid] = f"f{len(self._sources) + 1:08d}"
        return self._sources[sid]

    def command_id(self, cid: str) -> str:
        if cid not in self._commands:
            self._commands[cid] = f"cmd-{len(self._commands) + 1:06d}"
        return self._commands[cid]

    def alert_id(self, aid: str) -> str:
        if aid not in self._alerts:
            kind = aid.split(":", 1)[0]
            kind = kind if kind in {k.value for k in AlertKind} else "alert"
            self._alerts[aid] = f"{kind}:{len(self._alerts) + 1}"
        return self._alerts[aid]

    def operator(self, name: str) -> str:
        key = " ".join(name.split()).casefold()
        if not key:
            return ""
        if key not in self._operators:
            self._operators[key] = f"Operator {len(self._operators) + 1}"
        return self._operators[key]

    @staticmethod
    def text(s: str, placeholder: str = WITHHELD) -> str:
        """A placeholder where there was text; never the text."""
        return placeholder if s.strip() else ""

    # -- records -----------------------------------------------------------------------------

    def call(self, c: Call) -> Call:
        point = self._plan.call_point(c.id)
        name = self._plan.neighborhood(c.id)
        disposition = c.disposition
        if disposition is not None and disposition not in _DISPOSITIONS:
            disposition = "other"
        return Call(
            id=self.call_id(c.id),
            status=c.status,
            priority=c.priority,
            type=c.type,
            received_at=self.time(c.received_at),
            updated_at=self.time(c.updated_at),
            dispatched_at=self.opt_time(c.dispatched_at),
            enroute_at=self.opt_time(c.enroute_at),
            onscene_at=self.opt_time(c.onscene_at),
            cleared_at=self.opt_time(c.cleared_at),
            team=c.team,
            teams=tuple(c.teams),
            safety_flags=tuple(c.safety_flags),
            lat=None if point is None else point[0],
            lon=None if point is None else point[1],
            address=name,
            neighborhood=name,
            disposition=disposition,
            escalated_to=c.escalated_to,
            juvenile=c.juvenile,
            language=language_code(c.language),
            transport_needed=c.transport_needed,
            transport_seats=c.transport_seats,
            priority_given=c.priority_given,
            stages_partial=c.stages_partial,
            version=c.version,
        )

    def team(self, t: Team) -> Team:
        caps = t.capabilities
        langs = tuple(dict.fromkeys(language_code(x) or "other" for x in caps.languages))
        return Team(
            id=t.id,
            status=t.status,
            updated_at=self.time(t.updated_at),
            provider=t.provider,
            status_since=self.opt_time(t.status_since),
            call=None if t.call is None else self.call_id(t.call),
            capabilities=Capabilities(
                narcan=caps.narcan,
                vehicle_seats=caps.vehicle_seats,
                juvenile_certified=caps.juvenile_certified,
                languages=langs,
                clinician=caps.clinician,
                peer_specialist=caps.peer_specialist,
            ),
            last_checkin=self.opt_time(t.last_checkin),
        )

    def position(self, team_id: str, p: Position) -> Position | None:
        serving = self._serving.get(team_id)
        if serving is not None:
            point = self._plan.call_point(serving)
        else:
            point = self._plan.free_point(p.lat, p.lon)
        return None if point is None else Position(point[0], point[1], self.time(p.at))

    def command(self, c: Command) -> Command | None:
        """The command rebuilt from its allowed fields; an unknown kind is None."""
        call = None if c.call_id is None else self.call_id(c.call_id)
        reason = self.text(c.reason)
        ver = c.expected_version
        t = type(c)
        if t is AssignTeam or t is ReassignCall:
            return t(
                call_id=call or "", team_id=c.team_id or "", reason=reason, expected_version=ver
            )
        if t is EscalateCall:
            assert isinstance(c, EscalateCall)
            urgency = c.urgency if c.urgency in _URGENCIES else "normal"
            return EscalateCall(
                call_id=call or "", target=c.target, urgency=urgency, reason=reason,
                expected_version=ver,
            )  # fmt: skip
        if t is ChangePriority:
            assert isinstance(c, ChangePriority)
            return ChangePriority(
                call_id=call or "", priority=c.priority, reason=reason, expected_version=ver
            )
        if t is AddNote:
            return AddNote(call_id=call or "", text=NOTE_WITHHELD, expected_version=ver)
        if t is SetTeamService:
            assert isinstance(c, SetTeamService)
            return SetTeamService(
                call_id=call, team_id=c.team_id, in_service=c.in_service, reason=reason
            )
        if t is RequestCheckin:
            return RequestCheckin(call_id=call, team_id=c.team_id or "", reason=reason)
        if t is AcknowledgeAlert:
            assert isinstance(c, AcknowledgeAlert)
            return AcknowledgeAlert(call_id=call, alert_id=self.alert_id(c.alert_id), reason=reason)
        return None

    def alert(self, a: Alert) -> Alert:
        if a.kind in _CALL_ALERTS or a.subject in self._calls:
            subject = self.call_id(a.subject)
        elif a.kind in _TEAM_ALERTS and a.subject in self._teams:
            subject = a.subject
        else:
            subject = ""
        wording = a.kind.value.replace("_", " ")
        message = f"{wording}: {subject}" if subject else wording
        serving = self._serving.get(subject) if subject in self._teams else None
        if a.kind is AlertKind.BACKUP_REQUEST and subject and serving:
            # Built from the record, never the CAD's words: the team and the call it works.
            message = f"{subject} requests backup at {self.call_id(serving)}"
        return Alert(
            id=self.alert_id(a.id),
            kind=a.kind,
            severity=a.severity,
            subject=subject,
            message=message,
            raised_at=self.time(a.raised_at),
        )

    def persons(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """A call's people as role, age band and a number drawn for this call alone (never
        derived from who they are, never the same twice in the file)."""
        out: list[dict[str, Any]] = []
        for p in rows:
            role = str(p.get("role") or "")
            number = 0
            while number == 0 or number in self._person_numbers:
                number = 100_000 + secrets.randbelow(900_000)
            self._person_numbers.add(number)
            row: dict[str, Any] = {
                "role": role if role in NENA_PERSON_ROLES else "InvolvedPerson",
                "name": f"Person {number}",
            }
            band = age_band(p.get("age"))
            if band:
                row["age_band"] = band
            out.append(row)
        return out

    # -- events ------------------------------------------------------------------------------

    def event(self, e: Event) -> Event | None:
        """The event rebuilt from its allowed fields, or None when its kind is not allowed."""
        t = type(e)
        if e.kind not in ALLOWED or t.kind != e.kind:
            self.dropped[e.kind] += 1
            return None
        h: dict[str, Any] = {
            "source": e.source if e.source in _SOURCES else Source.DISPATCH,
            "source_id": self.source_id(e.source_id),
            "occurred_at": self.time(e.occurred_at),
            "recorded_at": self.time(e.recorded_at),
        }
        out = self._body(e, h)
        if out is None:
            self.dropped[e.kind] += 1
        return out

    def _body(self, e: Event, h: dict[str, Any]) -> Event | None:
        t = type(e)
        if t is CallReceived or t is CallUpdated:
            assert isinstance(e, CallReceived | CallUpdated)
            return t(**h, call=self.call(e.call))
        if t is TeamStatusChanged:
            assert isinstance(e, TeamStatusChanged)
            self._teams.add(e.team.id)
            if e.team.call is None:
                self._serving.pop(e.team.id, None)
            else:
                self._serving[e.team.id] = e.team.call
            return TeamStatusChanged(**h, team=self.team(e.team))
        if t is TeamPositionReported:
            assert isinstance(e, TeamPositionReported)
            pos = self.position(e.team_id, e.position)
            return (
                None if pos is None else TeamPositionReported(**h, team_id=e.team_id, position=pos)
            )
        if t is TeamAssigned:
            assert isinstance(e, TeamAssigned)
            self._serving[e.team_id] = e.call_id
            return TeamAssigned(**h, call_id=self.call_id(e.call_id), team_id=e.team_id)
        if t is CallEscalated:
            assert isinstance(e, CallEscalated)
            return CallEscalated(
                **h, call_id=self.call_id(e.call_id), target=e.target, reason=self.text(e.reason)
            )
        if t is CommandRequested:
            assert isinstance(e, CommandRequested)
            command = self.command(e.command)
            if command is None:
                self._dropped_commands.add(e.command_id)
                return None
            return CommandRequested(
                **h,
                command_id=self.command_id(e.command_id),
                command=command,
                operator=self.operator(e.operator),
            )
        if t is CommandConfirmed:
            assert isinstance(e, CommandConfirmed)
            if e.command_id in self._dropped_commands:
                return None
            return CommandConfirmed(
                **h, command_id=self.command_id(e.command_id), detail=self.text(e.detail)
            )
        if t is CommandRefused:
            assert isinstance(e, CommandRefused)
            if e.command_id in self._dropped_commands:
                return None
            return CommandRefused(
                **h, command_id=self.command_id(e.command_id), reason=self.text(e.reason)
            )
        if t is AlertRaised:
            assert isinstance(e, AlertRaised)
            return AlertRaised(**h, alert=self.alert(e.alert))
        if t is AlertAcknowledged:
            assert isinstance(e, AlertAcknowledged)
            return AlertAcknowledged(
                **h,
                alert_id=self.alert_id(e.alert_id),
                operator=self.operator(e.operator),
                note=self.text(e.note),
            )
        if t is NoteAdded:
            assert isinstance(e, NoteAdded)
            n = e.note
            return NoteAdded(
                **h,
                note=Note(
                    self.call_id(n.call_id), NOTE_WITHHELD, self.operator(n.author), self.time(n.at)
                ),
            )
        if t is OutcomeRecorded:
            assert isinstance(e, OutcomeRecorded)
            return OutcomeRecorded(
                **h,
                call_id=self.call_id(e.call_id),
                outcome=e.outcome,
                destination_kind=e.destination_kind if e.destination_kind in _DEST_KINDS else "",
                operator=self.operator(e.operator),
            )
        if t is UnservedReasonGiven:
            assert isinstance(e, UnservedReasonGiven)
            return UnservedReasonGiven(
                **h,
                call_id=self.call_id(e.call_id),
                reason=e.reason,
                operator=self.operator(e.operator),
                inferred=e.inferred,
            )
        if t is NaloxoneRecorded:
            assert isinstance(e, NaloxoneRecorded)
            return NaloxoneRecorded(
                **h,
                call_id=self.call_id(e.call_id),
                doses=e.doses,
                given_at=self.time(e.given_at),
                operator=self.operator(e.operator),
            )
        if t is FollowUpOpened:
            assert isinstance(e, FollowUpOpened)
            return FollowUpOpened(
                **h,
                followup_id=self.followup_id(e.followup_id),
                call_id=self.call_id(e.call_id),
                owner=self.owner(e.owner),
                due_at=self.time(e.due_at),
                cause=e.cause if e.cause in _FOLLOWUP_CAUSES else "other",
                operator=self.operator(e.operator),
            )
        if t is FollowUpAttempted:
            assert isinstance(e, FollowUpAttempted)
            return FollowUpAttempted(
                **h,
                followup_id=self.followup_id(e.followup_id),
                channel=e.channel if e.channel in FOLLOWUP_CHANNELS else "other",
                result=e.result if e.result in FOLLOWUP_RESULTS else "other",
                operator=self.operator(e.operator),
            )
        if t is FollowUpClosed:
            assert isinstance(e, FollowUpClosed)
            return FollowUpClosed(
                **h,
                followup_id=self.followup_id(e.followup_id),
                end=e.end,
                operator=self.operator(e.operator),
            )
        if t is DestinationStatusReported:
            assert isinstance(e, DestinationStatusReported)
            # A place, not a person: the figure stays; who set it and their note do not.
            r = e.report
            return DestinationStatusReported(
                **h,
                report=replace(
                    r,
                    at=self.time(r.at),
                    operator=self.operator(r.operator),
                    note=self.text(r.note),
                ),
            )
        return None


def deidentify_events(events: Sequence[Event], d: Deidentifier) -> list[Event]:
    """Every event of a file de-identified together (the plan sees them all first)."""
    d.prepare(events)
    return [x for x in (d.event(e) for e in events) if x is not None]
