"""The program's rules, each a pure function that gives its reasons.

Safety first: a call flagged unsafe is never eligible for a civilian team. Then eligibility
(what the call needs against what a team brings), a recommendation ranked by estimated time of
arrival, and the timers behind the alerts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo

from .checkin import CheckinPolicy, Interval, checkin_since, interval_for
from .commands import (
    AddNote,
    AssignTeam,
    ChangePriority,
    Command,
    CommandRejected,
    EscalateCall,
    ReassignCall,
    RequestCheckin,
    SetDestination,
    SetTeamService,
)
from .events import Alert, AlertKind, Severity
from .model import (
    PRIORITIES,
    Call,
    CallStatus,
    CallType,
    EscalationTarget,
    Position,
    SafetyFlag,
    Team,
    TeamStatus,
)

# -- parameters (filled from configuration) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Seconds before a timer becomes an alert."""

    pending_s: Mapping[int, float] = field(default_factory=lambda: {1: 120.0, 2: 600.0, 3: 1800.0})
    pending_by_type_s: Mapping[str, float] = field(default_factory=dict)
    """Per call type override (e.g. ``overdose``: 60)."""
    checkin_interval_s: float = 1800.0
    """The check-in interval when no rule of ``checkin`` matches."""
    position_stale_s: float = 300.0
    checkin: CheckinPolicy = field(default_factory=CheckinPolicy)
    """The site's check-in policy (rules by risk, the missed check-in ladder)."""

    def checkin_interval(self, team: Team, call: Call | None) -> Interval:
        return interval_for(team, call, self.checkin, self.checkin_interval_s)

    def pending_limit(self, call: Call) -> float:
        by_type = self.pending_by_type_s.get(call.type.value)
        if by_type is not None:
            return by_type
        return self.pending_s.get(call.priority, max(self.pending_s.values(), default=600.0))


@dataclass(frozen=True, slots=True)
class RecommendationFactors:
    circuity: float = 1.4
    """Road distance / great-circle distance in the city."""
    speed_kmh: float = 30.0
    """Average driving speed across the city."""
    workload_tiebreak_s: float = 60.0
    """ETAs within this many seconds count as a tie, broken by calls worked this shift."""


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """When an escalation partner (e.g. the state mobile-crisis team) takes calls."""

    start: time = time(0, 0)
    end: time = time(23, 59, 59)
    tz: tzinfo | None = None
    """The hours' time zone; None: the console machine's local time (the center's)."""

    def open_at_instant(self, when: datetime) -> bool:
        """Whether the partner takes calls at this instant, judged in the hours' own zone."""
        local = when.astimezone(self.tz) if self.tz is not None else when.astimezone()
        return self.open_at(local.time().replace(tzinfo=None))

    def open_at(self, t: time) -> bool:
        """Whether ``t`` falls in the hours, to the second: an end of ``23:59:59`` (the
        configuration's ``24:00``) covers the day's last second whole."""
        t = t.replace(microsecond=0)
        if self.start <= self.end:
            return self.start <= t <= self.end
        return t >= self.start or t <= self.end  # spans midnight


# -- safety screen ------------------------------------------------------------------------------

_FLAG_ADVICE: dict[SafetyFlag, tuple[str, EscalationTarget]] = {
    SafetyFlag.WEAPON: ("a weapon is reported", EscalationTarget.POLICE),
    SafetyFlag.VIOLENCE: ("violence is reported", EscalationTarget.POLICE),
    SafetyFlag.THREAT_TO_OTHERS: ("a threat to others is reported", EscalationTarget.POLICE),
    SafetyFlag.MEDICAL_EMERGENCY: ("a medical emergency is reported", EscalationTarget.EMS),
}


@dataclass(frozen=True, slots=True)
class ScreenResult:
    civilian_ok: bool
    flags: tuple[SafetyFlag, ...]
    reasons: tuple[str, ...]
    escalate_to: tuple[EscalationTarget, ...]
    needs_screening: bool = False
    """Dispatch sent something the console cannot judge (a type or caution nobody mapped): the
    supervisor screens the call; no civilian team is recommended or assigned meanwhile."""

    @property
    def message(self) -> str:
        if self.civilian_ok:
            return "No safety flags: a civilian team may respond."
        if not self.escalate_to:
            return f"Not for a civilian team until screened: {'; '.join(self.reasons)}."
        targets = " or ".join(t.value.replace("_", " ") for t in self.escalate_to)
        return f"Not for a civilian team: {'; '.join(self.reasons)}. Escalate to {targets}."


