"""Status lifecycles as explicit state machines.

A feed may skip steps (a missed message, a team that reports on scene without en route), so
forward skips are allowed; going backwards where the world cannot (on scene -> pending), leaving
a closed call, or taking a team off duty mid-call is refused with a reason.
"""

from __future__ import annotations

from .model import CallStatus, TeamStatus

C = CallStatus
T = TeamStatus


class TransitionError(ValueError):
    """An impossible status change: says which entity, from what, to what, and why."""

    def __init__(self, kind: str, entity_id: str, old: str, new: str, why: str) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.old = old
        self.new = new
        self.why = why
        super().__init__(f"{kind} {entity_id}: cannot go from {old} to {new}: {why}")


_CLOSED = frozenset({C.CLEARED, C.ESCALATED, C.CANCELLED})

CALL_TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    C.PENDING: frozenset({C.PENDING, C.ASSIGNED, C.EN_ROUTE, C.ON_SCENE, *_CLOSED}),
    # A team diverted before arrival puts the call back in the queue.
    C.ASSIGNED: frozenset({C.PENDING, C.ASSIGNED, C.EN_ROUTE, C.ON_SCENE, *_CLOSED}),
    C.EN_ROUTE: frozenset({C.PENDING, C.ASSIGNED, C.EN_ROUTE, C.ON_SCENE, *_CLOSED}),
    C.ON_SCENE: frozenset({C.ON_SCENE, C.TRANSPORTING, *_CLOSED}),
    C.TRANSPORTING: frozenset({C.TRANSPORTING, C.CLEARED, C.ESCALATED}),
    # Closed calls only take updates to their record (a disposition), never a new status.
    C.CLEARED: frozenset({C.CLEARED}),
    C.ESCALATED: frozenset({C.ESCALATED}),
    C.CANCELLED: frozenset({C.CANCELLED}),
}

# A status the console cannot map says nothing it could check: dispatch, the system of record,
# may move a call or team into or out of it from anywhere (it is shown with dispatch's code).
CALL_TRANSITIONS = {k: v | {C.UNKNOWN} for k, v in CALL_TRANSITIONS.items()}
CALL_TRANSITIONS[C.UNKNOWN] = frozenset(C)

_WHY_CALL = {
    C.ON_SCENE: "a team already on scene cannot be undone; clear or escalate the call instead",
    C.TRANSPORTING: "a call being transported can only be cleared or escalated",
    C.CLEARED: "the call is closed (cleared)",
    C.ESCALATED: "the call is closed (escalated to another agency)",
    C.CANCELLED: "the call is closed (cancelled)",
}

_BUSY = frozenset({T.ASSIGNED, T.EN_ROUTE, T.ON_SCENE, T.TRANSPORTING, T.AT_DESTINATION})
_ANY_ON_DUTY = frozenset({T.AVAILABLE, *_BUSY, T.OUT_OF_SERVICE})

TEAM_TRANSITIONS: dict[TeamStatus, frozenset[TeamStatus]] = {
    T.AVAILABLE: frozenset({*_ANY_ON_DUTY, T.OFF_DUTY}),
    T.ASSIGNED: _ANY_ON_DUTY,
    T.EN_ROUTE: _ANY_ON_DUTY,
    T.ON_SCENE: frozenset(
        {T.ON_SCENE, T.TRANSPORTING, T.AT_DESTINATION, T.AVAILABLE, T.OUT_OF_SERVICE}
    ),
    T.TRANSPORTING: frozenset({T.TRANSPORTING, T.AT_DESTINATION, T.AVAILABLE, T.OUT_OF_SERVICE}),
    T.AT_DESTINATION: frozenset({T.AT_DESTINATION, T.AVAILABLE, T.TRANSPORTING, T.OUT_OF_SERVICE}),
    T.OUT_OF_SERVICE: frozenset({T.OUT_OF_SERVICE, T.AVAILABLE, T.OFF_DUTY}),
    T.OFF_DUTY: frozenset({T.OFF_DUTY, T.AVAILABLE, T.OUT_OF_SERVICE}),
}

TEAM_TRANSITIONS = {k: v | {T.UNKNOWN} for k, v in TEAM_TRANSITIONS.items()}
TEAM_TRANSITIONS[T.UNKNOWN] = frozenset(T)

_WHY_TEAM = {
    T.ON_SCENE: "a team on scene must clear, transport or go out of service first",
    T.TRANSPORTING: "a transporting team must reach its destination or clear first",
    T.AT_DESTINATION: "a team at a destination must clear first",
    T.OUT_OF_SERVICE: "an out-of-service team must come back in service first",
    T.OFF_DUTY: "an off-duty team must come on duty first",
}


def check_call_transition(call_id: str, old: CallStatus, new: CallStatus) -> None:
    """Raise TransitionError when ``old -> new`` is impossible for a call."""
    if new not in CALL_TRANSITIONS[old]:
        why = _WHY_CALL.get(old, "not a step of the call lifecycle")
        raise TransitionError("call", call_id, old.value, new.value, why)


def check_team_transition(team_id: str, old: TeamStatus, new: TeamStatus) -> None:
    """Raise TransitionError when ``old -> new`` is impossible for a team."""
    if new not in TEAM_TRANSITIONS[old]:
        if new is T.OFF_DUTY and old in _BUSY:
            why = "a team cannot go off duty while working a call"
        else:
            why = _WHY_TEAM.get(old, "not a step of the team lifecycle")
        raise TransitionError("team", team_id, old.value, new.value, why)


def can_call_transition(old: CallStatus, new: CallStatus) -> bool:
    return new in CALL_TRANSITIONS[old]


def can_team_transition(old: TeamStatus, new: TeamStatus) -> bool:
    return new in TEAM_TRANSITIONS[old]
