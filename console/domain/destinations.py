"""Destinations: where a team takes a person (shelter, sobering center, detox, crisis
stabilization unit, walk-in clinic, emergency department).

Pure and stdlib-only: the site's list (read from its destinations file), each one's weekly
schedule with holidays and overnight hours, its intake criteria, the latest capacity figure
(set by a supervisor or arriving from dispatch, stale after the site's limit), the transport
proposal (who can take this person now, ranked by travel time, with reasons and the why-nots)
and the wait-at-destination alert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .events import Alert, AlertKind, Severity
from .model import Call, CallType, Position, SafetyFlag, Team, TeamStatus
from .rules import RecommendationFactors, great_circle_km

CLOSING_SOON_S = 30 * 60.0
"""A destination closing within this many seconds is shown as closing soon."""

DEFAULT_CAPACITY_STALE_S = 4 * 3600.0
DEFAULT_WAIT_ALERT_S = 45 * 60.0


class DestinationKind(StrEnum):
    SHELTER = "shelter"
    SOBERING_CENTER = "sobering_center"
    DETOX = "detox"
    CRISIS_STABILIZATION = "crisis_stabilization"
    WALK_IN_CLINIC = "walk_in_clinic"
    EMERGENCY_DEPARTMENT = "emergency_department"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    DestinationKind.SHELTER: "shelter",
    DestinationKind.SOBERING_CENTER: "sobering center",
    DestinationKind.DETOX: "detox",
    DestinationKind.CRISIS_STABILIZATION: "crisis stabilization",
    DestinationKind.WALK_IN_CLINIC: "walk-in clinic",
    DestinationKind.EMERGENCY_DEPARTMENT: "emergency department",
}


class Intake(StrEnum):
    WALK_IN = "walk_in"
    CALL_FIRST = "call_first"


class OpenState(StrEnum):
    OPEN = "open"
    CLOSING_SOON = "closing_soon"
    CLOSED = "closed"


Span = tuple[time, time]
"""Opening hours of one day: from ``start`` to ``end``; an ``end`` at or before ``start``
runs past midnight into the next day (``time(0, 0)`` as ``end`` is midnight)."""


class DestinationError(ValueError):
    """A destinations file that cannot be used; the message names the entry and the key."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A weekly schedule (Monday = 0) with exceptions by date (holidays, special hours).

    A day's spans belong to the day they start on: Friday 20:00-08:00 is open until Saturday
    08:00, whatever Saturday's own hours are. An exception replaces its date's spans (an empty
    tuple: closed that day); overnight hours begun the day before still run into it.
    """

    weekly: Mapping[int, tuple[Span, ...]] = field(default_factory=dict)
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)
    holiday_names: Mapping[date, str] = field(default_factory=dict)
    tz: tzinfo | None = None
    """The schedule's time zone (None: this machine's local time, the center's)."""

    def spans_on(self, d: date) -> tuple[Span, ...]:
        if d in self.exceptions:
            return self.exceptions[d]
        return self.weekly.get(d.weekday(), ())

    def _intervals(self, d: date, tz: tzinfo | None) -> list[tuple[datetime, datetime]]:
        out = []
        for start, end in self.spans_on(d):
            a = datetime.combine(d, start, tz)
            b = datetime.combine(d, end, tz)
            if b <= a:
                b = datetime.combine(d + timedelta(days=1), end, tz)
            out.append((a, b))
        return out

    def status(self, when: datetime) -> ScheduleStatus:
        """Open, closing soon (within 30 min) or closed at ``when``, with the next change."""
        local = when.astimezone(self.tz) if self.tz is not None else when.astimezone()
        day = local.date()
        intervals = sorted(
            iv
            for k in range(-1, 8)
            for iv in self._intervals(day + timedelta(days=k), local.tzinfo)
        )
        # Back-to-back spans (Monday 20:00-24:00, Tuesday 00:00-08:00) are one opening.
        merged: list[list[datetime]] = []
        for a, b in intervals:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            if a <= local < b:
                left = (b - local).total_seconds()
                state = OpenState.CLOSING_SOON if left <= CLOSING_SOON_S else OpenState.OPEN
                always = left > 6 * 86400
                return ScheduleStatus(state, closes_at=None if always else b)
        nxt = next((a for a, _ in merged if a > local), None)
        holiday = self.holiday_names.get(day, "")
        return ScheduleStatus(OpenState.CLOSED, opens_at=nxt, holiday=holiday)


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    state: OpenState
    closes_at: datetime | None = None
    """When an open destination closes (None: open around the clock)."""
    opens_at: datetime | None = None
    """When a closed one opens next (None: not within a week)."""
    holiday: str = ""

    @property
    def open_now(self) -> bool:
        return self.state is not OpenState.CLOSED

    def holds_until(self, since: datetime) -> datetime:
        """Until when this status (found at ``since``) stays the same: the next opening,
        closing-soon or closing (a week ahead at most; then it is worked out again)."""
        week = since + timedelta(days=7)
        if self.state is OpenState.OPEN:
            edge = (
                None
                if self.closes_at is None
                else self.closes_at - timedelta(seconds=CLOSING_SOON_S)
            )
        elif self.state is OpenState.CLOSING_SOON:
            edge = self.closes_at
        else:
            edge = self.opens_at
        return week if edge is None else min(edge, week)

    def describe(self, now: datetime) -> str:
        if self.state is OpenState.CLOSED:
            why = f"closed ({self.holiday})" if self.holiday else "closed"
            if self.opens_at is None:
                return why
            return f"{why}, opens {_when(self.opens_at, now)}"
        if self.closes_at is None:
            return "open 24 h"
        mins = (self.closes_at - now).total_seconds() / 60
        if self.state is OpenState.CLOSING_SOON:
            return f"closing in {mins:.0f} min"
        return f"open until {self.closes_at.strftime('%H:%M')}"