def _unscreened(call: Call) -> list[str]:
    """What dispatch said that the console cannot judge for safety (empty: nothing)."""
    why: list[str] = []
    if call.type is CallType.UNRECOGNISED:
        why.append(f"dispatch's call type {call.source_type or '(none)'!r} is not recognised")
    why.extend(
        f"dispatch's caution {code!r} is not recognised"
        for kind, code in call.codes
        if kind == "caution"
    )
    return why


def safety_screen(call: Call) -> ScreenResult:
    unscreened = _unscreened(call)
    if not call.safety_flags and not unscreened:
        return ScreenResult(True, (), (), ())
    reasons: list[str] = list(unscreened)
    targets: list[EscalationTarget] = []
    for f in call.safety_flags:
        why, target = _FLAG_ADVICE[f]
        reasons.append(why)
        if target not in targets:
            targets.append(target)
    return ScreenResult(
        False, tuple(call.safety_flags), tuple(reasons), tuple(targets), bool(unscreened)
    )


# -- eligibility -------------------------------------------------------------------------------


def ineligibility(call: Call, team: Team) -> list[str]:
    """Why ``team`` may not take ``call`` (empty: it may). Safety is screened separately."""
    why: list[str] = []
    st = team.status
    if st is TeamStatus.OFF_DUTY:
        why.append("off duty")
    elif st is TeamStatus.OUT_OF_SERVICE:
        why.append("out of service")
    elif st.busy and team.call != call.id:
        why.append(f"busy on {team.call}" if team.call else f"busy ({st.value.replace('_', ' ')})")
    why.extend(capability_gaps(call, team))
    return why


def capability_gaps(call: Call, team: Team) -> list[str]:
    """What ``call`` needs that ``team`` does not bring (youth, language, Narcan, seats),
    whatever the team is doing now (empty: it could take the call when free)."""
    why: list[str] = []
    caps = team.capabilities
    if call.juvenile and not caps.juvenile_certified:
        why.append("not youth-certified (juvenile subject)")
    if call.language and call.language not in caps.languages:
        why.append(f"no {call.language} speaker")
    if call.type.value == "overdose" and not caps.narcan:
        why.append("carries no Narcan (suspected overdose)")
    if call.transport_needed:
        if not caps.has_vehicle:
            why.append("no transport vehicle")
        elif caps.vehicle_seats < call.transport_seats:
            why.append(f"{caps.vehicle_seats} seat(s), {call.transport_seats} needed")
    return why


# -- recommendation ----------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def eta_seconds(pos: Position | None, call: Call, factors: RecommendationFactors) -> float | None:
    if pos is None or call.lat is None or call.lon is None:
        return None
    km = great_circle_km(pos.lat, pos.lon, call.lat, call.lon) * factors.circuity
    return km / factors.speed_kmh * 3600.0


@dataclass(frozen=True, slots=True)
class Candidate:
    team_id: str
    eta_s: float | None
    calls_this_shift: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recommendation:
    call_id: str
    screen: ScreenResult
    ranked: tuple[Candidate, ...]
    ineligible: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked and self.screen.civilian_ok else None


def _describe(team: Team, eta: float | None, workload: int) -> tuple[str, ...]:
    caps = team.capabilities
    parts = [f"{eta / 60:.1f} min away" if eta is not None else "position unknown"]
    if caps.narcan:
        parts.append("carries Narcan")
    if caps.juvenile_certified:
        parts.append("youth-certified")
    if caps.has_vehicle:
        parts.append(f"van, {caps.vehicle_seats} seats")
    other = [lang for lang in caps.languages if lang != "en"]
    if other:
        parts.append("speaks " + ", ".join(other))
    parts.append(f"{workload} call{'s' if workload != 1 else ''} this shift")
    return tuple(parts)


