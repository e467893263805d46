"""The projection: current state as a pure fold of the event log.

Every merge here is order-free: entity records are last-writer-wins on a total key
(``updated_at``, ``version``, ``source_id``), answers dominate requests, acknowledgements dominate
raises, and a fact seen twice is applied once. So folding any permutation of a log, with
duplicates, gives the same state, and applying events one at a time gives what folding them all
gives; live, catch-up and replay share this one code path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from .commands import CommandRecord, CommandStatus
from .destinations import CapacityReport
from .events import (
    Alert,
    AlertAcknowledged,
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
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
    UnservedReasonGiven,
)
from .lifecycle import check_call_transition, check_team_transition
from .model import Call, CallStatus, EscalationTarget, Position, Team
from .program import CallOutcome, FollowUp, FollowUpAttempt, NaloxoneDose, UnservedRecord

RecordKey = tuple[datetime, int, str]


class RecordConflict(ValueError):
    """Two different descriptions of one record with the same time and version: neither can be
    said to be the later one, so the second is refused rather than silently replacing the first.
    """

    def __init__(self, kind: str, entity_id: str, at: datetime, version: int) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.at = at
        self.version = version
        v = f" version {version}" if version else ""
        super().__init__(
            f"{kind} {entity_id}: a different description with the same time "
            f"{at.isoformat()}{v} is already stored"
        )


@dataclass(frozen=True, slots=True)
class Ack:
    alert_id: str
    operator: str
    at: datetime
    note: str = ""


@dataclass
class State:
    """The whole current picture. Mutated only by :func:`apply` (the fold owns it)."""

    calls: dict[str, Call] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    commands: dict[str, CommandRecord] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    acks: dict[str, Ack] = field(default_factory=dict)
    notes: dict[tuple[str, str], Note] = field(default_factory=dict)
    """(source, source_id) -> note; :meth:`notes_for` gives a call's notes in time order."""
    assignments: dict[tuple[str, str], datetime] = field(default_factory=dict)
    """(call, team) -> when dispatch first sent that team."""
    escalations: dict[str, tuple[EscalationTarget, datetime]] = field(default_factory=dict)
    outcomes: dict[str, CallOutcome] = field(default_factory=dict)
    """call -> how it ended (the latest given)."""
    unserved: dict[str, UnservedRecord] = field(default_factory=dict)
    """call -> why an eligible call got no civilian team."""
    naloxone: dict[str, NaloxoneDose] = field(default_factory=dict)
    """``source:source_id`` of the event -> naloxone given on a call."""
    followups: dict[str, FollowUp] = field(default_factory=dict)
    destinations: dict[str, CapacityReport] = field(default_factory=dict)
    """Destination id -> its latest capacity figure (supervisor's or dispatch's)."""
    seen: set[tuple[str, str]] = field(default_factory=set)
    as_of: datetime | None = None
    _call_keys: dict[str, RecordKey] = field(default_factory=dict)
    _team_keys: dict[str, RecordKey] = field(default_factory=dict)

    def open_calls(self) -> list[Call]:
        return [c for c in self.calls.values() if c.status.is_open]

    def notes_for(self, call_id: str) -> list[Note]:
        return sorted((n for n in self.notes.values() if n.call_id == call_id), key=lambda n: n.at)

    def naloxone_for(self, call_id: str) -> list[NaloxoneDose]:
        return sorted(
            (d for d in self.naloxone.values() if d.call_id == call_id), key=lambda d: d.given_at
        )

    def unacknowledged_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.id not in self.acks]

    def copy(self) -> State:
        """A snapshot sharing the (immutable) records; cheap enough for replay checkpoints."""
        st = self.fork()
        st.seen = set(self.seen)
        return st

    def fork(self) -> State:
        """A new State sharing the (immutable) records, to fold only events not yet seen.

        Unlike :meth:`copy` the dedup memory starts empty: a caller that knows which events
        are new (a log read after a seq, rows loaded for a batch) needs none.
        """
        return State(
            calls=dict(self.calls),
            teams=dict(self.teams),
            positions=dict(self.positions),
            commands=dict(self.commands),
            alerts=dict(self.alerts),
            acks=dict(self.acks),
            notes=dict(self.notes),
            assignments=dict(self.assignments),
            escalations=dict(self.escalations),
            outcomes=dict(self.outcomes),
            unserved=dict(self.unserved),
            naloxone=dict(self.naloxone),
            followups=dict(self.followups),
            destinations=dict(self.destinations),
            as_of=self.as_of,
            _call_keys=dict(self._call_keys),
            _team_keys=dict(self._team_keys),
        )

    def keep_call(self, c: Call, source_id: str) -> None:
        """Hold a call as stored, with the source id of the event that last described it."""
        self.calls[c.id] = c
        self._call_keys[c.id] = (c.updated_at, c.version, source_id)

    def keep_team(self, t: Team, source_id: str) -> None:
        """Hold a team as stored, with the source id of the event that last described it."""
        self.teams[t.id] = t
        self._team_keys[t.id] = (t.updated_at, 0, source_id)

    def call_source_id(self, call_id: str) -> str:
        """The source id of the event that last described the call."""
        return self._call_keys[call_id][2]

    def team_source_id(self, team_id: str) -> str:
        """The source id of the event that last described the team."""
        return self._team_keys[team_id][2]

    def same_picture(self, other: State) -> bool:
        """Equal in everything a view shows (ignores the dedup memory)."""
        return (
            self.calls == other.calls
            and self.teams == other.teams
            and self.positions == other.positions
            and self.commands == other.commands
            and self.alerts == other.alerts
            and self.acks == other.acks
            and self.notes == other.notes
            and self.assignments == other.assignments
            and self.escalations == other.escalations
            and self.outcomes == other.outcomes
            and self.unserved == other.unserved
            and self.naloxone == other.naloxone
            and self.followups == other.followups
            and self.destinations == other.destinations
            and self.as_of == other.as_of
        )