def _when(t: datetime, now: datetime) -> str:
    local_now = now.astimezone(t.tzinfo)
    if t.date() == local_now.date():
        return t.strftime("%H:%M")
    if t.date() == local_now.date() + timedelta(days=1):
        return "tomorrow " + t.strftime("%H:%M")
    return t.strftime("%a %H:%M")


@dataclass(frozen=True, slots=True)
class Criteria:
    min_age: int | None = None
    max_age: int | None = None
    accepts_intoxicated: bool = True
    needs_medical_clearance: bool = False
    languages: tuple[str, ...] = ()
    """Languages intake staff speak (empty: not stated)."""
    intake: Intake = Intake.WALK_IN


@dataclass(frozen=True, slots=True)
class Destination:
    id: str
    name: str
    kind: DestinationKind
    lat: float
    lon: float
    phone: str = ""
    schedule: Schedule = field(default_factory=Schedule)
    criteria: Criteria = field(default_factory=Criteria)
    capacity: int | None = None
    """Beds or slots; None: not counted (an emergency department)."""
    sample: bool = False
    """Sample data (the demo's fictional places), never a real service."""

    def status(self, when: datetime) -> ScheduleStatus:
        return self.schedule.status(when)


@dataclass(frozen=True, slots=True)
class DestinationSet:
    """The site's destinations and the limits that go with them."""

    destinations: tuple[Destination, ...] = ()
    capacity_stale_s: float = DEFAULT_CAPACITY_STALE_S
    wait_alert_s: float = DEFAULT_WAIT_ALERT_S
    sample: bool = False

    def get(self, key: str | None) -> Destination | None:
        """A destination by id, or by name as dispatch may write it (case ignored)."""
        if not key:
            return None
        k = key.strip().casefold()
        for d in self.destinations:
            if d.id.casefold() == k or d.name.casefold() == k:
                return d
        return None

    def __bool__(self) -> bool:
        return bool(self.destinations)

    def figures(self, reports: Mapping[str, CapacityReport]) -> dict[str, CapacityReport]:
        """The latest figure per known destination id. Dispatch names a destination as its
        CAD writes it (the id or the name); figures naming no known destination are left out."""
        out: dict[str, CapacityReport] = {}
        for key, r in reports.items():
            d = self.get(key)
            if d is None:
                continue
            old = out.get(d.id)
            if old is None or (old.at, old.source) < (r.at, r.source):
                out[d.id] = r
        return out