def recommend(
    call: Call,
    teams: Iterable[Team],
    positions: Mapping[str, Position],
    workload: Mapping[str, int],
    factors: RecommendationFactors = RecommendationFactors(),
) -> Recommendation:
    """Eligible teams ranked by ETA (workload breaks near-ties); ineligible ones with why not."""
    screen = safety_screen(call)
    ranked: list[tuple[float, int, str, Candidate]] = []
    out: list[tuple[str, tuple[str, ...]]] = []
    for team in sorted(teams, key=lambda t: t.id):
        why = ineligibility(call, team)
        if team.call == call.id and team.status.busy:
            why.append("already on this call")
        if not screen.civilian_ok:
            why.insert(0, "call fails the safety screen")
        if why:
            out.append((team.id, tuple(why)))
            continue
        eta = eta_seconds(positions.get(team.id), call, factors)
        load = workload.get(team.id, 0)
        bucket = math.inf if eta is None else eta // max(factors.workload_tiebreak_s, 1.0)
        ranked.append(
            (bucket, load, team.id, Candidate(team.id, eta, load, _describe(team, eta, load)))
        )
    ranked.sort(
        key=lambda r: (r[0], r[1], r[3].eta_s if r[3].eta_s is not None else math.inf, r[2])
    )
    return Recommendation(call.id, screen, tuple(r[3] for r in ranked), tuple(out))


# -- timers -> alerts ----------------------------------------------------------------------------


def timer_alerts(
    calls: Iterable[Call],
    teams: Iterable[Team],
    positions: Mapping[str, Position],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
    all_calls: Mapping[str, Call] | None = None,
) -> list[Alert]:
    """Alerts that follow from time passing: pending too long, check-in overdue, stale position.

    ``all_calls``: the calls teams are on (for the check-in policy; default: ``calls``)."""
    alerts: list[Alert] = []
    if all_calls is None:
        calls = list(calls)
        all_calls = {c.id: c for c in calls}
    for c in calls:
        if c.status is CallStatus.PENDING:
            waited = (now - c.received_at).total_seconds()
            limit = thresholds.pending_limit(c)
            if waited > limit:
                alerts.append(
                    Alert(
                        f"pending_overdue:{c.id}",
                        AlertKind.PENDING_OVERDUE,
                        Severity.HIGH if c.priority == 1 else Severity.MEDIUM,
                        c.id,
                        f"{c.id} (P{c.priority} {c.type.label}) pending {waited / 60:.0f} min, "
                        f"limit {limit / 60:.0f} min",
                        c.received_at,
                    )
                )
    for t in teams:
        if t.status is TeamStatus.ON_SCENE:
            since = checkin_since(t)
            gap = (now - since).total_seconds()
            interval = thresholds.checkin_interval(t, all_calls.get(t.call) if t.call else None)
            if gap > interval.seconds:
                alerts.append(
                    Alert(
                        f"checkin_overdue:{t.id}:{since.isoformat()}",
                        AlertKind.CHECKIN_OVERDUE,
                        Severity.HIGH,
                        t.id,
                        f"{t.id} on scene at {t.call} with no check-in for {gap / 60:.0f} min "
                        f"({interval.text})",
                        since,
                    )
                )
        if t.status.on_duty:
            pos = positions.get(t.id)
            if pos is not None and (now - pos.at).total_seconds() > thresholds.position_stale_s:
                alerts.append(
                    Alert(
                        f"position_stale:{t.id}:{pos.at.isoformat()}",
                        AlertKind.POSITION_STALE,
                        Severity.LOW,
                        t.id,
                        f"{t.id} position is {(now - pos.at).total_seconds() / 60:.0f} min old",
                        pos.at,
                    )
                )
    return alerts


def is_stale(pos: Position | None, now: datetime, thresholds: Thresholds = Thresholds()) -> bool:
    return pos is None or (now - pos.at).total_seconds() > thresholds.position_stale_s


# -- command validation --------------------------------------------------------------------------