_PASSED: dict[str, frozenset[CallStatus]] = {
    "dispatched_at": frozenset(
        {CallStatus.ASSIGNED, CallStatus.EN_ROUTE, CallStatus.ON_SCENE, CallStatus.TRANSPORTING}
    ),
    "enroute_at": frozenset({CallStatus.EN_ROUTE, CallStatus.ON_SCENE, CallStatus.TRANSPORTING}),
    "onscene_at": frozenset({CallStatus.ON_SCENE, CallStatus.TRANSPORTING}),
}
"""The stage times a call in each status has passed (a closed call: every one it reached)."""


def with_stages_from(c: Call, other: Call) -> Call:
    """``c`` with the stage times it leaves out taken from ``other``, when ``c`` was read from
    a document that states only its own stage: only for stages ``c``'s status has passed (a
    call put back in the queue starts afresh). Each stage time is reported by one document of
    a call, so the result does not depend on the order the records arrive in."""
    if not c.stages_partial:
        return c
    fill = {}
    closed = not c.status.is_open
    for name, passed in _PASSED.items():
        if getattr(c, name) is None and (closed or c.status in passed):
            v = getattr(other, name)
            if v is not None:
                fill[name] = v
    return replace(c, **fill) if fill else c


def _call(state: State, e: CallReceived | CallUpdated, strict: bool) -> bool:
    stored = state.calls.get(e.call.id)
    c = e.call if stored is None else with_stages_from(e.call, stored)
    key = (c.updated_at, c.version, e.source_id)
    old = state._call_keys.get(c.id)
    if strict and old is not None and key[:2] == old[:2] and key[2] != old[2]:
        if state.calls[c.id] != c:
            raise RecordConflict("call", c.id, c.updated_at, c.version)
    if old is not None and key <= old:
        # An older or equal description: out of order, never regresses state; it may still
        # carry a stage time the newer one leaves out.
        if stored is not None and (merged := with_stages_from(stored, e.call)) != stored:
            state.calls[c.id] = merged
            return True
        return False
    if strict and old is not None:
        check_call_transition(c.id, state.calls[c.id].status, c.status)
    state._call_keys[c.id] = key
    state.calls[c.id] = c
    return True


def _team(state: State, e: TeamStatusChanged, strict: bool) -> bool:
    t = e.team
    key = (t.updated_at, 0, e.source_id)
    old = state._team_keys.get(t.id)
    if strict and old is not None and key[:2] == old[:2] and key[2] != old[2]:
        if state.teams[t.id] != t:
            raise RecordConflict("team", t.id, t.updated_at, 0)
    if old is not None and key <= old:
        return False
    if strict and old is not None:
        check_team_transition(t.id, state.teams[t.id].status, t.status)
    state._team_keys[t.id] = key
    state.teams[t.id] = t
    return True


def _position(state: State, e: TeamPositionReported, strict: bool) -> bool:
    old = state.positions.get(e.team_id)
    if old is not None and (e.position.at, e.position.lat, e.position.lon) <= (
        old.at,
        old.lat,
        old.lon,
    ):
        return False
    state.positions[e.team_id] = e.position
    return True


