"""Check-in timers that follow the risk, and the ladder a missed check-in climbs.

The interval a team on scene has before its check-in is overdue comes from the site's policy:
rules by call type, setting (private residence or public place, from the call's location type),
time of night, team size and caution flags; the strictest (shortest) rule that matches applies
and is named, so the team board can say why. With no rule matching, the site's one interval
(``thresholds.checkin_interval_s``) applies, as before.

A missed check-in then climbs the site's ladder: each step is due a number of seconds after the
check-in became overdue (e.g. request a check-in from dispatch at once, ask the supervisor to
call the team after 5 minutes, a police welfare check after 10). A check-in received moves the
team's last check-in on, which ends that ladder. Pure: the console acts on the steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo

from .commands import CommandRecord, RequestCheckin
from .events import Alert, AlertKind, Severity
from .model import Call, Team, TeamStatus

SETTINGS = ("private", "public")
"""Where a call is: a private residence or a public place (from its location type code)."""

REQUEST_CHECKIN = "request_checkin"
CALL_TEAM = "call_team"
WELFARE_CHECK = "welfare_check"
LADDER_ACTIONS = (REQUEST_CHECKIN, CALL_TEAM, WELFARE_CHECK)
LADDER_LABELS = {
    REQUEST_CHECKIN: "request a check-in from dispatch",
    CALL_TEAM: "supervisor calls the team",
    WELFARE_CHECK: "ask police for a welfare check",
}


@dataclass(frozen=True, slots=True)
class CheckinRule:
    """One line of the policy: every condition given must hold (an empty one always does)."""

    interval_s: float
    name: str = ""
    call_types: frozenset[str] = frozenset()
    setting: str = ""
    """``private``, ``public`` or "" (either, or not known)."""
    night: bool | None = None
    """True: only at night; False: only by day; None: any time."""
    max_team_size: int | None = None
    """Only for teams of at most this many people (e.g. 1: a responder alone)."""
    caution: bool | None = None
    """True: only for a call with a safety flag or a caution from dispatch."""

    def matches(self, facts: CheckinFacts) -> bool:
        if self.call_types and facts.call_type not in self.call_types:
            return False
        if self.setting and facts.setting != self.setting:
            return False
        if self.night is not None and facts.night != self.night:
            return False
        if self.max_team_size is not None and facts.team_size > self.max_team_size:
            return False
        return self.caution is None or facts.caution == self.caution

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = []
        if self.call_types:
            parts.append("/".join(sorted(self.call_types)))
        if self.setting:
            parts.append(f"{self.setting} setting")
        if self.night is not None:
            parts.append("night" if self.night else "day")
        if self.max_team_size is not None:
            parts.append(f"team of {self.max_team_size} or fewer")
        if self.caution:
            parts.append("caution flag")
        return ", ".join(parts) or "every call"


@dataclass(frozen=True, slots=True)
class CheckinFacts:
    """What the policy looks at for one team on one call."""

    call_type: str = ""
    setting: str = ""
    night: bool = False
    team_size: int = 2
    caution: bool = False


@dataclass(frozen=True, slots=True)
class LadderStep:
    after_s: float
    """Seconds after the check-in became overdue."""
    action: str

    @property
    def label(self) -> str:
        return LADDER_LABELS.get(self.action, self.action)


@dataclass(frozen=True, slots=True)
class CheckinPolicy:
    """The site's check-in policy (``[checkin]`` and ``[teams]`` in the configuration)."""

    rules: tuple[CheckinRule, ...] = ()
    night_start: time = time(22, 0)
    night_end: time = time(6, 0)
    tz: tzinfo | None = None
    """The site's time zone for "night"; None: the console machine's local time."""
    private_location_types: frozenset[str] = frozenset()
    public_location_types: frozenset[str] = frozenset()
    team_sizes: Mapping[str, int] = field(default_factory=dict)
    default_team_size: int = 2
    contacts: Mapping[str, str] = field(default_factory=dict)
    """Team id -> how the supervisor reaches the team (a phone number)."""
    ladder: tuple[LadderStep, ...] = ()


@dataclass(frozen=True, slots=True)
class Interval:
    seconds: float
    rule: str
    """What set it: a rule's name, or "site default"."""

    @property
    def text(self) -> str:
        return f"check-in every {self.seconds / 60:g} min ({self.rule})"


def setting_of(call: Call | None, policy: CheckinPolicy) -> str:
    if call is None:
        return ""
    for kind, code in call.codes:
        if kind == "location_type":
            if code in policy.private_location_types:
                return "private"
            if code in policy.public_location_types:
                return "public"
    return ""


