"""The replay engine: a past shift's picture at any instant, by the same fold as live.

A shift is a *base* (the few events that reproduce what was still open when the range starts)
plus every event of the range, ordered by when it happened. The state at instant ``t`` is
``fold(base + events with occurred_at <= t)`` -- :func:`console.domain.projection.fold`, the code
the live console runs. Seeking is fast because the engine keeps a snapshot (``State.copy()``)
every few thousand events and folds only the events since the nearest one.

:class:`PlaybackClock` is the replay's time: play, pause, speed 1x..3600x, step from event to
event, jump to a time or to the next key event. It is driven by wall-clock deltas handed to
:meth:`PlaybackClock.advance`, so the UI's timer and the tests move it alike.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from console.domain.events import (
    AlertAcknowledged,
    AlertKind,
    AlertRaised,
    CallEscalated,
    CallReceived,
    CallUpdated,
    CommandConfirmed,
    CommandRefused,
    CommandRequested,
    Event,
    NoteAdded,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import CallStatus, EscalationTarget, Team
from console.domain.projection import State, apply, fold
from console.domain.rules import Thresholds
from console.store.read.metrics import ProgramRecords, compute_report

MARK_KINDS = ("escalation", "overdue", "backup")
"""Key events the timeline marks and playback can jump to."""

MIN_SPEED = 1.0
MAX_SPEED = 3600.0
SPEED_STEPS: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600)


class ReplayError(Exception):
    """A shift that cannot be replayed (empty range, bad time, unreadable source)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A key moment on the timeline."""

    at: datetime
    kind: str
    """One of :data:`MARK_KINDS`."""
    subject: str
    label: str


# -- the base: what is still open when the range starts ----------------------------------------


def _slot(e: Event) -> tuple[str, ...]:
    """The projection slot an event fills (the fold keeps one winner per slot)."""
    if isinstance(e, CallReceived | CallUpdated):
        return ("call", e.call.id)
    if isinstance(e, TeamStatusChanged):
        return ("team", e.team.id)
    if isinstance(e, TeamPositionReported):
        return ("pos", e.team_id)
    if isinstance(e, TeamAssigned):
        return ("asg", e.call_id, e.team_id)
    if isinstance(e, CallEscalated):
        return ("esc", e.call_id)
    if isinstance(e, CommandRequested):
        return ("cmdq", e.command_id)
    if isinstance(e, CommandConfirmed | CommandRefused):
        return ("cmda", e.command_id)
    if isinstance(e, AlertRaised):
        return ("alert", e.alert.id)
    if isinstance(e, AlertAcknowledged):
        return ("ack", e.alert_id)
    if isinstance(e, NoteAdded):
        return ("note", e.source, e.source_id)
    raise ReplayError(f"no replay slot for event type {type(e).__name__}")


def base_events(before: Iterable[Event]) -> list[Event]:
    """The events that reproduce, by the same fold, the picture still relevant at the start.

    Calls still open, every team and its last position, and what hangs on the open calls
    (assignments, escalations, notes, commands) plus unacknowledged alerts. Calls closed before
    the range are left out: a shift file holds its shift, not the center's whole history.
    """
    st = State()
    winners: dict[tuple[str, ...], Event] = {}
    for e in before:
        if apply(st, e):
            winners[_slot(e)] = e
    open_calls = {cid for cid, c in st.calls.items() if c.is_open}
    keep_cmds = {
        cid
        for cid, rec in st.commands.items()
        if (rec.command is not None and rec.command.call_id in open_calls)
        or rec.answered_at is None
    }
    keep_alerts = {
        aid
        for aid, a in st.alerts.items()
        if aid not in st.acks and (a.subject not in st.calls or a.subject in open_calls)
    }
    out: list[Event] = []
    for slot, e in winners.items():
        kind = slot[0]
        keep = (
            (kind == "call" and slot[1] in open_calls)
            or kind in ("team", "pos")
            or (kind in ("asg", "esc") and slot[1] in open_calls)
            or (kind == "note" and isinstance(e, NoteAdded) and e.note.call_id in open_calls)
            or (kind in ("cmdq", "cmda") and slot[1] in keep_cmds)
            or (kind == "alert" and slot[1] in keep_alerts)
            or (kind == "ack" and slot[1] not in st.alerts)
        )
        if keep:
            out.append(e)
    out.sort(key=lambda e: e.occurred_at)
    return out


def unique(events: Iterable[Event]) -> list[Event]:
    """Events with each fact (source, source id) once, first occurrence kept, as the fold does."""
    seen: set[tuple[str, str]] = set()
    out: list[Event] = []
    for e in events:
        if e.key not in seen:
            seen.add(e.key)
            out.append(e)
    return out


# -- the engine ------------------------------------------------------------------------------------


@dataclass
class ShiftData:
    """A shift ready to replay, from a database range or a shift file."""

    start: datetime
    end: datetime
    base: list[Event]
    events: list[Event]
    roster: list[Team] = field(default_factory=list)
    deidentified: bool = False
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def load_from_store(store: Any, start: datetime, end: datetime) -> ShiftData:
    """The shift [start, end) of a database (``console.store.Store``)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ReplayError("replay times need a UTC offset")
    if end <= start:
        raise ReplayError(
            f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    base = base_events(e for _, e in store.events(end=start))
    events = [e for _, e in store.events(start=start, end=end)]
    return ShiftData(start, end, base, events, source=str(store.url.render_as_string()))


class ReplayEngine:
    """State at any instant of a shift; marks, density and metrics for the timeline."""

    def __init__(
        self,
        base: Sequence[Event],
        events: Sequence[Event],
        start: datetime,
        end: datetime,
        *,
        thresholds: Thresholds | None = None,
        snapshot_every: int | None = None,
    ) -> None:
        if start.tzinfo is None or end.tzinfo is None:
            raise ReplayError("replay times need a UTC offset")
        if end < start:
            raise ReplayError(
                f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        self.start = start
        self.end = end
        self.thresholds = thresholds or Thresholds()
        self.base: list[Event] = unique(base)
        base_keys = {e.key for e in self.base}
        # Ordered by when it happened (stable on log order): the state at t is a prefix fold.
        evs = [e for e in unique(events) if e.key not in base_keys]
        evs.sort(key=lambda e: e.occurred_at)
        self.events: list[Event] = evs
        self.times: list[float] = [e.occurred_at.timestamp() for e in evs]
        n = len(evs)
        # ~100 snapshots for a 100,000-event day: ~60 MB, and a seek folds <= 1,000 events.
        self.snapshot_every = snapshot_every or max(256, min(1000, n // 100))
        self._snapshots: list[State] = []
        self._build_snapshots()
        self._marks: list[Mark] | None = None

    @classmethod
    def from_shift(cls, shift: ShiftData, **kw: Any) -> ReplayEngine:
        return cls(shift.base, shift.events, shift.start, shift.end, **kw)

    # -- seek --------------------------------------------------------------------------------

    def _build_snapshots(self) -> None:
        """One snapshot every ``snapshot_every`` events; without the dedup memory (events are
        unique here), which would make each snapshot as large as the log."""
        st = fold(self.base)
        k = self.snapshot_every
        for i in range(0, len(self.events) + 1, k):
            if i:
                fold(self.events[i - k : i], st)
            seen, st.seen = st.seen, set()
            self._snapshots.append(st.copy())
            st.seen = seen

    def index_at(self, t: datetime) -> int:
        """How many events of the range happened at or before ``t``."""
        return bisect.bisect_right(self.times, t.timestamp())

    def state_at_index(self, i: int) -> State:
        """The state after the base and the first ``i`` events (a fresh object)."""
        i = max(0, min(i, len(self.events)))
        k = self.snapshot_every
        snap = min(i // k, len(self._snapshots) - 1)
        st = self._snapshots[snap].copy()
        return fold(self.events[snap * k : i], st)

    def state_at(self, t: datetime) -> State:
        """The picture at instant ``t``: what folding from the start up to ``t`` gives."""
        return self.state_at_index(self.index_at(t))

    def fold_from_start(self, t: datetime) -> State:
        """The same state, the slow way (the reference for tests and the benchmark baseline)."""
        return fold([*self.base, *self.events[: self.index_at(t)]])

    # -- navigation ----------------------------------------------------------------------------

    def clamp(self, t: datetime) -> datetime:
        return max(self.start, min(t, self.end))

    def next_event_time(self, t: datetime) -> datetime | None:
        i = bisect.bisect_right(self.times, t.timestamp())
        return self.events[i].occurred_at if i < len(self.events) else None

    def previous_event_time(self, t: datetime) -> datetime | None:
        i = bisect.bisect_left(self.times, t.timestamp())
        return self.events[i - 1].occurred_at if i > 0 else None

    def marks(self) -> list[Mark]:
        """Escalations, calls going overdue in the queue, backup requests: in time order."""
        if self._marks is None:
            self._marks = self._compute_marks()
        return self._marks

    def _compute_marks(self) -> list[Mark]:
        out: list[Mark] = []
        everything = [*self.base, *self.events]
        # A call's escalation is marked once: by dispatch's escalation fact when there is one,
        # else by the call record turning escalated.
        escalated: set[str] = {e.call_id for e in everything if isinstance(e, CallEscalated)}
        overdue_alert: set[str] = set()
        left_pending: dict[str, datetime] = {}
        pending: dict[str, Any] = {}
        for e in everything:
            if isinstance(e, CallEscalated):
                out.append(
                    Mark(
                        e.occurred_at,
                        "escalation",
                        e.call_id,
                        f"{e.call_id} escalated to {_words(e.target)}",
                    )
                )
            elif isinstance(e, AlertRaised):
                a = e.alert
                if a.kind is AlertKind.BACKUP_REQUEST:
                    out.append(
                        Mark(
                            e.occurred_at,
                            "backup",
                            a.subject,
                            a.message or f"{a.subject} requests backup",
                        )
                    )
                elif a.kind is AlertKind.PENDING_OVERDUE:
                    overdue_alert.add(a.subject)
                    out.append(
                        Mark(
                            e.occurred_at,
                            "overdue",
                            a.subject,
                            a.message or f"{a.subject} overdue in the queue",
                        )
                    )
            elif isinstance(e, CallReceived | CallUpdated):
                c = e.call
                if c.status is CallStatus.PENDING:
                    pending.setdefault(c.id, c)
                else:
                    prev = left_pending.get(c.id)
                    if prev is None or e.occurred_at < prev:
                        left_pending[c.id] = e.occurred_at
                if c.status is CallStatus.ESCALATED and c.id not in escalated:
                    escalated.add(c.id)
                    target = _words(c.escalated_to) if c.escalated_to else "a partner"
                    out.append(
                        Mark(e.occurred_at, "escalation", c.id, f"{c.id} escalated to {target}")
                    )
        # A call goes overdue when it is still pending past its priority's limit; dispatch's
        # feed need not say so, the console's own timers would have (rules.timer_alerts).
        for cid, c in pending.items():
            if cid in overdue_alert:
                continue
            due = c.received_at + timedelta(seconds=self.thresholds.pending_limit(c))
            left = left_pending.get(cid)
            if (left is None or left > due) and self.start <= due <= self.end:
                out.append(
                    Mark(
                        due,
                        "overdue",
                        cid,
                        f"{cid} (P{c.priority} {c.type.label}) overdue in the queue",
                    )
                )
        out = [m for m in out if self.start <= m.at <= self.end]
        out.sort(key=lambda m: (m.at, m.kind, m.subject))
        return out

    def next_mark(self, t: datetime, kind: str | None = None) -> Mark | None:
        """The first key event strictly after ``t`` (of ``kind`` when given)."""
        if kind is not None and kind not in MARK_KINDS:
            raise ReplayError(f"unknown mark kind {kind!r} (allowed: {', '.join(MARK_KINDS)})")
        for m in self.marks():
            if m.at > t and (kind is None or m.kind == kind):
                return m
        return None

    def previous_mark(self, t: datetime, kind: str | None = None) -> Mark | None:
        """The last key event strictly before ``t`` (of ``kind`` when given)."""
        if kind is not None and kind not in MARK_KINDS:
            raise ReplayError(f"unknown mark kind {kind!r} (allowed: {', '.join(MARK_KINDS)})")
        for m in reversed(self.marks()):
            if m.at < t and (kind is None or m.kind == kind):
                return m
        return None

    def density(self, bins: int) -> list[int]:
        """Events per time bin over [start, end]: the timeline's background."""
        bins = max(1, bins)
        out = [0] * bins
        t0 = self.start.timestamp()
        span = max(self.end.timestamp() - t0, 1e-9)
        for x in self.times:
            b = int((x - t0) / span * bins)
            if 0 <= b < bins:
                out[b] += 1
            elif b == bins:
                out[-1] += 1
        return out

    # -- metrics -----------------------------------------------------------------------------

    def team_histories(self, until: datetime | None = None) -> dict[str, list[Team]]:
        """Each team's successive records up to ``until``, like the live report reads them."""
        stop = self.end if until is None else until
        recs = [
            (e.occurred_at, i, e.team)
            for i, e in enumerate([*self.base, *self.events])
            if isinstance(e, TeamStatusChanged) and e.occurred_at <= stop
        ]
        recs.sort(key=lambda r: (r[0], r[1]))
        out: dict[str, list[Team]] = {}
        for _, _, t in recs:
            lst = out.setdefault(t.id, [])
            if lst and lst[-1].updated_at > t.updated_at:
                continue
            lst.append(t)
        return out

    def report(self, at: datetime | None = None) -> dict[str, object]:
        """Workload and response metrics of the shift as of ``at`` (default: its end)."""
        when = self.end if at is None else at
        st = self.state_at(when)
        esc: dict[str, EscalationTarget] = {k: v[0] for k, v in st.escalations.items()}
        return compute_report(
            list(st.calls.values()),
            self.team_histories(when),
            esc,
            self.start,
            when,
            ProgramRecords.of(st),
        )


def _words(v: Any) -> str:
    return str(getattr(v, "value", v)).replace("_", " ")


# -- the playback clock ------------------------------------------------------------------------------


class PlaybackClock:
    """The replay's time. Wall seconds in, shift seconds out; pauses itself at stops and the end.

    ``stops`` are instants playback must not run past (training decision points): when a step of
    :meth:`advance` would cross one, the clock halts on it, pauses, and reports it.
    """

    def __init__(self, engine: ReplayEngine, at: datetime | None = None) -> None:
        self.engine = engine
        self._now = engine.clamp(at or engine.start)
        self.playing = False
        self.speed = 60.0
        self.stops: list[datetime] = []
        self.stopped_at: datetime | None = None

    def now(self) -> datetime:
        return self._now

    # -- play / pause / speed -------------------------------------------------------------------

    def play(self) -> None:
        if self._now >= self.engine.end:
            self._now = self.engine.start  # playing from the end starts over
        self.playing = True
        self.stopped_at = None

    def pause(self) -> None:
        self.playing = False

    def toggle(self) -> bool:
        if self.playing:
            self.pause()
        else:
            self.play()
        return self.playing

    def set_speed(self, speed: float) -> float:
        if not math.isfinite(speed):
            raise ReplayError(f"speed {speed!r} is not a number")
        self.speed = max(MIN_SPEED, min(MAX_SPEED, float(speed)))
        return self.speed

    def faster(self) -> float:
        for s in SPEED_STEPS:
            if s > self.speed:
                return self.set_speed(s)
        return self.set_speed(MAX_SPEED)

    def slower(self) -> float:
        for s in reversed(SPEED_STEPS):
            if s < self.speed:
                return self.set_speed(s)
        return self.set_speed(MIN_SPEED)

    def advance(self, wall_seconds: float) -> datetime:
        """Move by ``wall_seconds`` of real time at the current speed (no-op when paused)."""
        if not self.playing or wall_seconds <= 0:
            return self._now
        target = self._now + timedelta(seconds=wall_seconds * self.speed)
        for s in sorted(self.stops):
            if self._now < s <= target:
                self._now = s
                self.playing = False
                self.stopped_at = s
                return self._now
        if target >= self.engine.end:
            target = self.engine.end
            self.playing = False
        self._now = target
        return self._now

    # -- jumps ---------------------------------------------------------------------------------

    def jump_to(self, t: datetime) -> datetime:
        if t.tzinfo is None:
            raise ReplayError("a replay time needs a UTC offset")
        self._now = self.engine.clamp(t)
        return self._now

    def step_next(self) -> datetime:
        """To the next event (or the end); pauses."""
        self.pause()
        nxt = self.engine.next_event_time(self._now)
        return self.jump_to(nxt if nxt is not None else self.engine.end)

    def step_previous(self) -> datetime:
        """To the previous event (or the start); pauses."""
        self.pause()
        prev = self.engine.previous_event_time(self._now)
        return self.jump_to(prev if prev is not None else self.engine.start)

    def jump_to_next(self, kind: str | None = None) -> Mark | None:
        """To the next key event of ``kind`` (escalation, overdue, backup); None when no more."""
        m = self.engine.next_mark(self._now, kind)
        if m is not None:
            self.jump_to(m.at)
        return m

    def jump_to_previous(self, kind: str | None = None) -> Mark | None:
        """To the previous key event of ``kind``; None when there is none before."""
        m = self.engine.previous_mark(self._now, kind)
        if m is not None:
            self.jump_to(m.at)
        return m
