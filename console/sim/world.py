"""The dispatch simulator's world: calls, teams and their movements in simulated time.

Pure and seeded: the same seed, roster and rate give the same shift. The world knows nothing of
sockets; the server advances it to "now" and turns what changed into EIDO notifications. It also
applies the console's commands the way a CAD would: a refusal carries the reason, and a command
key seen before gets the same answer without being applied again.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from console.domain.events import Note
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    Capabilities,
    Disposition,
    EscalationTarget,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.rules import great_circle_km, ineligibility, safety_screen
from console.wire.eido import Escalation, NoteView, Person, UnitView

# -- the city ----------------------------------------------------------------------------------

NEIGHBORHOODS: tuple[tuple[str, float, float], ...] = (
    ("Downtown", 41.7655, -72.6755),
    ("Asylum Hill", 41.7710, -72.6920),
    ("Frog Hollow", 41.7570, -72.6880),
    ("South Green", 41.7520, -72.6760),
    ("Sheldon-Charter Oak", 41.7560, -72.6680),
    ("Clay Arsenal", 41.7760, -72.6800),
    ("North Meadows", 41.7900, -72.6650),
    ("Northeast", 41.7900, -72.6800),
    ("Upper Albany", 41.7850, -72.7000),
    ("Blue Hills", 41.7950, -72.7100),
    ("West End", 41.7700, -72.7100),
    ("Parkville", 41.7580, -72.7060),
    ("Behind the Rocks", 41.7450, -72.6950),
    ("Barry Square", 41.7420, -72.6820),
    ("South End", 41.7300, -72.6780),
    ("Southwest", 41.7350, -72.7050),
    ("South Meadows", 41.7350, -72.6600),
)

DESTINATIONS: tuple[tuple[str, float, float], ...] = (
    # Named as in the demo's sample destinations file (resources/), so the console knows them:
    # the emergency departments near their public hospital points, the other places fictional.
    ("Hartford Hospital ED", 41.7545, -72.6794),
    ("Saint Francis ED", 41.7737, -72.6990),
    ("Connecticut Children's ED", 41.7560, -72.6810),
    ("Bushnell Night Shelter (sample)", 41.7610, -72.6640),
    ("Park Street Sobering Center (sample)", 41.7470, -72.6720),
    ("Riverside Detox Intake (sample)", 41.7690, -72.6620),
)

STREETS = (
    "Main St",
    "Park St",
    "Albany Ave",
    "Farmington Ave",
    "Broad St",
    "Wethersfield Ave",
    "Franklin Ave",
    "Asylum Ave",
    "Washington St",
    "Maple Ave",
    "Homestead Ave",
    "Capitol Ave",
)

HOURLY_PROFILE = (
    0.45, 0.35, 0.30, 0.25, 0.25, 0.30, 0.45, 0.65, 0.85, 1.05, 1.20, 1.30,
    1.35, 1.40, 1.45, 1.50, 1.50, 1.45, 1.35, 1.20, 1.05, 0.90, 0.75, 0.60,
)  # fmt: skip
"""Relative call arrivals by hour of day (afternoon peak, quiet small hours)."""

DEFAULT_RATE_PER_HOUR = 15.0 / 24.0
"""About 15 eligible calls a day: ~5,500 a year, the scale of the Hartford program."""

# type -> (weight, (P1, P2, P3) weights, on-scene mean minutes, transport probability, APCO codes)
CALL_MIX: dict[
    CallType, tuple[float, tuple[float, float, float], float, float, tuple[str, ...]]
] = {
    CallType.MENTAL_HEALTH: (0.22, (0.3, 0.5, 0.2), 45, 0.15, ("MNTL", "SUICTHRT")),
    CallType.EMOTIONAL_DISTRESS: (0.18, (0.1, 0.5, 0.4), 35, 0.05, ("EDP", "SCRM")),
    CallType.SUBSTANCE_USE: (0.10, (0.2, 0.5, 0.3), 30, 0.25, ("INTOX", "DRUGS")),
    CallType.OVERDOSE: (0.05, (0.8, 0.2, 0.0), 25, 0.30, ("OD",)),
    CallType.WELFARE_CHECK: (0.15, (0.2, 0.5, 0.3), 25, 0.05, ("WELFARE", "SLMP", "PERMISS")),
    CallType.BASIC_NEEDS: (0.08, (0.0, 0.3, 0.7), 30, 0.40, ("CITASST",)),
    CallType.HOMELESSNESS: (0.09, (0.0, 0.3, 0.7), 30, 0.30, ("VAG", "PHANDLE")),
    CallType.TRANSPORT: (0.04, (0.0, 0.4, 0.6), 10, 1.0, ("CITASST",)),
    CallType.JUVENILE: (0.04, (0.3, 0.5, 0.2), 50, 0.10, ("RUNAWAY",)),
    CallType.OTHER: (0.05, (0.1, 0.4, 0.5), 25, 0.0, ("TROUBLE", "SUSP", "TRESPASS")),
}

UNSAFE_TYPES: tuple[tuple[str, CallType, tuple[SafetyFlag, ...], EscalationTarget], ...] = (
    ("MTLV", CallType.MENTAL_HEALTH, (SafetyFlag.VIOLENCE,), EscalationTarget.POLICE),
    ("WEAPON", CallType.OTHER, (SafetyFlag.WEAPON,), EscalationTarget.POLICE),
    ("DVA", CallType.OTHER, (SafetyFlag.VIOLENCE,), EscalationTarget.POLICE),
    ("PERUNCON", CallType.WELFARE_CHECK, (SafetyFlag.MEDICAL_EMERGENCY,), EscalationTarget.EMS),
)
UNSAFE_RATE = 0.06
SPANISH_RATE = 0.20
ESCALATE_ON_SCENE_RATE = 0.04
BACKUP_RATE = 0.02
CITY_KMH = 30.0
CIRCUITY = 1.4
POSITION_EVERY_S = 30.0
CHECKIN_EVERY_S = 20 * 60.0


_TICK = timedelta(milliseconds=1)
"""The CAD's clock resolution: successive records of one unit differ by at least this."""


