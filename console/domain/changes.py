"""What a batch of events touches, and what a write changed.

One answer for everyone: the store loads and writes back the projection rows a batch touches,
the live picture refreshes the views a write changed, and replay works out the same from the
events it folds. All three go through :func:`touched`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .events import (
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
    NoteAdded,
    OutcomeRecorded,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
    UnservedReasonGiven,
)
from .projection import State

ProgramKey = tuple[str, str]
"""(kind, key) of a program record: ``("outcome", call)``, ``("unserved", call)``,
``("naloxone", "source:source_id")``, ``("followup", follow-up id)``."""

PROGRAM_RECORDS = ("outcome", "unserved", "naloxone", "followup")
"""The program record kinds, each held in the State dict of the same plural name."""


def program_records(st: State, kind: str) -> dict[str, Any]:
    """The State dict holding one kind of program record."""
    held: dict[str, dict[str, Any]] = {
        "outcome": st.outcomes,
        "unserved": st.unserved,
        "naloxone": st.naloxone,
        "followup": st.followups,
    }
    return held[kind]


@dataclass(frozen=True, slots=True)
class Changes:
    """What a write changed, so each view refreshes only what it shows."""

    calls: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    positions: frozenset[str] = frozenset()
    commands: frozenset[str] = frozenset()
    alerts: frozenset[str] = frozenset()
    notes: frozenset[str] = frozenset()
    """Call ids whose notes changed."""
    seq: int = 0
    program: frozenset[ProgramKey] = frozenset()
    """Program records (outcomes, reasons, naloxone, follow-ups) that changed."""
    destinations: frozenset[str] = frozenset()
    """Destination ids whose capacity figure changed."""

    def __bool__(self) -> bool:
        return bool(
            self.calls
            or self.teams
            or self.positions
            or self.commands
            or self.alerts
            or self.notes
            or self.program
            or self.destinations
        )

    def merge(self, other: Changes) -> Changes:
        return Changes(
            self.calls | other.calls,
            self.teams | other.teams,
            self.positions | other.positions,
            self.commands | other.commands,
            self.alerts | other.alerts,
            self.notes | other.notes,
            max(self.seq, other.seq),
            self.program | other.program,
            self.destinations | other.destinations,
        )


@dataclass(slots=True)
class Touched:
    """Record keys, one set per kind of record the fold keeps (see :class:`State`)."""

    calls: set[str] = field(default_factory=set)
    teams: set[str] = field(default_factory=set)
    positions: set[str] = field(default_factory=set)
    """Team ids whose position was reported."""
    commands: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)
    acks: set[str] = field(default_factory=set)
    """Alert ids acknowledged."""
    escalations: set[str] = field(default_factory=set)
    """Call ids escalated."""
    assignments: set[tuple[str, str]] = field(default_factory=set)
    """(call id, team id) pairs."""
    notes: set[str] = field(default_factory=set)
    """Call ids that got a note."""
    program: set[ProgramKey] = field(default_factory=set)
    destinations: set[str] = field(default_factory=set)
    """Destination ids given a capacity figure."""

    def add(self, e: Event) -> None:
        """Count in what one event touches."""
        if isinstance(e, CallReceived | CallUpdated):
            self.calls.add(e.call.id)
        elif isinstance(e, TeamStatusChanged):
            self.teams.add(e.team.id)
        elif isinstance(e, TeamPositionReported):
            self.positions.add(e.team_id)
        elif isinstance(e, TeamAssigned):
            self.assignments.add((e.call_id, e.team_id))
        elif isinstance(e, CallEscalated):
            self.escalations.add(e.call_id)
        elif isinstance(e, CommandRequested | CommandConfirmed | CommandRefused):
            self.commands.add(e.command_id)
        elif isinstance(e, AlertRaised):
            self.alerts.add(e.alert.id)
        elif isinstance(e, AlertAcknowledged):
            self.acks.add(e.alert_id)
        elif isinstance(e, NoteAdded):
            self.notes.add(e.note.call_id)
        elif isinstance(e, OutcomeRecorded):
            self.program.add(("outcome", e.call_id))
        elif isinstance(e, UnservedReasonGiven):
            self.program.add(("unserved", e.call_id))
        elif isinstance(e, NaloxoneRecorded):
            self.program.add(("naloxone", f"{e.source}:{e.source_id}"))
        elif isinstance(e, FollowUpOpened | FollowUpAttempted | FollowUpClosed):
            self.program.add(("followup", e.followup_id))
        elif isinstance(e, DestinationStatusReported):
            self.destinations.add(e.report.destination_id)

    @classmethod
    def everything(cls, st: State) -> Touched:
        """Every record a state holds."""
        return cls(
            set(st.calls),
            set(st.teams),
            set(st.positions),
            set(st.commands),
            set(st.alerts),
            set(st.acks),
            set(st.escalations),
            set(st.assignments),
            {n.call_id for n in st.notes.values()},
            {(k, i) for k in PROGRAM_RECORDS for i in program_records(st, k)},
            set(st.destinations),
        )

    def snapshot(self, st: State) -> Snapshot:
        """The touched records as they stand now, to tell later which ones a fold replaced."""

        def held(ids: set[Any], records: dict[Any, Any]) -> dict[Any, Any]:
            return {i: records[i] for i in ids if i in records}

        return Snapshot(
            held(self.calls, st.calls),
            held(self.teams, st.teams),
            held(self.positions, st.positions),
            held(self.commands, st.commands),
            held(self.alerts, st.alerts),
            held(self.acks, st.acks),
            held(self.escalations, st.escalations),
            held(self.assignments, st.assignments),
            {(k, i): program_records(st, k).get(i) for k, i in self.program},
            held(self.destinations, st.destinations),
        )

    def changed(self, before: Snapshot, st: State) -> Touched:
        """The touched records ``st`` holds a different one of than ``before`` (records are
        immutable: a different object is a replaced record). Notes are never replaced, so the
        touched ones are all changed."""

        def diff(ids: set[Any], old: dict[Any, Any], new: dict[Any, Any]) -> set[Any]:
            return {i for i in ids if new.get(i) is not old.get(i)}

        return Touched(
            diff(self.calls, before.calls, st.calls),
            diff(self.teams, before.teams, st.teams),
            diff(self.positions, before.positions, st.positions),
            diff(self.commands, before.commands, st.commands),
            diff(self.alerts, before.alerts, st.alerts),
            diff(self.acks, before.acks, st.acks),
            diff(self.escalations, before.escalations, st.escalations),
            {k for k in self.assignments if st.assignments.get(k) != before.assignments.get(k)},
            set(self.notes),
            {
                (k, i)
                for k, i in self.program
                if program_records(st, k).get(i) is not before.program.get((k, i))
            },
            diff(self.destinations, before.destinations, st.destinations),
        )

    def changes(self, seq: int = 0) -> Changes:
        """What the views showing these records have to refresh: an escalation or an
        assignment shows on its call, an acknowledgement on its alert."""
        return Changes(
            frozenset(self.calls | self.escalations | {c for c, _ in self.assignments}),
            frozenset(self.teams),
            frozenset(self.positions),
            frozenset(self.commands),
            frozenset(self.alerts | self.acks),
            frozenset(self.notes),
            seq,
            frozenset(self.program),
            frozenset(self.destinations),
        )


@dataclass(slots=True)
class Snapshot:
    """The touched records held before a fold (a key missing: not held then)."""

    calls: dict[str, Any] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)
    positions: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)
    acks: dict[str, Any] = field(default_factory=dict)
    escalations: dict[str, Any] = field(default_factory=dict)
    assignments: dict[tuple[str, str], Any] = field(default_factory=dict)
    program: dict[ProgramKey, Any] = field(default_factory=dict)
    destinations: dict[str, Any] = field(default_factory=dict)


def touched(events: Iterable[Event]) -> Touched:
    """The records a batch of events touches."""
    t = Touched()
    for e in events:
        t.add(e)
    return t


def changes_of(events: Iterable[Event], seq: int = 0) -> Changes:
    """What views a batch of events may change (before folding it)."""
    return touched(events).changes(seq)
