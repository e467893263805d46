"""Replay of a real CAD export with its own timestamps.

Each row becomes a call whose received / dispatched / en-route / on-scene / cleared times are the
export's. Teams come from a pool sized so that no team ever serves two calls at once. Missing
values (empty, ``NULL``, ``-9999``) and unparseable times are skipped, never fatal; a row without
any receive time is counted and left out.

The column names are those of the DECC weekly export; :data:`COLUMNS` maps them, so another
center's export needs only a different mapping.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from console.domain.model import Call, CallStatus, CallType, Capabilities, TeamStatus
from console.sim.world import NEIGHBORHOODS, TeamSpec, World

COLUMNS = {
    "id": "Master_Incident_Number",
    "received": "Incident_Start_Time",
    "received_fallback": "Response_Date",
    "dispatched": "Incident_Dispatch_Time",
    "enroute": "Incident_Enroute_Time",
    "onscene": "Incident_Arrival_Time",
    "cleared": "Incident_First_Close_Time",
    "cleared_fallback": "Final_Closed_Time",
    "problem": "Problem",
    "priority": "Priority_Number",
    "disposition": "Disposition",
}
MISSING = frozenset({"", "NULL", "null", "-9999", "NaN", "nan", "None"})
DEFAULT_TZ = "America/New_York"

_TYPE_WORDS: tuple[tuple[tuple[str, ...], CallType], ...] = (
    (("OVERDOSE", "OD "), CallType.OVERDOSE),
    (("PSYCH", "MENTAL", "EDP", "SUICID"), CallType.MENTAL_HEALTH),
    (("INTOX", "DRUNK", "SUBSTANCE", "DRUG"), CallType.SUBSTANCE_USE),
    (("WELFARE", "CHECK ON", "MISSING", "FOUND"), CallType.WELFARE_CHECK),
    (("JUVENILE", "RUNAWAY", "TRUANT"), CallType.JUVENILE),
    (("HOMELESS", "VAGRANT", "PANHANDL"), CallType.HOMELESSNESS),
    (("TRANSPORT",), CallType.TRANSPORT),
    (("DISTURB", "DISORDERLY", "SCREAM", "NOISE"), CallType.EMOTIONAL_DISTRESS),
    (("PUBLIC SERVICE", "ASSIST", "CITIZEN"), CallType.BASIC_NEEDS),
)


def call_type_of(problem: str) -> CallType:
    p = f"{problem.upper()} "
    for words, ctype in _TYPE_WORDS:
        if any(w in p for w in words):
            return ctype
    return CallType.OTHER


def priority_of(raw: str) -> int:
    try:
        n = int(float(raw))
    except ValueError:
        return 3
    return 1 if n <= 1 else 2 if n == 2 else 3


def parse_time(raw: str | None, tz: ZoneInfo) -> datetime | None:
    """A CAD timestamp in the export's local time zone; None when missing or unreadable."""
    if raw is None:
        return None
    s = raw.strip()
    if s in MISSING:
        return None
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        return None
    return d.replace(tzinfo=tz) if d.tzinfo is None else d


@dataclass
class CsvCall:
    id: str
    received: datetime
    dispatched: datetime | None
    enroute: datetime | None
    onscene: datetime | None
    cleared: datetime | None
    problem: str
    priority: int
    disposition: str
    team: str | None = None


@dataclass
class CsvShift:
    calls: list[CsvCall]
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """(line number, why) of rows left out."""