# -- roster ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamSpec:
    id: str
    provider: str
    capabilities: Capabilities
    base: tuple[float, float]


class RosterError(ValueError):
    """A roster file that cannot be used: names the file and the problem."""


def load_roster(path: str | Path | None = None) -> list[TeamSpec]:
    try:
        if path is None:
            from console.config import resource_path

            text = resource_path("roster.toml").read_text("utf-8")
            where = "default roster"
        else:
            text = Path(path).read_text("utf-8")
            where = str(path)
    except OSError as exc:
        raise RosterError(f"cannot read roster {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RosterError(f"{where}: not valid TOML ({exc})") from exc
    teams: list[TeamSpec] = []
    for i, t in enumerate(data.get("team") or []):
        try:
            base = t.get("base") or NEIGHBORHOODS[i % len(NEIGHBORHOODS)][1:]
            teams.append(
                TeamSpec(
                    id=str(t["id"]),
                    provider=str(t["provider"]),
                    capabilities=Capabilities(
                        narcan=bool(t.get("narcan", False)),
                        vehicle_seats=int(t.get("vehicle_seats", 0)),
                        juvenile_certified=bool(t.get("juvenile_certified", False)),
                        languages=tuple(t.get("languages") or ("en",)),
                        clinician=bool(t.get("clinician", True)),
                        peer_specialist=bool(t.get("peer_specialist", False)),
                    ),
                    base=(float(base[0]), float(base[1])),
                )
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise RosterError(f"{where}: team #{i + 1} is incomplete ({exc})") from exc
    if not teams:
        raise RosterError(f"{where}: no [[team]] entries")
    return teams


def roster_of_size(specs: list[TeamSpec], n: int | None) -> list[TeamSpec]:
    """The first ``n`` teams; more than the roster has are added as extra adult teams."""
    if n is None or n == len(specs):
        return list(specs)
    if n <= len(specs):
        return specs[:n]
    out = list(specs)
    template = specs[0]
    for k in range(len(specs), n):
        nb = NEIGHBORHOODS[k % len(NEIGHBORHOODS)]
        out.append(replace(template, id=f"{template.provider}-{k + 1}", base=(nb[1], nb[2])))
    return out


# -- the world ---------------------------------------------------------------------------------


@dataclass(order=True)
class _Task:
    at: datetime
    seq: int
    fn: Callable[..., object] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    epoch: tuple[str, int] | None = field(compare=False, default=None)


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    accepted: bool
    text: str
    call_id: str | None
    version: int | None
    answered_at: datetime
    applied: bool = True


class World:
    """Everything dispatch knows; mutated only by :meth:`advance_to` and :meth:`apply_command`."""

    def __init__(self, start: datetime, *, seed: int = 1, id_prefix: str = "HCR") -> None:
        self.start = start
        self.now = start
        self.rng = random.Random(seed)
        self.id_prefix = id_prefix
        self.calls: dict[str, Call] = {}
        self.teams: dict[str, Team] = {}
        self.positions: dict[str, Position] = {}
        self.dispatched: dict[str, dict[str, datetime]] = {}
        self.notes: dict[str, list[NoteView]] = {}
        self.persons: dict[str, list[Person]] = {}
        self.escalations: dict[str, Escalation] = {}
        self.backup: dict[str, datetime] = {}
        self.bases: dict[str, tuple[float, float]] = {}
        self.changed_calls: set[str] = set()
        self.changed_teams: set[str] = set()
        self.snapshots: list[tuple[str, str, Any]] = []
        """Every change in order: ("team", id, UnitView) or ("call", id, incident parts)."""
        self.answers: dict[str, CommandOutcome] = {}
        self.applied: dict[str, int] = {}
        self.command_kinds: dict[str, str] = {}
        self._agenda: list[_Task] = []
        self._seq = itertools.count()
        self._epochs: dict[str, int] = {}
        self._call_seq = itertools.count(1)
        self.finished = False
        self.end: datetime | None = None

    # -- scheduling --------------------------------------------------------------------------

    def at(
        self, t: datetime, fn: Callable[..., object], *args: Any, team: str | None = None
    ) -> None:
        epoch = (team, self._epochs.get(team, 0)) if team else None
        heapq.heappush(self._agenda, _Task(t, next(self._seq), fn, args, epoch))

    def after(
        self, seconds: float, fn: Callable[..., object], *args: Any, team: str | None = None
    ) -> None:
        self.at(self.now + timedelta(seconds=seconds), fn, *args, team=team)

    def _bump_epoch(self, team_id: str) -> None:
        """Cancel everything scheduled for a team (reassigned, cleared, escalated away)."""
        self._epochs[team_id] = self._epochs.get(team_id, 0) + 1

    def next_time(self) -> datetime | None:
        return self._agenda[0].at if self._agenda else None

    def advance_to(self, t: datetime, max_tasks: int | None = None) -> bool:
        """Run what is due by ``t``; with ``max_tasks``, stop early (False: not yet at ``t``)."""
        if self.end is not None and t > self.end:
            t = self.end
        done = 0
        while self._agenda and self._agenda[0].at <= t:
            if max_tasks is not None and done >= max_tasks:
                return False
            done += 1
            task = heapq.heappop(self._agenda)
            if task.epoch is not None and self._epochs.get(task.epoch[0], 0) != task.epoch[1]:
                continue
            self.now = max(self.now, task.at)
            task.fn(*task.args)
        self.now = max(self.now, t)
        if self.end is not None and self.now >= self.end:
            self.finished = True
        return True

    def take_snapshots(self) -> list[tuple[str, str, Any]]:
        """The changes since the last call, in order (the feed turns each into an EIDO)."""
        snaps = self.snapshots
        self.snapshots = []
        self.changed_calls, self.changed_teams = set(), set()
        return snaps

    # -- records -------------------------------------------------------------------------------

    def add_team(self, spec: TeamSpec, status: TeamStatus = TeamStatus.AVAILABLE) -> None:
        self.teams[spec.id] = Team(
            spec.id,
            status,
            self.now,
            provider=spec.provider,
            status_since=self.now,
            capabilities=spec.capabilities,
            name=spec.id,
        )
        self.bases[spec.id] = spec.base
        self.positions[spec.id] = Position(spec.base[0], spec.base[1], self.now)
        self.changed_teams.add(spec.id)
        self.snapshots.append(("team", spec.id, self.unit_view(spec.id)))

    def set_call(self, call_id: str, **kw: Any) -> Call:
        old = self.calls[call_id]
        new = replace(old, updated_at=self.now, version=old.version + 1, **kw)
        self.calls[call_id] = new
        self.changed_calls.add(call_id)
        self.snapshots.append(("call", call_id, self.incident_parts(call_id)))
        return new

    def set_team(self, team_id: str, **kw: Any) -> Team:
        old = self.teams[team_id]
        # A unit's record has no revision counter: its time must strictly increase, or two
        # changes in the same instant (cleared, then sent again) would tie for "latest".
        at = max(self.now, old.updated_at + _TICK)
        if "status" in kw and kw["status"] is not old.status:
            kw.setdefault("status_since", at)
        new = replace(old, updated_at=at, **kw)
        self.teams[team_id] = new
        self.changed_teams.add(team_id)
        self.snapshots.append(("team", team_id, self.unit_view(team_id)))
        return new

    def move(self, team_id: str, lat: float, lon: float) -> None:
        old = self.positions.get(team_id)
        at = self.now if old is None else max(self.now, old.at + _TICK)
        self.positions[team_id] = Position(round(lat, 6), round(lon, 6), at)
        self.changed_teams.add(team_id)
        self.snapshots.append(("team", team_id, self.unit_view(team_id)))

    def new_call_id(self) -> str:
        return f"{self.id_prefix}-{next(self._call_seq):06d}"

    def open_call(self, call: Call, persons: Iterable[Person] = ()) -> None:
        self.calls[call.id] = call
        self.dispatched[call.id] = {}
        self.notes[call.id] = []
        self.persons[call.id] = list(persons)
        self.changed_calls.add(call.id)
        self.snapshots.append(("call", call.id, self.incident_parts(call.id)))

    def add_note(self, call_id: str, text: str, author: str) -> None:
        notes = self.notes.setdefault(call_id, [])
        nid = f"note.{call_id}.{len(notes) + 1}@decc.hartford.example"
        notes.append(NoteView(nid, Note(call_id, text, author, self.now)))
        self.set_call(call_id)

    # -- views for the feed --------------------------------------------------------------------

    def unit_view(self, team_id: str, call_id: str | None = None) -> UnitView:
        t = self.teams[team_id]
        cid = call_id or t.call
        when = self.dispatched.get(cid, {}).get(team_id) if cid else None
        return UnitView(t, self.positions.get(team_id), when, self.backup.get(team_id))

    def incident_parts(self, call_id: str) -> dict[str, Any]:
        call = self.calls[call_id]
        units = [self.unit_view(tid, call_id) for tid in call.teams if tid in self.teams]
        return {
            "call": call,
            "units": units,
            "notes": list(self.notes.get(call_id, ())),
            "persons": list(self.persons.get(call_id, ())),
            "escalation": self.escalations.get(call_id),
        }

    # -- the CAD's own steps -------------------------------------------------------------------

    def dispatch_team(self, call_id: str, team_id: str) -> None:
        call = self.calls[call_id]
        self.dispatched.setdefault(call_id, {})[team_id] = self.now
        teams = call.teams if team_id in call.teams else (*call.teams, team_id)
        self.set_call(
            call_id,
            status=CallStatus.ASSIGNED,
            team=team_id,
            teams=teams,
            dispatched_at=call.dispatched_at or self.now,
        )
        self._bump_epoch(team_id)
        self.set_team(team_id, status=TeamStatus.ASSIGNED, call=call_id, destination=None)
        self.after(self.rng.uniform(30, 120), self._en_route, call_id, team_id, team=team_id)

    def _en_route(self, call_id: str, team_id: str) -> None:
        call = self.calls[call_id]
        if not call.is_open or call.team != team_id:
            return
        self.set_call(call_id, status=CallStatus.EN_ROUTE, enroute_at=call.enroute_at or self.now)
        self.set_team(team_id, status=TeamStatus.EN_ROUTE)
        target = (call.lat or 41.765, call.lon or -72.675)
        self._drive(team_id, target, self._arrive, call_id, team_id)

    def _drive(
        self,
        team_id: str,
        target: tuple[float, float],
        then: Callable[..., None],
        *args: Any,
    ) -> None:
        pos = self.positions.get(team_id)
        lat0, lon0 = (pos.lat, pos.lon) if pos else target
        km = great_circle_km(lat0, lon0, target[0], target[1]) * CIRCUITY
        secs = max(60.0, km / CITY_KMH * 3600.0 * self.rng.uniform(0.85, 1.25))
        steps = max(1, int(secs // POSITION_EVERY_S))
        for k in range(1, steps):
            f = k / steps
            self.after(
                k * secs / steps,
                self.move,
                team_id,
                lat0 + (target[0] - lat0) * f,
                lon0 + (target[1] - lon0) * f,
                team=team_id,
            )
        self.after(secs, self._arrive_at, team_id, target, then, args, team=team_id)

    def _arrive_at(
        self,
        team_id: str,
        target: tuple[float, float],
        then: Callable[..., None],
        args: tuple[Any, ...],
    ) -> None:
        self.move(team_id, target[0], target[1])
        then(*args)

    def _arrive(self, call_id: str, team_id: str) -> None:
        call = self.calls[call_id]
        if not call.is_open or call.team != team_id:
            return
        self.set_call(call_id, status=CallStatus.ON_SCENE, onscene_at=call.onscene_at or self.now)
        self.set_team(team_id, status=TeamStatus.ON_SCENE, last_checkin=self.now)
        mean = CALL_MIX[call.type][2] * 60.0
        dur = max(300.0, self.rng.gammavariate(4.0, mean / 4.0))
        for k in range(1, int(dur // CHECKIN_EVERY_S) + 1):
            if self.rng.random() < 0.85:
                self.after(k * CHECKIN_EVERY_S, self._checkin, team_id, team=team_id)
        r = self.rng.random()
        if r < ESCALATE_ON_SCENE_RATE:
            target = self.rng.choice(
                [EscalationTarget.POLICE, EscalationTarget.EMS, EscalationTarget.MOBILE_CRISIS]
            )
            self.after(
                dur * 0.4, self._escalate, call_id, target, "escalated from the scene", team=team_id
            )
            return
        if r < ESCALATE_ON_SCENE_RATE + BACKUP_RATE:
            self.after(dur * 0.3, self._backup, team_id, True, team=team_id)
            self.after(dur * 0.3 + 600, self._backup, team_id, False, team=team_id)
        transport = call.transport_needed or self.rng.random() < CALL_MIX[call.type][3]
        if transport and self.teams[team_id].capabilities.has_vehicle:
            self.after(dur, self._transport, call_id, team_id, team=team_id)
        else:
            disp = self.rng.choice(
                [
                    Disposition.RESOLVED_ON_SCENE,
                    Disposition.RESOLVED_ON_SCENE,
                    Disposition.REFERRED,
                    Disposition.REFUSED_SERVICES,
                    Disposition.UNABLE_TO_LOCATE,
                ]
            )
            self.after(dur, self._clear, call_id, team_id, disp.value, team=team_id)

    def _checkin(self, team_id: str) -> None:
        if self.teams[team_id].status is TeamStatus.ON_SCENE:
            self.set_team(team_id, last_checkin=self.now)

    def _backup(self, team_id: str, on: bool) -> None:
        if on:
            self.backup[team_id] = self.now
        else:
            self.backup.pop(team_id, None)
        self.set_team(team_id)

    def _transport(self, call_id: str, team_id: str) -> None:
        name, lat, lon = self.rng.choice(DESTINATIONS)
        self.set_call(call_id, status=CallStatus.TRANSPORTING, destination=name)
        self.set_team(team_id, status=TeamStatus.TRANSPORTING, destination=name)
        self._drive(team_id, (lat, lon), self._at_destination, call_id, team_id)

    def _at_destination(self, call_id: str, team_id: str) -> None:
        self.set_team(team_id, status=TeamStatus.AT_DESTINATION)
        self.after(
            self.rng.uniform(300, 900),
            self._clear,
            call_id,
            team_id,
            Disposition.TRANSPORTED.value,
            team=team_id,
        )

    def _clear(self, call_id: str, team_id: str | None, disposition: str) -> None:
        call = self.calls[call_id]
        if call.is_open:
            self.set_call(
                call_id,
                status=CallStatus.CLEARED,
                cleared_at=call.cleared_at or self.now,
                disposition=disposition,
            )
        if team_id is not None:
            self._release(team_id)

    def _release(self, team_id: str) -> None:
        self._bump_epoch(team_id)
        self.backup.pop(team_id, None)
        self.set_team(team_id, status=TeamStatus.AVAILABLE, call=None, destination=None)

    def _escalate(self, call_id: str, target: EscalationTarget, reason: str) -> bool:
        call = self.calls.get(call_id)
        if call is None or not call.is_open:
            return False
        self.escalations[call_id] = Escalation(target, self.now, reason)
        handed = {
            EscalationTarget.POLICE: Disposition.HANDED_TO_POLICE,
            EscalationTarget.EMS: Disposition.HANDED_TO_EMS,
            EscalationTarget.MOBILE_CRISIS: Disposition.HANDED_TO_MOBILE_CRISIS,
            EscalationTarget.CO_RESPONSE: Disposition.HANDED_TO_POLICE,
        }[target]
        self.set_call(
            call_id,
            status=CallStatus.ESCALATED,
            escalated_to=target,
            disposition=handed.value,
            cleared_at=call.cleared_at or self.now,
        )
        for tid in call.teams:
            t = self.teams.get(tid)
            if t is not None and t.call == call_id and t.status.busy:
                self._release(tid)
        return True

    # -- commands ------------------------------------------------------------------------------

    def apply_command(self, key: str, kind: str, args: Mapping[str, Any]) -> CommandOutcome:
        """Apply a console command once; the same key again gets the first answer."""
        done = self.answers.get(key)
        if done is not None:
            return replace(done, applied=False)
        self.command_kinds[key] = kind
        try:
            accepted, text, call_id = self._command(kind, args)
        except (KeyError, TypeError, ValueError) as exc:
            accepted, text, call_id = False, f"malformed {kind} command: {exc}", None
        if accepted:
            self.applied[key] = self.applied.get(key, 0) + 1
        version = self.calls[call_id].version if call_id and call_id in self.calls else None
        out = CommandOutcome(accepted, text, call_id, version, self.now)
        self.answers[key] = out
        return out

    def _command(self, kind: str, a: Mapping[str, Any]) -> tuple[bool, str, str | None]:
        cid = a.get("call_id")
        tid = a.get("team_id")
        call = self.calls.get(cid) if cid else None
        team = self.teams.get(tid) if tid else None
        if cid and call is None:
            return False, f"no call {cid} at dispatch", cid
        if tid and team is None:
            return False, f"no team {tid} at dispatch", cid
        ev = a.get("expected_version")
        if call is not None and isinstance(ev, int) and ev != call.version and kind != "note":
            return (
                False,
                f"{cid} changed meanwhile (now {call.status.value}, version {call.version})",
                cid,
            )
        if kind in ("assign", "reassign"):
            assert call is not None and team is not None
            if not call.is_open:
                return False, f"{cid} was {call.status.value} meanwhile", cid
            screen = safety_screen(call)
            if not screen.civilian_ok:
                return False, screen.message, cid
            if kind == "assign" and call.team is not None and call.status is not CallStatus.PENDING:
                return False, f"{cid} already has {call.team}", cid
            if kind == "reassign":
                if call.status in (CallStatus.ON_SCENE, CallStatus.TRANSPORTING):
                    return False, f"{call.team} is already on scene at {cid}", cid
                if call.team == tid:
                    return False, f"{tid} is already on {cid}", cid
            why = ineligibility(call, team)
            if why:
                return False, f"{tid} cannot take {cid}: {'; '.join(why)}", cid
            if kind == "reassign" and call.team and call.team in self.teams:
                old = self.teams[call.team]
                if old.call == cid:
                    self._release(call.team)
            self.dispatch_team(cid, tid)  # type: ignore[arg-type]
            return True, f"{tid} dispatched to {cid}", cid
        if kind == "escalate":
            assert call is not None
            if not call.is_open:
                return False, f"{cid} was {call.status.value} meanwhile", cid
            target = EscalationTarget(a["target"])
            self._escalate(call.id, target, str(a.get("reason") or ""))
            return True, f"{cid} handed to {target.value.replace('_', ' ')}", cid
        if kind == "change_priority":
            assert call is not None
            p = int(a["priority"])
            if p not in (1, 2, 3):
                return False, f"priority must be 1, 2 or 3, not {p}", cid
            if not call.is_open:
                return False, f"{cid} was {call.status.value} meanwhile", cid
            self.set_call(call.id, priority=p)
            return True, f"{cid} is now priority {p}", cid
        if kind == "note":
            assert call is not None
            text = str(a.get("text") or "").strip()
            if not text:
                return False, "empty note", cid
            self.add_note(call.id, text, str(a.get("operator") or "console"))
            return True, f"note added to {cid}", cid
        if kind == "team_service":
            assert team is not None
            if a.get("in_service"):
                if team.status not in (TeamStatus.OUT_OF_SERVICE, TeamStatus.OFF_DUTY):
                    return False, f"{tid} is already in service", None
                self.set_team(team.id, status=TeamStatus.AVAILABLE)
                return True, f"{tid} back in service", None
            if team.status.busy:
                return False, f"{tid} is working {team.call}", None
            if team.status is TeamStatus.OUT_OF_SERVICE:
                return False, f"{tid} is already out of service", None
            self.set_team(team.id, status=TeamStatus.OUT_OF_SERVICE)
            return True, f"{tid} out of service", None
        if kind == "request_checkin":
            assert team is not None
            if not team.status.on_duty:
                return False, f"{tid} is {team.status.value.replace('_', ' ')}", None
            self.set_team(team.id, last_checkin=self.now)
            return True, f"{tid} checked in", None
        if kind == "set_destination":
            assert call is not None and team is not None
            where = str(a.get("destination_name") or a["destination_id"])
            if not call.is_open:
                return False, f"{cid} was {call.status.value} meanwhile", cid
            if team.call != cid:
                return False, f"{tid} is not on {cid}", cid
            self.set_call(call.id, destination=where)
            self.set_team(team.id, destination=where)
            return True, f"{tid} to take the person from {cid} to {where}", cid
        return False, f"dispatch does not know the command {kind!r}", cid


# -- a generated shift -------------------------------------------------------------------------


AVL_INTERVAL_S = 120.0
"""Simulated seconds between two location reports of a team that has not moved."""


class GeneratedShift:
    """Calls arriving by the hour-of-day profile; the CAD dispatches the nearest eligible team."""

    def __init__(
        self,
        world: World,
        teams: list[TeamSpec],
        *,
        rate_per_hour: float = DEFAULT_RATE_PER_HOUR,
        surge: float = 1.0,
        duration_h: float | None = None,
    ) -> None:
        self.w = world
        self.rate = max(rate_per_hour, 1e-6) * surge
        for spec in teams:
            world.add_team(spec)
        if duration_h is not None:
            world.end = world.start + timedelta(hours=duration_h)
        self._schedule_arrival()
        world.after(AVL_INTERVAL_S, self._avl)

    def _avl(self) -> None:
        """Vehicle location reports: an on-duty team reports where it is every couple of minutes,
        moving or not, as real AVL does — a silent position means a problem, not a parked van."""
        w = self.w
        for tid, team in w.teams.items():
            pos = w.positions.get(tid)
            if pos is None or not team.status.on_duty:
                continue
            if (w.now - pos.at).total_seconds() >= AVL_INTERVAL_S:
                w.move(tid, pos.lat, pos.lon)
        w.after(AVL_INTERVAL_S, self._avl)

    def _rate_at(self, t: datetime) -> float:
        mean = sum(HOURLY_PROFILE) / len(HOURLY_PROFILE)
        return self.rate * HOURLY_PROFILE[t.hour] / mean

    def _schedule_arrival(self) -> None:
        w = self.w
        lam_max = self.rate * max(HOURLY_PROFILE) / (sum(HOURLY_PROFILE) / len(HOURLY_PROFILE))
        t = w.now
        while True:  # thinning for a non-homogeneous Poisson process
            t += timedelta(hours=w.rng.expovariate(lam_max))
            if w.rng.random() <= self._rate_at(t) / lam_max:
                break
        w.at(t, self._arrival)

    def _arrival(self) -> None:
        w = self.w
        rng = w.rng
        self._schedule_arrival()
        nb, lat0, lon0 = rng.choice(NEIGHBORHOODS)
        lat = round(lat0 + rng.uniform(-0.004, 0.004), 6)
        lon = round(lon0 + rng.uniform(-0.005, 0.005), 6)
        address = f"{rng.randint(10, 1999)} {rng.choice(STREETS)}"
        escalate_to: EscalationTarget | None = None
        if rng.random() < UNSAFE_RATE:
            code, ctype, flags, escalate_to = rng.choice(UNSAFE_TYPES)
            priority = 1
        else:
            types = list(CALL_MIX)
            ctype = rng.choices(types, weights=[CALL_MIX[c][0] for c in types])[0]
            code = rng.choice(CALL_MIX[ctype][4])
            priority = rng.choices((1, 2, 3), weights=CALL_MIX[ctype][1])[0]
            flags = ()
        call = Call(
            id=w.new_call_id(),
            status=CallStatus.PENDING,
            priority=priority,
            type=ctype,
            received_at=w.now,
            updated_at=w.now,
            safety_flags=tuple(f for f in SafetyFlag if f in flags),
            lat=lat,
            lon=lon,
            address=address,
            neighborhood=nb,
            juvenile=ctype is CallType.JUVENILE,
            language="es" if rng.random() < SPANISH_RATE else None,
            transport_needed=ctype is CallType.TRANSPORT,
            transport_seats=1,
            summary=f"{ctype.label} reported near {address}",
            source_type=code,
        )
        caller = Person(
            "Caller",
            rng.choice(["Ana", "Luis", "Maria", "James", "Keisha", "Tom"]),
            rng.choice(["R.", "S.", "M.", "T."]),
            str(rng.randint(16, 80)),
        )
        w.open_call(call, [caller])
        if escalate_to is not None:
            w.after(
                rng.uniform(30, 150), w._escalate, call.id, escalate_to, "fails the safety screen"
            )
            return
        delay = {1: (45, 150), 2: (90, 360), 3: (180, 900)}[priority]
        w.after(rng.uniform(*delay), self._auto_dispatch, call.id)

    def _auto_dispatch(self, call_id: str) -> None:
        w = self.w
        call = w.calls[call_id]
        if call.status is not CallStatus.PENDING:
            return  # someone (a supervisor's command) acted first
        best: tuple[float, str] | None = None
        for t in w.teams.values():
            if t.status is not TeamStatus.AVAILABLE or ineligibility(call, t):
                continue
            p = w.positions.get(t.id)
            d = great_circle_km(p.lat, p.lon, call.lat or 0, call.lon or 0) if p else math.inf
            if best is None or (d, t.id) < best:
                best = (d, t.id)
        if best is None:
            w.after(120, self._auto_dispatch, call_id)
            return
        w.dispatch_team(call_id, best[1])