def _assignment(state: State, e: TeamAssigned, strict: bool) -> bool:
    k = (e.call_id, e.team_id)
    old = state.assignments.get(k)
    if old is not None and old <= e.occurred_at:
        return False
    state.assignments[k] = e.occurred_at
    return True


def _escalation(state: State, e: CallEscalated, strict: bool) -> bool:
    old = state.escalations.get(e.call_id)
    new = (e.target, e.occurred_at)
    if old is not None and (old[1], old[0].value) <= (new[1], new[0].value):
        return False
    state.escalations[e.call_id] = new
    return True


_ANSWERED = (CommandStatus.CONFIRMED, CommandStatus.REFUSED)


def _command_requested(state: State, e: CommandRequested, strict: bool) -> bool:
    old = state.commands.get(e.command_id)
    if old is None:
        state.commands[e.command_id] = CommandRecord(
            e.command_id, e.command, CommandStatus.REQUESTED, e.operator, e.occurred_at
        )
    elif old.command is None:  # the answer arrived first
        state.commands[e.command_id] = CommandRecord(
            e.command_id,
            e.command,
            old.status,
            e.operator,
            e.occurred_at,
            old.answered_at,
            old.answer,
        )
    else:
        return False
    return True


def _command_answered(state: State, e: CommandConfirmed | CommandRefused, strict: bool) -> bool:
    status = CommandStatus.CONFIRMED if isinstance(e, CommandConfirmed) else CommandStatus.REFUSED
    answer = e.detail if isinstance(e, CommandConfirmed) else e.reason
    old = state.commands.get(e.command_id)
    if old is not None and old.status in _ANSWERED:
        # Dispatch answers once; should two answers exist, the earliest stands (order-free).
        if (old.answered_at, old.status, old.answer) <= (e.occurred_at, status, answer):
            return False
    state.commands[e.command_id] = CommandRecord(
        e.command_id,
        old.command if old else None,
        status,
        old.operator if old else "",
        old.requested_at if old else None,
        e.occurred_at,
        answer,
    )
    return True


def _alert_raised(state: State, e: AlertRaised, strict: bool) -> bool:
    old = state.alerts.get(e.alert.id)
    if old is not None and (old.raised_at, old.message) <= (e.alert.raised_at, e.alert.message):
        return False  # the first raise stands
    state.alerts[e.alert.id] = e.alert
    return True


def _alert_ack(state: State, e: AlertAcknowledged, strict: bool) -> bool:
    old = state.acks.get(e.alert_id)
    if old is not None and (old.at, old.operator) <= (e.occurred_at, e.operator):
        return False
    state.acks[e.alert_id] = Ack(e.alert_id, e.operator, e.occurred_at, e.note)
    return True


def _capacity_key(r: CapacityReport) -> tuple[datetime, str, str, int, bool, str]:
    return (
        r.at,
        r.source,
        r.operator,
        -1 if r.available is None else r.available,
        r.accepting,
        r.note,
    )


def _destination(state: State, e: DestinationStatusReported, strict: bool) -> bool:
    old = state.destinations.get(e.report.destination_id)
    if old is not None and _capacity_key(old) >= _capacity_key(e.report):
        return False  # the latest figure stands (ties broken on the whole figure)
    state.destinations[e.report.destination_id] = e.report
    return True


def _note(state: State, e: NoteAdded, strict: bool) -> bool:
    state.notes[e.key] = e.note
    return True


def _outcome(state: State, e: OutcomeRecorded, strict: bool) -> bool:
    new = CallOutcome(e.call_id, e.outcome, e.operator, e.occurred_at, e.destination_kind)
    old = state.outcomes.get(e.call_id)
    if old is not None and _later(old) >= _later(new):
        return False  # the latest outcome given stands
    state.outcomes[e.call_id] = new
    return True


def _later(o: CallOutcome) -> tuple[datetime, str, str, str]:
    return (o.at, o.outcome.value, o.destination_kind, o.operator)


def _unserved(state: State, e: UnservedReasonGiven, strict: bool) -> bool:
    new = UnservedRecord(e.call_id, e.reason, e.operator, e.occurred_at, e.inferred)
    old = state.unserved.get(e.call_id)

    def rank(r: UnservedRecord) -> tuple[bool, datetime, str, str]:
        # A supervisor's reason outranks an inferred one; then the latest given stands.
        return (not r.inferred, r.at, r.reason.value, r.operator)

    if old is not None and rank(old) >= rank(new):
        return False
    state.unserved[e.call_id] = new
    return True