# -- capacity --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapacityReport:
    """A destination's figure as last told: free beds/slots and whether it takes people."""

    destination_id: str
    at: datetime
    available: int | None = None
    """Free beds or slots (None: not given)."""
    accepting: bool = True
    source: str = "console"
    """``console`` (a supervisor set it) or ``dispatch``."""
    operator: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class CapacityView:
    """What a panel and a proposal may say about a destination's capacity at some moment."""

    report: CapacityReport | None
    age_s: float | None
    stale: bool

    @property
    def current(self) -> CapacityReport | None:
        """The figure if it may be shown as current (never a stale one)."""
        return None if self.stale else self.report

    def describe(self, total: int | None) -> str:
        r = self.report
        if r is None:
            return "no figure" if total else "not counted"
        age = _age(self.age_s or 0.0)
        what = (
            "not accepting"
            if not r.accepting
            else (
                f"{r.available} of {total} free"
                if r.available is not None and total
                else f"{r.available} free"
                if r.available is not None
                else "accepting"
            )
        )
        if self.stale:
            return f"stale ({age} old; was {what})"
        return f"{what}, {age} ago"


def _age(s: float) -> str:
    if s < 90:
        return f"{max(s, 0):.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def capacity_view(
    report: CapacityReport | None, now: datetime, stale_s: float = DEFAULT_CAPACITY_STALE_S
) -> CapacityView:
    if report is None:
        return CapacityView(None, None, False)
    age = (now - report.at).total_seconds()
    return CapacityView(report, age, age > stale_s)


# -- the transport proposal --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonNeeds:
    """What the proposal checks a destination's criteria against."""

    age: int | None = None
    juvenile: bool = False
    intoxicated: bool = False
    medically_cleared: bool = False
    language: str | None = None

    @classmethod
    def of_call(cls, call: Call) -> PersonNeeds:
        """What the call itself says (the supervisor may correct it in the dialog)."""
        return cls(
            juvenile=call.juvenile,
            intoxicated=call.type in (CallType.SUBSTANCE_USE, CallType.OVERDOSE),
            medically_cleared=not (
                call.type is CallType.OVERDOSE or SafetyFlag.MEDICAL_EMERGENCY in call.safety_flags
            ),
            language=call.language,
        )


@dataclass(frozen=True, slots=True)
class DestinationCandidate:
    destination_id: str
    travel_s: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Proposal:
    call_id: str
    team_id: str | None
    ranked: tuple[DestinationCandidate, ...]
    ineligible: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def best(self) -> DestinationCandidate | None:
        return self.ranked[0] if self.ranked else None


def travel_seconds(
    origin: tuple[float, float] | None, dest: Destination, factors: RecommendationFactors
) -> float | None:
    """The team recommendation's estimate: great-circle distance times the city's circuity,
    at the city's average speed."""
    if origin is None:
        return None
    km = great_circle_km(origin[0], origin[1], dest.lat, dest.lon) * factors.circuity
    return km / factors.speed_kmh * 3600.0


def criteria_problems(c: Criteria, p: PersonNeeds) -> list[str]:
    why: list[str] = []
    if p.age is not None:
        if c.min_age is not None and p.age < c.min_age:
            why.append(f"takes ages {c.min_age}+ (person is {p.age})")
        if c.max_age is not None and p.age > c.max_age:
            why.append(f"takes ages up to {c.max_age} (person is {p.age})")
    elif p.juvenile and c.min_age is not None and c.min_age >= 18:
        why.append(f"adults only ({c.min_age}+); the person is a minor")
    if p.intoxicated and not c.accepts_intoxicated:
        why.append("does not take intoxicated persons")
    if c.needs_medical_clearance and not p.medically_cleared:
        why.append("needs medical clearance first")
    if p.language and p.language != "en" and c.languages and p.language not in c.languages:
        why.append(f"no intake staff speaking {p.language}")
    return why


