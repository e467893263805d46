"""The projection rows a single SQLite writer keeps between batches.

Folding a batch needs the rows it touches as they stand. Reading them back each time (and
decoding their JSON) costs more than the writing on SQLite, where a live feed keeps touching
the same few hundred open calls and teams. The cache holds what this writer read or wrote.

Why SQLite only, and why it stays right:

- A SQLite database has one writer at a time (every write transaction starts with
  ``BEGIN IMMEDIATE``), and every write of a projection row comes with new events: an append,
  a command, an answer. So at the start of a write transaction, "the log's last seq is the one
  this writer left it at" means no one else changed a row since. Otherwise (another process or
  another :class:`~console.store.Store` on the same file wrote) the cache is dropped and the
  rows are read again.
- Rows are kept only after their transaction commits: a batch folds into a fresh ``State``
  filled from the cache and the database, and its rows are copied back after the commit. A
  rolled-back batch leaves the cache as it was.
- The records are immutable values, so the cache shares them with the states it fills.
- On PostgreSQL several writers (sync services, consoles) commit concurrently, and a rebuild
  or an operator's repair can change rows without the writer noticing; there every batch reads
  its rows from the database and no cache is made.

A rebuild of the projections through another process does not append events, so it is not
seen; rebuild with the sync service stopped (as ``docs/operations.md`` says for repairs), or
this writer keeps its rows until its next restart or until another writer appends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from console.domain.changes import Touched
from console.domain.projection import State

_MAX_CALLS = 200_000
"""Beyond this many calls held, start again empty (a cache, not a second database)."""


class RowCache:
    """Rows by key; a key is *held* once its row (or the lack of one) is known."""

    def __init__(self) -> None:
        self.state = State()
        self.held = Touched()
        self.assignment_calls: set[str] = set()
        self.seq: int | None = None
        self.clear()

    def clear(self) -> None:
        """Forget every row (the next transaction reads them from the database)."""
        self.state = State()
        self.held = Touched()
        """Keys whose row is known; assignments are held per call (``held.escalations`` is
        the escalated calls; ``assignment_calls`` the calls whose assignments are known)."""
        self.assignment_calls = set()
        self.seq = None
        """The log's last seq when the cache was last known current (None: not yet)."""

    def check(self, last_seq: int) -> None:
        """At the start of a write transaction: drop everything if another writer wrote."""
        if self.seq != last_seq:
            self.clear()
            self.seq = last_seq

    def fill(self, t: Touched, st: State) -> Touched:
        """Copy the held rows of ``t`` into ``st``; returns the keys still to read."""
        c, h = self.state, self.held

        def take(
            ids: Iterable[Any], held: set[Any], src: dict[Any, Any], dst: dict[Any, Any]
        ) -> set[Any]:
            missing = set()
            for i in ids:
                if i in held:
                    v = src.get(i)
                    if v is not None:
                        dst[i] = v
                else:
                    missing.add(i)
            return missing

        calls = take(t.calls, h.calls, c.calls, st.calls)
        for i in t.calls - calls:
            if i in c.calls:
                st.keep_call(c.calls[i], c.call_source_id(i))
        teams = take(t.teams, h.teams, c.teams, st.teams)
        for i in t.teams - teams:
            if i in c.teams:
                st.keep_team(c.teams[i], c.team_source_id(i))
        asg_calls = {call for call, _ in t.assignments}
        missing_asg = asg_calls - self.assignment_calls
        for k, at in c.assignments.items():
            if k[0] in asg_calls and k[0] not in missing_asg:
                st.assignments[k] = at
        return Touched(
            calls,
            teams,
            take(t.positions, h.positions, c.positions, st.positions),
            take(t.commands, h.commands, c.commands, st.commands),
            take(t.alerts, h.alerts, c.alerts, st.alerts),
            take(t.acks, h.acks, c.acks, st.acks),
            take(t.escalations, h.escalations, c.escalations, st.escalations),
            {k for k in t.assignments if k[0] in missing_asg},
            program=set(t.program),  # rare: always read from the table
            destinations=set(t.destinations),
        )

    def keep(self, t: Touched, st: State, seq: int) -> None:
        """After a commit: hold the rows of ``t`` as ``st`` has them (all of them were read or
        written in that transaction), and the log's new last seq."""
        c, h = self.state, self.held
        if len(h.calls) > _MAX_CALLS:
            self.clear()
            c, h = self.state, self.held

        def put(
            ids: Iterable[Any], held: set[Any], src: dict[Any, Any], dst: dict[Any, Any]
        ) -> None:
            for i in ids:
                held.add(i)
                v = src.get(i)
                if v is None:
                    dst.pop(i, None)
                else:
                    dst[i] = v

        for i in t.calls:
            h.calls.add(i)
            if i in st.calls:
                c.keep_call(st.calls[i], st.call_source_id(i))
        for i in t.teams:
            h.teams.add(i)
            if i in st.teams:
                c.keep_team(st.teams[i], st.team_source_id(i))
        put(t.positions, h.positions, st.positions, c.positions)
        put(t.commands, h.commands, st.commands, c.commands)
        put(t.alerts, h.alerts, st.alerts, c.alerts)
        put(t.acks, h.acks, st.acks, c.acks)
        put(t.escalations, h.escalations, st.escalations, c.escalations)
        calls = {call for call, _ in t.assignments}
        for k, at in st.assignments.items():
            if k[0] in calls:
                c.assignments[k] = at
        self.assignment_calls |= calls
        self.seq = seq