def _naloxone(state: State, e: NaloxoneRecorded, strict: bool) -> bool:
    state.naloxone[f"{e.source}:{e.source_id}"] = NaloxoneDose(
        e.call_id, e.doses, e.given_at, e.operator
    )
    return True


def _followup_opened(state: State, e: FollowUpOpened, strict: bool) -> bool:
    old = state.followups.get(e.followup_id) or FollowUp(e.followup_id)
    if old.opened_at is not None and (old.opened_at, old.opened_by) <= (e.occurred_at, e.operator):
        return False  # the first opening stands (two consoles opened the same follow-up)
    state.followups[e.followup_id] = replace(
        old,
        call_id=e.call_id,
        owner=e.owner,
        due_at=e.due_at,
        opened_at=e.occurred_at,
        cause=e.cause,
        opened_by=e.operator,
    )
    return True


def _followup_attempt(state: State, e: FollowUpAttempted, strict: bool) -> bool:
    old = state.followups.get(e.followup_id) or FollowUp(e.followup_id)
    a = FollowUpAttempt(e.occurred_at, e.channel, e.result, e.operator)
    attempts = tuple(
        sorted((*old.attempts, a), key=lambda x: (x.at, x.channel, x.result, x.operator))
    )
    state.followups[e.followup_id] = replace(old, attempts=attempts)
    return True


def _followup_closed(state: State, e: FollowUpClosed, strict: bool) -> bool:
    old = state.followups.get(e.followup_id) or FollowUp(e.followup_id)
    if (
        old.end is not None
        and old.closed_at is not None
        and (old.closed_at, old.end.value, old.closed_by)
        <= (e.occurred_at, e.end.value, e.operator)
    ):
        return False  # closed once; should two closings exist, the first stands
    state.followups[e.followup_id] = replace(
        old, end=e.end, closed_at=e.occurred_at, closed_by=e.operator
    )
    return True


_HANDLERS: dict[type[Event], Callable[[State, Event, bool], bool]] = {
    CallReceived: _call,  # type: ignore[dict-item]
    CallUpdated: _call,  # type: ignore[dict-item]
    TeamStatusChanged: _team,  # type: ignore[dict-item]
    TeamPositionReported: _position,  # type: ignore[dict-item]
    TeamAssigned: _assignment,  # type: ignore[dict-item]
    CallEscalated: _escalation,  # type: ignore[dict-item]
    CommandRequested: _command_requested,  # type: ignore[dict-item]
    CommandConfirmed: _command_answered,  # type: ignore[dict-item]
    CommandRefused: _command_answered,  # type: ignore[dict-item]
    AlertRaised: _alert_raised,  # type: ignore[dict-item]
    AlertAcknowledged: _alert_ack,  # type: ignore[dict-item]
    NoteAdded: _note,  # type: ignore[dict-item]
    OutcomeRecorded: _outcome,  # type: ignore[dict-item]
    UnservedReasonGiven: _unserved,  # type: ignore[dict-item]
    NaloxoneRecorded: _naloxone,  # type: ignore[dict-item]
    FollowUpOpened: _followup_opened,  # type: ignore[dict-item]
    FollowUpAttempted: _followup_attempt,  # type: ignore[dict-item]
    FollowUpClosed: _followup_closed,  # type: ignore[dict-item]
    DestinationStatusReported: _destination,  # type: ignore[dict-item]
}


def apply(state: State, event: Event, *, strict: bool = False) -> bool:
    """Apply one event in place; True when it changed the picture.

    ``strict`` checks lifecycles on newer records and raises
    :class:`~console.domain.lifecycle.TransitionError` for an impossible one, and
    :class:`RecordConflict` for a different record with the same time and version as the one
    held, leaving the state untouched: the ingest path uses it so an impossible or conflicting
    update is quarantined, not applied.
    """
    key = (event.source, event.source_id)
    if key in state.seen:
        return False
    changed = _HANDLERS[type(event)](state, event, strict)
    state.seen.add(key)
    if state.as_of is None or event.occurred_at > state.as_of:
        state.as_of = event.occurred_at
    return changed


def fold(events: Iterable[Event], state: State | None = None) -> State:
    """``state = fold(events)``: a new State (or ``state`` carried forward) with all applied."""
    s = State() if state is None else state
    seen = s.seen
    handlers = _HANDLERS
    as_of = s.as_of
    for e in events:
        k = (e.source, e.source_id)
        if k in seen:
            continue
        handlers[type(e)](s, e, False)
        seen.add(k)
        if as_of is None or e.occurred_at > as_of:
            as_of = e.occurred_at
    s.as_of = as_of
    return s
