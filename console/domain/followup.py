"""When a call calls for a follow-up, who owns it and when it is due; overdue ones as alerts.

A follow-up is due for a call cleared with a disposition that needs one (referred, refused
services, unable to locate, transported), for a call whose recorded outcome needs one, and for
an eligible call that arrived outside the program's hours or went unserved. One opened by these
rules is named after its call (``FU-<call id>``) and its due time and owner follow from the
call alone, so the sync service and every console open the same follow-up (the fold keeps the
first opening). Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .commands import OpenFollowUp
from .events import Alert, AlertKind, FollowUpOpened, Severity, Source
from .model import Call, CallStatus, Disposition, Team
from .program import DEFAULT_FOLLOWUP_DUE, FOLLOWUP_OUTCOMES, FollowUp, Outcome
from .rules import ServiceHours, safety_screen

FOLLOWUP_DISPOSITIONS = frozenset(
    {
        Disposition.REFERRED.value,
        Disposition.REFUSED_SERVICES.value,
        Disposition.UNABLE_TO_LOCATE.value,
        Disposition.TRANSPORTED.value,
    }
)
"""Dispatch's dispositions that call for a follow-up by default."""

OUTSIDE_HOURS = "outside_hours"
UNSERVED = "unserved"
MANUAL = "manual"

AUTO_OPERATOR = "console"
"""The operator named on a follow-up the sync service opened by these rules."""


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """The site's follow-up rules (``[followup]`` and ``[program_hours]`` in the configuration)."""

    due: timedelta = DEFAULT_FOLLOWUP_DUE
    due_by_cause: Mapping[str, timedelta] = field(default_factory=dict)
    """Per cause (a disposition, an outcome, ``outside_hours``, ``unserved``) override."""
    default_owner: str = "program"
    """Owner when the call's team is unknown or has no provider."""
    dispositions: frozenset[str] = FOLLOWUP_DISPOSITIONS
    outcomes: frozenset[Outcome] = FOLLOWUP_OUTCOMES
    program_hours: ServiceHours | None = None
    """When the program's teams take calls; None: always (no call is outside them)."""
    automatic: bool = False
    """Whether the sync service and the console open follow-ups by these rules (False: only
    by hand)."""

    def due_after(self, cause: str) -> timedelta:
        return self.due_by_cause.get(cause, self.due)


def followup_id(call_id: str) -> str:
    """The name of the follow-up these rules open for a call."""
    return f"FU-{call_id}"


def _closed(call: Call) -> bool:
    return call.status in (CallStatus.CLEARED, CallStatus.CANCELLED, CallStatus.ESCALATED)


def _eligible(call: Call) -> bool:
    return safety_screen(call).civilian_ok


def _unserved(call: Call) -> bool:
    """Closed without a civilian team ever sent (a cancelled duplicate is not unserved)."""
    return (
        call.status in (CallStatus.CLEARED, CallStatus.CANCELLED)
        and not call.teams
        and call.team is None
        and call.dispatched_at is None
        and call.disposition != Disposition.CANCELLED.value
    )


def cause_for_call(call: Call, policy: FollowUpPolicy) -> str | None:
    """Why a closed call needs a follow-up (its disposition, ``outside_hours`` or
    ``unserved``), or None: it needs none (or is still open)."""
    if not _closed(call):
        return None
    if call.status is CallStatus.CLEARED and call.disposition in policy.dispositions:
        return str(call.disposition)
    if not _eligible(call) or call.status is CallStatus.ESCALATED:
        return None
    hours = policy.program_hours
    if hours is not None and not hours.open_at_instant(call.received_at):
        return OUTSIDE_HOURS
    if _unserved(call):
        return UNSERVED
    return None


def cause_for_outcome(outcome: Outcome, policy: FollowUpPolicy) -> str | None:
    return outcome.value if outcome in policy.outcomes else None


def owner_for(call: Call, teams: Mapping[str, Team], policy: FollowUpPolicy) -> str:
    """The provider of the call's (first) team, else the site's default owner."""
    for tid in (call.team, *call.teams):
        team = teams.get(tid) if tid else None
        if team is not None and team.provider.strip():
            return team.provider
    return policy.default_owner