def propose(
    call: Call,
    destinations: DestinationSet,
    capacity: Mapping[str, CapacityReport],
    now: datetime,
    *,
    team: Team | None = None,
    position: Position | None = None,
    needs: PersonNeeds | None = None,
    factors: RecommendationFactors | None = None,
) -> Proposal:
    """Destinations that can take this person now (open, not full, criteria met, capacity
    figure current where it is counted), ranked by travel time from the team (or the call),
    each with its reasons; the others with why not."""
    p = needs if needs is not None else PersonNeeds.of_call(call)
    factors = factors or RecommendationFactors()
    capacity = destinations.figures(capacity)
    if position is not None:
        origin: tuple[float, float] | None = (position.lat, position.lon)
    elif call.lat is not None and call.lon is not None:
        origin = (call.lat, call.lon)
    else:
        origin = None
    ranked: list[tuple[float, str, DestinationCandidate]] = []
    out: list[tuple[str, tuple[str, ...]]] = []
    for d in sorted(destinations.destinations, key=lambda d: d.id):
        travel = travel_seconds(origin, d, factors)
        why: list[str] = []
        reasons: list[str] = []
        st = d.status(now)
        if not st.open_now:
            why.append(st.describe(now))
        elif (
            st.closes_at is not None
            and travel is not None
            and now + timedelta(seconds=travel) >= st.closes_at
        ):
            why.append(f"closes at {st.closes_at.strftime('%H:%M')}, before arrival")
        view = capacity_view(capacity.get(d.id), now, destinations.capacity_stale_s)
        cur = view.current
        if view.stale:
            why.append(f"capacity figure is {_age(view.age_s or 0.0)} old (stale)")
        elif cur is not None and not cur.accepting:
            why.append("not accepting")
        elif d.capacity is not None:
            if cur is None:
                why.append("no capacity figure")
            elif cur.available is not None and cur.available <= 0:
                why.append("full")
        why.extend(criteria_problems(d.criteria, p))
        if why:
            out.append((d.id, tuple(why)))
            continue
        reasons.append(f"{travel / 60:.0f} min away" if travel is not None else "distance unknown")
        reasons.append(d.kind.label)
        reasons.append(st.describe(now))
        if cur is not None and cur.available is not None:
            reasons.append(f"{cur.available} free ({_age(view.age_s or 0.0)} ago)")
        if d.criteria.intake is Intake.CALL_FIRST:
            reasons.append(f"call first: {d.phone}" if d.phone else "call first")
        ranked.append(
            (
                travel if travel is not None else math.inf,
                d.id,
                DestinationCandidate(d.id, travel, tuple(reasons)),
            )
        )
    ranked.sort(key=lambda r: (r[0], r[1]))
    return Proposal(call.id, team.id if team else None, tuple(r[2] for r in ranked), tuple(out))


# -- wait at destination ------------------------------------------------------------------------


def wait_alerts(teams: Iterable[Team], destinations: DestinationSet, now: datetime) -> list[Alert]:
    """A team at a destination longer than the site's limit: "CRT-3 waiting 45 min at detox
    intake". One alert per arrival (the id carries when the wait began)."""
    out: list[Alert] = []
    for t in teams:
        if t.status is not TeamStatus.AT_DESTINATION:
            continue
        since = t.status_since or t.updated_at
        waited = (now - since).total_seconds()
        if waited <= destinations.wait_alert_s:
            continue
        d = destinations.get(t.destination)
        where = (
            f"{d.kind.label} intake ({d.name})"
            if d is not None
            else (t.destination or "the destination")
        )
        out.append(
            Alert(
                f"destination_wait:{t.id}:{since.isoformat()}",
                AlertKind.DESTINATION_WAIT,
                Severity.MEDIUM,
                t.id,
                f"{t.id} waiting {waited / 60:.0f} min at {where}",
                since,
            )
        )
    return out