def read_csv(path: str | Path, tz_name: str = DEFAULT_TZ) -> CsvShift:
    tz = ZoneInfo(tz_name)
    out = CsvShift([])
    seen: set[str] = set()
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [
            c for c in (COLUMNS["id"], COLUMNS["received"]) if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise ValueError(f"{path}: not a CAD export this replay knows (no column {missing[0]})")
        for line, row in enumerate(reader, start=2):
            g = row.get
            received = parse_time(g(COLUMNS["received"]), tz) or parse_time(
                g(COLUMNS["received_fallback"]), tz
            )
            if received is None:
                out.skipped.append((line, "no receive time"))
                continue
            rid = (g(COLUMNS["id"]) or "").strip() or f"row{line}"
            cid = f"CAD-{rid}"
            if cid in seen:
                cid = f"{cid}-{line}"
            seen.add(cid)
            out.calls.append(
                CsvCall(
                    id=cid,
                    received=received,
                    dispatched=parse_time(g(COLUMNS["dispatched"]), tz),
                    enroute=parse_time(g(COLUMNS["enroute"]), tz),
                    onscene=parse_time(g(COLUMNS["onscene"]), tz),
                    cleared=parse_time(g(COLUMNS["cleared"]), tz)
                    or parse_time(g(COLUMNS["cleared_fallback"]), tz),
                    problem=(g(COLUMNS["problem"]) or "").strip(),
                    priority=priority_of(g(COLUMNS["priority"]) or ""),
                    disposition=(g(COLUMNS["disposition"]) or "").strip(),
                )
            )
    out.calls.sort(key=lambda c: (c.received, c.id))
    _assign_pool(out.calls)
    return out


def _team_window(c: CsvCall) -> tuple[datetime, datetime] | None:
    steps = [t for t in (c.dispatched, c.enroute, c.onscene) if t is not None]
    if not steps:
        return None
    start = max(min(steps), c.received)
    end = max([start, *(t for t in (c.cleared, *steps) if t is not None)])
    return start, end


def _assign_pool(calls: list[CsvCall]) -> None:
    """Greedy interval partitioning: the lowest-numbered team free at the call's first step."""
    free_at: list[datetime] = []
    order = sorted((w, c) for c in calls if (w := _team_window(c)) is not None for _ in [0])
    for (start, end), c in sorted(order, key=lambda x: (x[0][0], x[1].id)):
        for k, t in enumerate(free_at):
            if t < start:
                free_at[k] = end
                c.team = f"RPL-{k + 1:02d}"
                break
        else:
            free_at.append(end)
            c.team = f"RPL-{len(free_at):02d}"


def _stable_point(call_id: str) -> tuple[str, float, float]:
    h = int.from_bytes(hashlib.blake2b(call_id.encode(), digest_size=8).digest(), "big")
    nb, lat, lon = NEIGHBORHOODS[h % len(NEIGHBORHOODS)]
    dlat = ((h >> 8) % 800 - 400) / 100000.0
    dlon = ((h >> 20) % 1000 - 500) / 100000.0
    return nb, round(lat + dlat, 6), round(lon + dlon, 6)


_RANK = {
    CallStatus.PENDING: 0,
    CallStatus.ASSIGNED: 1,
    CallStatus.EN_ROUTE: 2,
    CallStatus.ON_SCENE: 3,
    CallStatus.CLEARED: 4,
    CallStatus.CANCELLED: 4,
}
_TEAM_FOR = {
    CallStatus.ASSIGNED: TeamStatus.ASSIGNED,
    CallStatus.EN_ROUTE: TeamStatus.EN_ROUTE,
    CallStatus.ON_SCENE: TeamStatus.ON_SCENE,
}


class CsvReplay:
    """Schedules every row's steps on the world's agenda at the export's own times."""

    def __init__(self, world: World, shift: CsvShift) -> None:
        self.w = world
        self.shift = shift
        teams = sorted({c.team for c in shift.calls if c.team})
        for k, tid in enumerate(teams):
            nb = NEIGHBORHOODS[k % len(NEIGHBORHOODS)]
            world.add_team(
                TeamSpec(tid, "RPL", Capabilities(narcan=True, vehicle_seats=3), (nb[1], nb[2]))
            )
        last = world.start
        for c in shift.calls:
            world.at(c.received, self._receive, c)
            steps = [
                (c.dispatched, CallStatus.ASSIGNED),
                (c.enroute, CallStatus.EN_ROUTE),
                (c.onscene, CallStatus.ON_SCENE),
                (c.cleared, CallStatus.CLEARED),
            ]
            for t, st in steps:
                if t is None:
                    continue
                when = max(t, c.received)  # a step logged before the call began waits for it
                world.at(when, self._step, c, st)
                last = max(last, when)
            last = max(last, c.received)
        world.end = last

    def _receive(self, c: CsvCall) -> None:
        nb, lat, lon = _stable_point(c.id)
        self.w.open_call(
            Call(
                id=c.id,
                status=CallStatus.PENDING,
                priority=c.priority,
                type=call_type_of(c.problem),
                received_at=c.received,
                updated_at=self.w.now,
                lat=lat,
                lon=lon,
                address=nb,
                neighborhood=nb,
                summary=c.problem,
                source_type="",
            )
        )

    def _step(self, c: CsvCall, st: CallStatus) -> None:
        w = self.w
        call = w.calls[c.id]
        kw: dict[str, object] = {}
        if st is CallStatus.ASSIGNED:
            kw["dispatched_at"] = c.dispatched
        elif st is CallStatus.EN_ROUTE:
            kw["enroute_at"] = c.enroute
        elif st is CallStatus.ON_SCENE:
            kw["onscene_at"] = c.onscene
        final = st
        if st is CallStatus.CLEARED:
            kw["cleared_at"] = c.cleared
            cancelled = c.disposition.upper().startswith(("CN", "DUP")) and c.onscene is None
            final = CallStatus.CANCELLED if cancelled else CallStatus.CLEARED
            kw["disposition"] = c.disposition or None
        if not call.is_open:
            # The export logged this step after the close: keep its time, change no status.
            times = {k: v for k, v in kw.items() if k.endswith("_at") and getattr(call, k) is None}
            if times:
                w.set_call(c.id, **times)
            return
        if c.team and st is not CallStatus.CLEARED and c.team not in call.teams:
            kw["team"] = c.team
            kw["teams"] = (*call.teams, c.team)
            w.dispatched.setdefault(c.id, {})[c.team] = w.now
        if _RANK[final] > _RANK[call.status]:
            kw["status"] = final
        w.set_call(c.id, **kw)
        if c.team is None:
            return
        if final in _TEAM_FOR and _RANK[final] >= _RANK[call.status]:
            team = w.teams[c.team]
            if team.call in (None, c.id) and _RANK.get(final, 0) >= 0:
                w.set_team(c.team, status=_TEAM_FOR[final], call=c.id)
                if final is CallStatus.ON_SCENE and call.lat is not None and call.lon is not None:
                    w.move(c.team, call.lat, call.lon)
        elif final in (CallStatus.CLEARED, CallStatus.CANCELLED):
            if w.teams[c.team].call == c.id:
                w.set_team(c.team, status=TeamStatus.AVAILABLE, call=None)
