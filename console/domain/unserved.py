"""Why an eligible call went unserved, where the log proves it.

An eligible call (no safety flag) that closed (escalated, handed to police or EMS, cancelled,
cleared) with no civilian team ever sent gets a reason from the fixed list in
:mod:`console.domain.program`. The console works the reason out only where the records prove
it; anything else is asked of the supervisor (the escalate dialog) or stays "not recorded".

What is judged, and when:

- *outside program hours*: the call was received outside the program's hours;
- *no team on duty*: every team was off duty or out of service when the call closed;
- *no team with a needed capability*: every team on duty then lacked something the call needs
  (youth certification, the caller's language, Narcan for an overdose, seats);
- *all teams busy*: every team on duty then that could have taken it was working another call.

A team's record counts for the moment the call closed only if its status held since before
that moment (``status_since``): a team whose status changed afterwards proves nothing, so the
reason is not inferred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from .model import Call, CallStatus, Team, TeamStatus
from .program import UnservedReason
from .projection import State
from .rules import ServiceHours, capability_gaps


def is_eligible_unserved(call: Call, state: State | None = None) -> bool:
    """A call a civilian team could have taken (no safety flag) that closed with no team
    sent (``state``, when given, also holds dispatch's assignments of teams to calls)."""
    if call.safety_flags or call.is_open or call.teams or call.team is not None:
        return False
    return state is None or all(cid != call.id for cid, _ in state.assignments)


def closed_at(call: Call) -> datetime:
    """When the call closed (cleared time when dispatch gave one, else its last record)."""
    if call.status is CallStatus.CLEARED and call.cleared_at is not None:
        return call.cleared_at
    return call.updated_at


def _status_at(team: Team, moment: datetime) -> TeamStatus | None:
    """The team's status at ``moment``, when its record proves it (None: it changed since)."""
    since = team.status_since or team.updated_at
    return team.status if since <= moment else None


def infer_unserved_reason(
    call: Call,
    state: State,
    program_hours: ServiceHours,
    *,
    at: datetime | None = None,
    teams: Iterable[Team] | None = None,
) -> UnservedReason | None:
    """The reason an eligible, unserved call went without a civilian team, where the records
    prove it; None where they cannot (or the call is not an eligible unserved one).

    ``at`` is the moment judged (default: when the call closed); ``teams`` the team records
    to judge (default: the state's).
    """
    if not is_eligible_unserved(call, state):
        return None
    if not program_hours.open_at_instant(call.received_at):
        return UnservedReason.OUTSIDE_PROGRAM_HOURS
    moment = at if at is not None else closed_at(call)
    roster = list(state.teams.values() if teams is None else teams)
    if not roster:
        return None
    statuses = [(t, _status_at(t, moment)) for t in roster]
    if all(s is not None and not s.on_duty for _, s in statuses):
        return UnservedReason.NO_TEAM_ON_DUTY
    maybe_on_duty = [(t, s) for t, s in statuses if s is None or s.on_duty]
    known_on_duty = [t for t, s in maybe_on_duty if s is not None]
    capable = [(t, s) for t, s in maybe_on_duty if not capability_gaps(call, t)]
    if not capable:
        return UnservedReason.NO_CAPABLE_TEAM if known_on_duty else None
    if all(s is not None and s.busy and t.call != call.id for t, s in capable):
        return UnservedReason.ALL_TEAMS_BUSY
    return None


def would_go_unserved(call: Call, state: State | None = None) -> bool:
    """An open, eligible call no team was sent to: escalating or cancelling it now leaves it
    unserved (the escalate dialog asks why)."""
    return call.is_open and is_eligible_unserved(replace(call, status=CallStatus.ESCALATED), state)


def reason_if_closed_now(
    call: Call, state: State, program_hours: ServiceHours, now: datetime
) -> UnservedReason | None:
    """The reason the records would prove were the call closed at ``now`` (None: none)."""
    if not would_go_unserved(call, state):
        return None
    closing = replace(call, status=CallStatus.ESCALATED, updated_at=max(now, call.updated_at))
    return infer_unserved_reason(closing, state, program_hours)