# -- reading a destinations document -------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KEYS = (
    "id",
    "name",
    "kind",
    "lat",
    "lon",
    "phone",
    "hours",
    "exceptions",
    "holiday_hours",
    "criteria",
    "capacity",
    "sample",
)
_CRITERIA_KEYS = (
    "min_age",
    "max_age",
    "accepts_intoxicated",
    "needs_medical_clearance",
    "languages",
    "intake",
)


def _hm(s: str, where: str, *, end: bool) -> time:
    try:
        h, m = s.strip().split(":")
        hh, mm = int(h), int(m)
    except ValueError:
        raise DestinationError(f"{where}: '{s}' is not a time HH:MM") from None
    if end and hh == 24 and mm == 0:
        return time(0, 0)
    if not (0 <= hh <= 23 and 0 <= mm <= 59):
        raise DestinationError(f"{where}: '{s}' is not a time HH:MM (00:00-24:00)")
    return time(hh, mm)


def _spans(value: Any, where: str) -> tuple[Span, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise DestinationError(f'{where}: expected a list of "HH:MM-HH:MM" spans')
    out = []
    for v in value:
        if not isinstance(v, str) or v.count("-") != 1:
            raise DestinationError(f"{where}: '{v}' is not a span \"HH:MM-HH:MM\"")
        a, b = v.split("-")
        out.append((_hm(a, where, end=False), _hm(b, where, end=True)))
    return tuple(out)


def _date(s: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(s))
    except ValueError:
        raise DestinationError(f"{where}: '{s}' is not a date YYYY-MM-DD") from None


def _weekly(value: Any, where: str) -> dict[int, tuple[Span, ...]]:
    if value == "24/7":
        return {i: ((time(0, 0), time(0, 0)),) for i in range(7)}
    if not isinstance(value, dict):
        raise DestinationError(f'{where}: expected "24/7" or a table of days (mon .. sun, daily)')
    out: dict[int, tuple[Span, ...]] = {}
    if "daily" in value:
        spans = _spans(value["daily"], f"{where}.daily")
        out = {i: spans for i in range(7)}
    for k, v in value.items():
        if k == "daily":
            continue
        if k not in _DAYS:
            raise DestinationError(f"{where}: unknown day '{k}' (mon .. sun, daily)")
        out[_DAYS.index(k)] = _spans(v, f"{where}.{k}")
    return out


def _num(d: Mapping[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not (lo <= v <= hi):
        raise DestinationError(f"{where}.{key}: expected a number from {lo:g} to {hi:g}, got {v!r}")
    return float(v)


def _int_opt(d: Mapping[str, Any], key: str, where: str, lo: int, hi: int) -> int | None:
    if key not in d:
        return None
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int) or not (lo <= v <= hi):
        raise DestinationError(
            f"{where}.{key}: expected a whole number from {lo} to {hi}, got {v!r}"
        )
    return v


def _bool(d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise DestinationError(f"{where}.{key}: expected true or false, got {v!r}")
    return v


def _criteria(value: Any, where: str) -> Criteria:
    if not isinstance(value, dict):
        raise DestinationError(f"{where}: expected a table")
    unknown = sorted(set(value) - set(_CRITERIA_KEYS))
    if unknown:
        raise DestinationError(
            f"{where}: unknown key '{unknown[0]}' (known: {', '.join(_CRITERIA_KEYS)})"
        )
    langs = value.get("languages", [])
    if not isinstance(langs, list) or not all(isinstance(x, str) and x for x in langs):
        raise DestinationError(f"{where}.languages: expected a list of language codes")
    intake = value.get("intake", "walk_in")
    if intake not in {i.value for i in Intake}:
        raise DestinationError(
            f'{where}.intake: expected "walk_in" or "call_first", got {intake!r}'
        )
    c = Criteria(
        min_age=_int_opt(value, "min_age", where, 0, 120),
        max_age=_int_opt(value, "max_age", where, 0, 120),
        accepts_intoxicated=_bool(value, "accepts_intoxicated", where, True),
        needs_medical_clearance=_bool(value, "needs_medical_clearance", where, False),
        languages=tuple(langs),
        intake=Intake(intake),
    )
    if c.min_age is not None and c.max_age is not None and c.min_age > c.max_age:
        raise DestinationError(f"{where}: min_age {c.min_age} is above max_age {c.max_age}")
    return c


def _tz(name: Any, where: str) -> tzinfo | None:
    if name in (None, ""):
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise DestinationError(f"{where}: unknown time zone {name!r}") from None


def parse_destinations(
    doc: Mapping[str, Any],
    where: str = "destinations file",
    *,
    capacity_stale_s: float = DEFAULT_CAPACITY_STALE_S,
    wait_alert_s: float = DEFAULT_WAIT_ALERT_S,
) -> DestinationSet:
    """The site's destinations from a parsed TOML/JSON document; the first problem raises
    :class:`DestinationError` naming the entry and the key."""
    top = ("version", "timezone", "sample", "holidays", "destination")
    unknown = sorted(set(doc) - set(top))
    if unknown:
        raise DestinationError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(top)})")
    version = doc.get("version", 1)
    if version != 1:
        raise DestinationError(
            f"{where}: version {version!r} is not understood (this program reads 1)"
        )
    tz = _tz(doc.get("timezone"), f"{where}: timezone")
    hol_raw = doc.get("holidays", {})
    if not isinstance(hol_raw, dict):
        raise DestinationError(f'{where}: holidays: expected a table of "YYYY-MM-DD" = name')
    holidays = {_date(k, f"{where}: holidays"): str(v) for k, v in hol_raw.items()}
    entries = doc.get("destination", [])
    if not isinstance(entries, list):
        raise DestinationError(f"{where}: destination: expected [[destination]] entries")
    seen: set[str] = set()
    out: list[Destination] = []
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict):
            raise DestinationError(f"{where}: destination {i}: expected a table")
        ident = e.get("id")
        w = (
            f"{where}: destination {ident!r}"
            if isinstance(ident, str) and ident
            else f"{where}: destination {i}"
        )
        if not isinstance(ident, str) or not ident.strip():
            raise DestinationError(f"{w}: missing id")
        if ident in seen:
            raise DestinationError(f"{w}: id used twice")
        seen.add(ident)
        bad = sorted(set(e) - set(_KEYS))
        if bad:
            raise DestinationError(f"{w}: unknown key '{bad[0]}' (known: {', '.join(_KEYS)})")
        name = e.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DestinationError(f"{w}: missing name")
        kind = e.get("kind")
        if kind not in {k.value for k in DestinationKind}:
            raise DestinationError(
                f"{w}.kind: {kind!r} is not one of {', '.join(k.value for k in DestinationKind)}"
            )
        if "hours" not in e:
            raise DestinationError(f'{w}: missing hours ("24/7" or a table of days)')
        weekly = _weekly(e["hours"], f"{w}.hours")
        exc_raw = e.get("exceptions", {})
        if not isinstance(exc_raw, dict):
            raise DestinationError(f'{w}.exceptions: expected a table of "YYYY-MM-DD" = spans')
        exceptions: dict[date, tuple[Span, ...]] = {}
        if "holiday_hours" in e:
            hh = _spans(e["holiday_hours"], f"{w}.holiday_hours")
            exceptions.update({d: hh for d in holidays})
        for k, v in exc_raw.items():
            exceptions[_date(k, f"{w}.exceptions")] = _spans(v, f"{w}.exceptions.{k}")
        phone = e.get("phone", "")
        if not isinstance(phone, str):
            raise DestinationError(f"{w}.phone: expected a string")
        out.append(
            Destination(
                id=ident,
                name=name,
                kind=DestinationKind(kind),
                lat=_num(e, "lat", w, -90, 90),
                lon=_num(e, "lon", w, -180, 180),
                phone=phone,
                schedule=Schedule(weekly, exceptions, holidays, tz),
                criteria=_criteria(e.get("criteria", {}), f"{w}.criteria"),
                capacity=_int_opt(e, "capacity", w, 1, 100000),
                sample=_bool(e, "sample", w, bool(doc.get("sample", False))),
            )
        )
    return DestinationSet(
        tuple(out),
        capacity_stale_s=capacity_stale_s,
        wait_alert_s=wait_alert_s,
        sample=bool(doc.get("sample", False)),
    )