def validate_command(
    command: Command,
    calls: Mapping[str, Call],
    teams: Mapping[str, Team],
    *,
    mobile_crisis_hours: ServiceHours | None = None,
    now: datetime | None = None,
) -> None:
    """Refuse, before anything is sent, a command the rules forbid (CommandRejected says why)."""
    call = calls.get(command.call_id) if command.call_id else None
    if command.call_id and call is None:
        raise CommandRejected(f"unknown call {command.call_id}")
    team = teams.get(command.team_id) if command.team_id else None
    if command.team_id and team is None:
        raise CommandRejected(f"unknown team {command.team_id}")
    if call is not None and command.expected_version is not None:
        if call.version != command.expected_version:
            raise CommandRejected(
                f"{call.id} changed meanwhile (now {call.status.value}, priority {call.priority}); "
                "review it and try again"
            )
    if isinstance(command, AssignTeam | ReassignCall):
        assert call is not None and team is not None
        if not call.is_open:
            raise CommandRejected(f"{call.id} is closed ({call.status.value})")
        screen = safety_screen(call)
        if not screen.civilian_ok:
            raise CommandRejected(screen.message)
        if isinstance(command, ReassignCall):
            if not command.reason.strip():
                raise CommandRejected("a reason is required to reassign a call")
            if call.team is None:
                raise CommandRejected(f"{call.id} has no team to reassign from; assign it instead")
            if call.team == team.id:
                raise CommandRejected(f"{team.id} is already on {call.id}")
            if call.status in (CallStatus.ON_SCENE, CallStatus.TRANSPORTING):
                raise CommandRejected(
                    f"{call.team} is already {call.status.value.replace('_', ' ')} at {call.id}"
                )
        elif call.team is not None and call.status is not CallStatus.PENDING:
            raise CommandRejected(f"{call.id} already has {call.team}; use reassign")
        why = ineligibility(call, team)
        if why:
            raise CommandRejected(f"{team.id} cannot take {call.id}: {'; '.join(why)}")
    elif isinstance(command, EscalateCall):
        assert call is not None
        if not call.is_open:
            raise CommandRejected(f"{call.id} is closed ({call.status.value})")
        if not command.reason.strip():
            raise CommandRejected("a reason is required to escalate a call")
        if command.urgency not in ("immediate", "normal"):
            raise CommandRejected(f"urgency must be immediate or normal, not {command.urgency!r}")
        if (
            command.target is EscalationTarget.MOBILE_CRISIS
            and mobile_crisis_hours is not None
            and now is not None
            and not mobile_crisis_hours.open_at_instant(now)
        ):
            raise CommandRejected(
                "mobile crisis is closed now (hours "
                f"{mobile_crisis_hours.start:%H:%M}-{mobile_crisis_hours.end:%H:%M}); "
                "escalate to police or EMS, or co-response"
            )
    elif isinstance(command, ChangePriority):
        assert call is not None
        if command.priority not in PRIORITIES:
            raise CommandRejected(f"priority must be 1, 2 or 3, not {command.priority}")
        if not call.is_open:
            raise CommandRejected(f"{call.id} is closed ({call.status.value})")
        if command.priority == call.priority:
            raise CommandRejected(f"{call.id} is already priority {call.priority}")
    elif isinstance(command, AddNote):
        if not command.text.strip():
            raise CommandRejected("a note cannot be empty")
    elif isinstance(command, SetTeamService):
        assert team is not None
        if not command.in_service and team.status.busy:
            raise CommandRejected(f"{team.id} is working {team.call}; clear or reassign it first")
        if command.in_service and team.status is TeamStatus.AVAILABLE:
            raise CommandRejected(f"{team.id} is already in service")
        if not command.in_service and team.status is TeamStatus.OUT_OF_SERVICE:
            raise CommandRejected(f"{team.id} is already out of service")
    elif isinstance(command, RequestCheckin):
        assert team is not None
        if not team.status.on_duty:
            raise CommandRejected(f"{team.id} is {team.status.value.replace('_', ' ')}")
    elif isinstance(command, SetDestination):
        assert call is not None and team is not None
        if not command.destination_id.strip():
            raise CommandRejected("choose a destination")
        if not call.is_open:
            raise CommandRejected(f"{call.id} is closed ({call.status.value})")
        if team.call != call.id or not team.status.busy:
            raise CommandRejected(f"{team.id} is not working {call.id}")


def calls_this_shift(assignments: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Calls per team from (call, team) assignment pairs."""
    out: dict[str, int] = {}
    for _call, team in assignments:
        out[team] = out.get(team, 0) + 1
    return out