def _call_end(call: Call) -> datetime:
    return call.cleared_at or call.updated_at


def opened_event(
    call: Call, cause: str, teams: Mapping[str, Team], policy: FollowUpPolicy, at: datetime
) -> FollowUpOpened:
    """The opening of a call's follow-up by the rules, due ``policy.due_after(cause)`` after the
    call ended. Its source id is the follow-up's own name: opened twice, recorded once."""
    fid = followup_id(call.id)
    return FollowUpOpened(
        source=Source.CONSOLE,
        source_id=f"followup_opened-{fid}",
        occurred_at=at,
        recorded_at=at,
        followup_id=fid,
        call_id=call.id,
        owner=owner_for(call, teams, policy),
        due_at=_call_end(call) + policy.due_after(cause),
        cause=cause,
        operator=AUTO_OPERATOR,
    )


def due_on_close(
    calls: Iterable[Call],
    teams: Mapping[str, Team],
    followups: Mapping[str, FollowUp],
    policy: FollowUpPolicy,
    at: datetime,
) -> list[FollowUpOpened]:
    """The follow-ups to open for these calls as dispatch describes them (none for a call that
    has one already, opened or not yet known to be)."""
    out = []
    for c in calls:
        if followup_id(c.id) in followups:
            continue
        cause = cause_for_call(c, policy)
        if cause is not None:
            out.append(opened_event(c, cause, teams, policy, at))
    return out


def open_for_outcome(
    call: Call,
    outcome: Outcome,
    teams: Mapping[str, Team],
    followups: Mapping[str, FollowUp],
    policy: FollowUpPolicy,
    now: datetime,
) -> OpenFollowUp | None:
    """The follow-up a recorded outcome calls for (None: it needs none, or the call has one)."""
    cause = cause_for_outcome(outcome, policy)
    fid = followup_id(call.id)
    if cause is None or fid in followups:
        return None
    return OpenFollowUp(
        call_id=call.id,
        owner=owner_for(call, teams, policy),
        due_at=now + policy.due_after(cause),
        cause=cause,
        followup_id=fid,
        reason=f"outcome {outcome.label.lower()} calls for a follow-up",
    )


def manual_command(
    call: Call, owner: str, now: datetime, policy: FollowUpPolicy, reason: str = ""
) -> OpenFollowUp:
    """A follow-up opened by hand for a call (named by the console; due by the default)."""
    return OpenFollowUp(
        call_id=call.id,
        owner=owner.strip() or policy.default_owner,
        due_at=now + policy.due_after(MANUAL),
        cause=MANUAL,
        reason=reason,
    )


# -- the queue, and what is overdue -----------------------------------------------------------


def queue_order(followups: Iterable[FollowUp], now: datetime) -> list[FollowUp]:
    """Open ones first, soonest due first (overdue ones lead); closed ones after, latest first."""
    far = datetime.max.replace(tzinfo=now.tzinfo)

    def key(f: FollowUp) -> tuple[int, float, str]:
        if f.is_open:
            due = f.due_at or far
            return (0, (due - now).total_seconds() if f.due_at else float("inf"), f.id)
        closed = f.closed_at or far
        return (1, -(closed - now).total_seconds(), f.id)

    return sorted((f for f in followups if f.opened_at is not None), key=key)


def overdue_alerts(followups: Iterable[FollowUp], now: datetime) -> list[Alert]:
    """One alert per open follow-up past its due time."""
    out = []
    for f in followups:
        if f.opened_at is None or not f.overdue(now) or f.due_at is None:
            continue
        late_s = (now - f.due_at).total_seconds()
        late = f"{late_s / 3600:.0f} h" if late_s >= 3600 else f"{max(late_s // 60, 1):.0f} min"
        tried = f"{len(f.attempts)} attempt{'s' if len(f.attempts) != 1 else ''} so far"
        out.append(
            Alert(
                f"followup_overdue:{f.id}",
                AlertKind.FOLLOWUP_OVERDUE,
                Severity.MEDIUM,
                f.call_id or f.id,
                f"follow-up {f.id} for {f.call_id} ({f.owner}) overdue by {late}, {tried}",
                f.due_at,
            )
        )
    return out