# -- what the board shows ------------------------------------------------------------------------


class StatusCache:
    """Each destination's status, worked out again only when it may have changed (at its next
    opening, closing-soon or closing): a panel refreshed every few seconds does not walk a
    week of hours each time."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[Schedule, datetime, datetime, ScheduleStatus]] = {}

    def status(self, d: Destination, now: datetime) -> ScheduleStatus:
        held = self._held.get(d.id)
        if held is not None and held[0] is d.schedule and held[1] <= now < held[2]:
            return held[3]
        st = d.status(now)
        # The holiday a closed day is named after changes at local midnight too.
        tz = d.schedule.tz
        local = now.astimezone(tz) if tz is not None else now.astimezone()
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0, 0), local.tzinfo)
        self._held[d.id] = (d.schedule, now, min(st.holds_until(now), midnight), st)
        return st


def criteria_badges(c: Criteria) -> tuple[tuple[str, str], ...]:
    """The intake criteria as short symbols, each with its meaning (the panel's icons and
    their tooltips)."""
    out: list[tuple[str, str]] = []
    if c.min_age is not None and c.max_age is not None:
        out.append((f"{c.min_age}–{c.max_age}", f"Ages {c.min_age} to {c.max_age}"))
    elif c.min_age is not None:
        out.append((f"{c.min_age}+", f"Ages {c.min_age} and over"))
    elif c.max_age is not None:
        out.append((f"≤{c.max_age}", f"Ages up to {c.max_age}"))
    else:
        out.append(("all ages", "Any age"))
    if c.accepts_intoxicated:
        out.append(("intox ✓", "Takes intoxicated persons"))
    else:
        out.append(("sober ✕", "Does not take intoxicated persons (sober only)"))
    if c.needs_medical_clearance:
        out.append(("✚ med", "Needs medical clearance before intake"))
    if c.languages:
        out.append(
            (
                " ".join(x.upper() for x in c.languages),
                "Intake staff speak: " + ", ".join(c.languages),
            )
        )
    if c.intake is Intake.CALL_FIRST:
        out.append(("☎ call", "Call before bringing anyone"))
    else:
        out.append(("walk-in", "Walk-ins accepted"))
    return tuple(out)


_STATE_RANK = {OpenState.OPEN: 0, OpenState.CLOSING_SOON: 1, OpenState.CLOSED: 2}


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One destination as the panel and the map show it at some moment."""

    destination: Destination
    status: ScheduleStatus
    status_text: str
    capacity: CapacityView
    capacity_text: str
    badges: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return self.destination.id

    @property
    def state(self) -> OpenState:
        return self.status.state

    @property
    def accepting(self) -> bool:
        cur = self.capacity.current
        return cur is None or cur.accepting

    @property
    def sort_key(self) -> tuple[int, str]:
        return (_STATE_RANK[self.state], self.destination.name.casefold())


def board_rows(
    destinations: DestinationSet,
    capacity: Mapping[str, CapacityReport],
    now: datetime,
    statuses: StatusCache | None = None,
) -> list[BoardRow]:
    """Every destination: open ones first, then closing soon, then closed; by name within."""
    capacity = destinations.figures(capacity)
    rows = []
    for d in destinations.destinations:
        st = statuses.status(d, now) if statuses is not None else d.status(now)
        view = capacity_view(capacity.get(d.id), now, destinations.capacity_stale_s)
        rows.append(
            BoardRow(
                d,
                st,
                st.describe(now),
                view,
                view.describe(d.capacity),
                criteria_badges(d.criteria),
            )
        )
    rows.sort(key=lambda r: r.sort_key)
    return rows