def is_night(when: datetime, policy: CheckinPolicy) -> bool:
    local = when.astimezone(policy.tz) if policy.tz is not None else when.astimezone()
    t = local.time().replace(tzinfo=None)
    s, e = policy.night_start, policy.night_end
    if s == e:
        return False
    return s <= t < e if s < e else (t >= s or t < e)


def facts_for(team: Team, call: Call | None, now: datetime, policy: CheckinPolicy) -> CheckinFacts:
    caution = call is not None and (
        bool(call.safety_flags) or any(k == "caution" for k, _ in call.codes)
    )
    return CheckinFacts(
        call_type=call.type.value if call is not None else "",
        setting=setting_of(call, policy),
        night=is_night(now, policy),
        team_size=policy.team_sizes.get(team.id, policy.default_team_size),
        caution=caution,
    )


def interval_for(
    team: Team, call: Call | None, policy: CheckinPolicy, default_s: float
) -> Interval:
    """The check-in interval for ``team`` on ``call``: the shortest rule that matches, else
    the site's default. Night or day is judged when the team's check-in clock started, so an
    interval does not change under a waiting team."""
    facts = facts_for(team, call, checkin_since(team), policy)
    best = Interval(default_s, "site default")
    for r in policy.rules:
        if r.matches(facts) and r.interval_s < best.seconds:
            best = Interval(r.interval_s, r.label)
    return best


def checkin_since(team: Team) -> datetime:
    """When the team's check-in clock started: its last check-in or the status that began it."""
    return max(x for x in (team.last_checkin, team.status_since, team.updated_at) if x is not None)


# -- the ladder ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueStep:
    team_id: str
    call_id: str | None
    index: int
    step: LadderStep
    missed_since: datetime
    """When the check-in became overdue (the same for every step of one ladder)."""
    due_at: datetime
    contact: str = ""

    @property
    def id(self) -> str:
        """Stable per team, missed check-in and step: done once, never again."""
        return f"{self.team_id}:{self.missed_since.isoformat()}:{self.index}"


def ladder_due(
    teams: Iterable[Team],
    calls: Mapping[str, Call],
    now: datetime,
    policy: CheckinPolicy,
    default_s: float,
) -> list[DueStep]:
    """Every ladder step due at ``now`` for teams on scene whose check-in is overdue."""
    if not policy.ladder:
        return []
    out: list[DueStep] = []
    for t in teams:
        if t.status is not TeamStatus.ON_SCENE:
            continue
        call = calls.get(t.call) if t.call else None
        since = checkin_since(t)
        interval = interval_for(t, call, policy, default_s)
        missed = since.timestamp() + interval.seconds
        for i, step in enumerate(policy.ladder):
            due_ts = missed + step.after_s
            if now.timestamp() > due_ts:
                out.append(
                    DueStep(
                        t.id,
                        t.call,
                        i,
                        step,
                        datetime.fromtimestamp(missed, tz=since.tzinfo),
                        datetime.fromtimestamp(due_ts, tz=since.tzinfo),
                        policy.contacts.get(t.id, ""),
                    )
                )
    return out


def ladder_alerts(steps: Iterable[DueStep]) -> list[Alert]:
    """The steps that ask the supervisor to act, as alerts (the latest step of each team)."""
    latest: dict[str, DueStep] = {}
    for s in steps:
        if s.step.action == REQUEST_CHECKIN:
            continue
        if s.team_id not in latest or s.index > latest[s.team_id].index:
            latest[s.team_id] = s
    out = []
    for s in latest.values():
        on = f" at {s.call_id}" if s.call_id else ""
        if s.step.action == CALL_TEAM:
            reach = f" on {s.contact}" if s.contact else " (no contact number configured)"
            msg = f"{s.team_id}{on} missed its check-in: call the team{reach}"
        else:
            msg = f"{s.team_id}{on} missed its check-in: ask police for a welfare check"
        out.append(
            Alert(
                f"checkin_escalation:{s.id}",
                AlertKind.CHECKIN_ESCALATION,
                Severity.HIGH,
                s.team_id,
                msg,
                s.due_at,
            )
        )
    return out


def checkin_requested(commands: Iterable[CommandRecord], team_id: str, since: datetime) -> bool:
    """Whether a check-in was asked of ``team_id`` (by any console) at or after ``since``: the
    ladder's first step is then taken already."""
    return any(
        isinstance(r.command, RequestCheckin)
        and r.command.team_id == team_id
        and r.requested_at is not None
        and r.requested_at >= since
        for r in commands
    )
