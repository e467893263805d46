"""Workload aggregates for the live plots, updated per changed record.

Arrays are preallocated at one-minute resolution over ``[start, end)`` (sample ``m`` is the
picture at ``start + m minutes``), and hourly over the same span plus the four weeks before it
(the "same hours of previous weeks" band). Every record (call, team status, escalation, backup
request) contributes spans to the arrays; a changed record takes its old contribution back and
adds its new one, so one event costs a few numpy slice additions instead of a recompute.

The numbers use the report's own pure functions (:mod:`console.store.read.metrics`): interval values
and their percentiles, eligible-not-served, team utilisation. :meth:`Aggregates.from_store` is
the full recompute from the database; :meth:`Aggregates.apply_event` / :meth:`Aggregates.apply`
the incremental path. Both give identical arrays (tested).

Qt-free: the plots are one reader; a headless summary could be another.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import or_, select

from console.domain.changes import Changes
from console.domain.codec import call_from_dict
from console.domain.events import (
    Alert,
    AlertKind,
    AlertRaised,
    CallEscalated,
    CallReceived,
    CallUpdated,
    Event,
    NaloxoneRecorded,
    OutcomeRecorded,
    TeamStatusChanged,
    UnservedReasonGiven,
)
from console.domain.model import Call, CallStatus, CallType, EscalationTarget, Team, TeamStatus
from console.domain.projection import State
from console.domain.projection import apply as fold_one
from console.domain.rules import Thresholds

from .. import schema as S
from ..store import Store
from .metrics import (
    INTERVALS,
    IntervalStats,
    ProgramRecords,
    compute_report,
    eligible_not_served,
    interval_stats,
    interval_values,
    percentile,
    program_records,
    team_histories,
    team_utilization,
)

MINUTE = 60
HOUR = 3600
WEEK_H = 168
HISTORY_WEEKS = 4
"""Weeks before the span kept hourly for the "same hours of previous weeks" band."""

ROLLING = ("received_to_dispatched", "received_to_onscene")
"""Intervals kept as rolling percentiles (report names, :data:`metrics.INTERVALS`)."""

CALL_TYPES: tuple[CallType, ...] = tuple(CallType)
ESC_ROWS: tuple[str, ...] = (*(t.value for t in EscalationTarget), "backup_request")
"""Rows of the escalation arrays: each escalation target, then teams' backup requests."""

TEAM_GROUPS: tuple[str, ...] = (
    "available",
    "en_route",
    "on_scene",
    "transporting",
    "out_of_service",
)
"""Stacked team-status groups; off-duty teams are not staffed and count in none."""
_GROUP_OF: dict[TeamStatus, int | None] = {
    TeamStatus.AVAILABLE: 0,
    TeamStatus.ASSIGNED: 1,
    TeamStatus.EN_ROUTE: 1,
    TeamStatus.ON_SCENE: 2,
    TeamStatus.TRANSPORTING: 3,
    TeamStatus.AT_DESTINATION: 3,
    TeamStatus.OUT_OF_SERVICE: 4,
    TeamStatus.OFF_DUTY: None,
    # On duty as far as anyone knows, but not known to be free or on a call.
    TeamStatus.UNKNOWN: 4,
}

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


def _epoch(t: datetime) -> float:
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t.isoformat()}: aggregates need aware times")
    return t.timestamp()


def _floor(t: datetime, step: int) -> datetime:
    e = math.floor(_epoch(t) / step) * step
    return datetime.fromtimestamp(e, UTC)


@dataclass(frozen=True, slots=True)
class _CallPart:
    """What one call record added to the arrays, so it can be taken back exactly."""

    pending: tuple[int, int]
    assigned: tuple[int, int]
    overdue: tuple[int, int]
    breach: float | None
    hour: int | None
    type_row: int
    not_served: bool
    intervals: tuple[tuple[str, int, float], ...]
    """(interval name, minute bucket of its completion, seconds)."""


@dataclass(frozen=True, slots=True)
class _TeamSpan:
    group: int | None
    lo: int
    hi: int


class Aggregates:
    """Time series of one span of the program's workload, kept current record by record."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        *,
        thresholds: Thresholds | None = None,
        tz: tzinfo | None = None,
        rolling_minutes: int = 60,
    ) -> None:
        if end <= start:
            raise ValueError(f"aggregate span is empty: {start.isoformat()} .. {end.isoformat()}")
        if rolling_minutes < 1:
            raise ValueError(f"rolling window must be at least one minute, not {rolling_minutes}")
        self.thresholds = thresholds or Thresholds()
        self.tz: tzinfo = tz or UTC
        self.rolling_minutes = rolling_minutes
        self.start = _floor(start, MINUTE)
        self.t0 = _epoch(self.start)
        self.n = math.ceil((_epoch(end) - self.t0) / MINUTE)
        self.hour0 = _floor(self.start, HOUR) - timedelta(weeks=HISTORY_WEEKS)
        self.h0 = _epoch(self.hour0)
        self.version = 0
        """Bumped on every change: the plots redraw only when it moved."""
        self.first_epoch = math.inf
        """Earliest instant any record speaks of: before it nothing is known (not "zero")."""
        self._calls: dict[str, Call] = {}
        self._parts: dict[str, _CallPart] = {}
        self._teams: dict[str, list[Team]] = {}
        self._spans: dict[str, list[_TeamSpan]] = {}
        self._esc: dict[str, tuple[EscalationTarget, datetime]] = {}
        self._esc_bin: dict[str, tuple[int, int]] = {}
        self._backup: dict[str, tuple[int, int]] = {}
        self._program = State()
        """The program's records the report counts (outcomes, unserved reasons, naloxone)."""
        self._alloc()

    # -- storage ---------------------------------------------------------------------------------

    def _alloc(self) -> None:
        n = self.n
        self.nh = math.ceil((self.t0 + n * MINUTE - self.h0) / HOUR)
        self.pending: IntArray = np.zeros(n, np.int32)
        self.assigned: IntArray = np.zeros(n, np.int32)
        self.overdue: IntArray = np.zeros(n, np.int32)
        self.breaches: dict[str, float] = {}
        """Call id -> epoch second its pending time crossed its limit (within the span)."""
        self.teams: IntArray = np.zeros((len(TEAM_GROUPS), n), np.int32)
        self.escalations: IntArray = np.zeros((len(ESC_ROWS), n), np.int32)
        """Escalations / backup requests per minute bin ``[t_m, t_m + 1 min)``."""
        self.calls_hourly: IntArray = np.zeros((len(CALL_TYPES), self.nh), np.int32)
        self.not_served_hourly: IntArray = np.zeros(self.nh, np.int32)
        self._buckets: dict[str, dict[int, list[float]]] = {k: {} for k in ROLLING}
        self.p50: dict[str, FloatArray] = {k: np.full(n, np.nan) for k in ROLLING}
        self.p90: dict[str, FloatArray] = {k: np.full(n, np.nan) for k in ROLLING}
        self._dirty: dict[str, tuple[int, int] | None] = dict.fromkeys(ROLLING)
        self._how_hour: IntArray = np.array(
            [self._hour_of_week(self.h0 + h * HOUR) for h in range(self.nh)], np.int32
        )

    def _hour_of_week(self, epoch: float) -> int:
        d = datetime.fromtimestamp(epoch, self.tz)
        return d.weekday() * 24 + d.hour

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.n)

    def minute_index(self, t: datetime) -> int:
        """First sample at or after ``t`` (may lie outside ``[0, n)``)."""
        return math.ceil((_epoch(t) - self.t0) / MINUTE)

    def _span(self, a: datetime | None, b: datetime | None) -> tuple[int, int]:
        """Samples ``m`` with ``a <= t_m < b`` (``b`` None: open, to the end), clipped."""
        if a is None:
            return (0, 0)
        lo = max(self.minute_index(a), 0)
        hi = self.n if b is None else min(self.minute_index(b), self.n)
        return (lo, hi) if hi > lo else (0, 0)

    def minute_times(self) -> FloatArray:
        """Epoch seconds of every sample."""
        return self.t0 + MINUTE * np.arange(self.n, dtype=np.float64)

    def hour_times(self) -> FloatArray:
        return self.h0 + HOUR * np.arange(self.nh, dtype=np.float64)

    # -- calls -----------------------------------------------------------------------------------

    def _call_part(self, c: Call) -> _CallPart:
        closed_at: datetime | None = None
        if not c.is_open:
            closed_at = c.cleared_at or c.updated_at
        if c.status is CallStatus.PENDING or c.dispatched_at is None:
            pend_end = closed_at if c.status is not CallStatus.PENDING else None
            assigned = (0, 0)
        else:
            pend_end = c.dispatched_at
            assigned = self._span(c.dispatched_at, closed_at)
        limit = timedelta(seconds=self.thresholds.pending_limit(c))
        due = c.received_at + limit
        breach: float | None = None
        overdue = (0, 0)
        if pend_end is None or pend_end > due:
            overdue = self._span(due, pend_end)
            if self.t0 <= _epoch(due) < self.t0 + self.n * MINUTE:
                breach = _epoch(due)
        h = math.floor((_epoch(c.received_at) - self.h0) / HOUR)
        ivals: list[tuple[str, int, float]] = []
        for name in ROLLING:
            vals = interval_values((c,), name)
            if vals:
                done = getattr(c, _LATER[name])
                ivals.append((name, self.minute_index(done), vals[0]))
        return _CallPart(
            pending=self._span(c.received_at, pend_end),
            assigned=assigned,
            overdue=overdue,
            breach=breach,
            hour=h if 0 <= h < self.nh else None,
            type_row=CALL_TYPES.index(c.type),
            not_served=eligible_not_served((c,)) == 1,
            intervals=tuple(ivals),
        )

    def _add_call(self, cid: str, p: _CallPart, sign: int) -> None:
        for arr, (lo, hi) in (
            (self.pending, p.pending),
            (self.assigned, p.assigned),
            (self.overdue, p.overdue),
        ):
            if hi > lo:
                arr[lo:hi] += sign
        if p.hour is not None:
            self.calls_hourly[p.type_row, p.hour] += sign
            if p.not_served:
                self.not_served_hourly[p.hour] += sign
        if p.breach is not None:
            if sign > 0:
                self.breaches[cid] = p.breach
            else:
                self.breaches.pop(cid, None)
        for name, m, v in p.intervals:
            buckets = self._buckets[name]
            if sign > 0:
                bisect.insort(buckets.setdefault(m, []), v)
            else:
                lst = buckets[m]
                lst.remove(v)
                if not lst:
                    del buckets[m]
            self._mark(name, m, m + self.rolling_minutes)

    def apply_call(self, c: Call) -> bool:
        """Take in a call record (a newer description replaces the older). True if it changed."""
        old = self._calls.get(c.id)
        if old is not None and (c.updated_at, c.version) < (old.updated_at, old.version):
            return False
        if old is c or old == c:  # pictures share unchanged records: identity first
            return False
        part = self._call_part(c)
        self.first_epoch = min(self.first_epoch, _epoch(c.received_at))
        prev = self._parts.get(c.id)
        if prev is not None:
            self._add_call(c.id, prev, -1)
        self._add_call(c.id, part, +1)
        self._calls[c.id] = c
        self._parts[c.id] = part
        self._esc_changed(c.id)
        self.version += 1
        return True

    def remove_call(self, cid: str) -> None:
        prev = self._parts.pop(cid, None)
        if prev is not None:
            self._add_call(cid, prev, -1)
        self._calls.pop(cid, None)
        self._esc_changed(cid)
        self.version += 1

    # -- rolling percentiles ---------------------------------------------------------------------

    def _mark(self, name: str, lo: int, hi: int) -> None:
        lo, hi = max(lo, 0), min(hi, self.n)
        if hi <= lo:
            return
        d = self._dirty[name]
        self._dirty[name] = (lo, hi) if d is None else (min(d[0], lo), max(d[1], hi))

    def refresh(self) -> None:
        """Recompute the rolling percentiles where a change touched them (cheap: a sliding window)."""
        for name in ROLLING:
            d = self._dirty[name]
            if d is None:
                continue
            self._dirty[name] = None
            self._roll(name, d[0], d[1])

    def _roll(self, name: str, lo: int, hi: int) -> None:
        buckets = self._buckets[name]
        w = self.rolling_minutes
        window: list[float] = []
        for m in range(lo - w, lo):  # the window of sample lo - 1
            if m in buckets:
                window.extend(buckets[m])
        window.sort()
        p50, p90 = self.p50[name], self.p90[name]
        for m in range(lo, hi):
            add = buckets.get(m)
            if add:
                for v in add:
                    bisect.insort(window, v)
            gone = buckets.get(m - w)
            if gone:
                for v in gone:
                    del window[bisect.bisect_left(window, v)]
            if window:
                p50[m] = percentile(window, 0.5)
                p90[m] = percentile(window, 0.9)
            else:
                p50[m] = p90[m] = np.nan

    def interval_summary(self, name: str, start: datetime, end: datetime) -> IntervalStats:
        """Stats of the intervals that completed in ``(start, end]`` (sample buckets)."""
        lo, hi = self.minute_index(start) + 1, self.minute_index(end) + 1
        vals = [v for m, lst in self._buckets[name].items() if lo <= m < hi for v in lst]
        return interval_stats(vals)

    # -- teams -----------------------------------------------------------------------------------

    @staticmethod
    def _since(t: Team) -> datetime:
        return t.status_since or t.updated_at

    def _team_spans(self, recs: list[Team]) -> list[_TeamSpan]:
        out: list[_TeamSpan] = []
        for i, r in enumerate(recs):
            nxt = self._since(recs[i + 1]) if i + 1 < len(recs) else None
            lo, hi = self._span(self._since(r), nxt)
            out.append(_TeamSpan(_GROUP_OF[r.status], lo, hi))
        return out

    def _add_spans(self, spans: Iterable[_TeamSpan], sign: int) -> None:
        for s in spans:
            if s.group is not None and s.hi > s.lo:
                self.teams[s.group, s.lo : s.hi] += sign

    def apply_team(self, t: Team) -> bool:
        """Take in a team record: history grows by one (or, out of order, is re-laid)."""
        recs = self._teams.setdefault(t.id, [])
        if recs and recs[-1].updated_at > t.updated_at:
            return False  # superseded, as :func:`metrics.team_histories` treats it
        if recs and recs[-1] == t:
            return False
        spans = self._spans.setdefault(t.id, [])
        self.first_epoch = min(self.first_epoch, _epoch(self._since(t)))
        if recs and self._since(t) >= self._since(recs[-1]):
            # The usual case: the last span now ends where the new one starts.
            last = spans.pop()
            self._add_spans((last,), -1)
            recs.append(t)
            new = self._team_spans(recs[-2:])
            self._add_spans(new, +1)
            spans.extend(new)
        else:
            self._add_spans(spans, -1)
            recs.append(t)
            recs.sort(key=self._since)
            spans[:] = self._team_spans(recs)
            self._add_spans(spans, +1)
        self.version += 1
        return True

    def team_utilization(self, start: datetime, end: datetime) -> dict[str, float]:
        """:func:`metrics.team_utilization` over the records that matter for ``[start, end)``:
        from the one in force at ``start`` on (the result is the same; a week of history is
        not walked for a two-hour window)."""
        window: dict[str, list[Team]] = {}
        for tid, recs in self._teams.items():
            i = bisect.bisect_right(recs, start, key=self._since)
            j = bisect.bisect_right(recs, end, key=self._since)
            window[tid] = recs[max(i - 1, 0) : j + 1]
        return team_utilization(window, start, end)

    def current_teams(self) -> dict[str, Team]:
        return {tid: recs[-1] for tid, recs in self._teams.items() if recs}

    # -- escalations and backup requests ---------------------------------------------------------

    def _esc_changed(self, cid: str) -> None:
        """Re-lay one call's escalation: the event's target and time, else the call's own."""
        old = self._esc_bin.pop(cid, None)
        if old is not None:
            self.escalations[old] -= 1
        target: EscalationTarget | None = None
        at: datetime | None = None
        if cid in self._esc:
            target, at = self._esc[cid]
        else:
            c = self._calls.get(cid)
            if c is not None and c.escalated_to is not None:
                target, at = c.escalated_to, c.cleared_at or c.updated_at
        if target is None or at is None:
            return
        m = math.floor((_epoch(at) - self.t0) / MINUTE)
        if 0 <= m < self.n:
            key = (ESC_ROWS.index(target.value), m)
            self.escalations[key] += 1
            self._esc_bin[cid] = key

    def apply_escalation(self, call_id: str, target: EscalationTarget, at: datetime) -> bool:
        old = self._esc.get(call_id)
        if old is not None and (old[1], old[0].value) <= (at, target.value):
            return False  # the earliest escalation stands, as in the projection
        self._esc[call_id] = (target, at)
        self._esc_changed(call_id)
        self.version += 1
        return True

    def apply_alert(self, a: Alert) -> bool:
        if a.kind is not AlertKind.BACKUP_REQUEST or a.id in self._backup:
            return False
        m = math.floor((_epoch(a.raised_at) - self.t0) / MINUTE)
        key = (len(ESC_ROWS) - 1, m)
        if 0 <= m < self.n:
            self.escalations[key] += 1
        self._backup[a.id] = key
        self.version += 1
        return True

    # -- feeding ---------------------------------------------------------------------------------

    def apply_event(self, e: Event) -> bool:
        """One event from the log or the feed (the benchmark's unit of incremental work)."""
        if isinstance(e, CallReceived | CallUpdated):
            return self.apply_call(e.call)
        if isinstance(e, TeamStatusChanged):
            return self.apply_team(e.team)
        if isinstance(e, CallEscalated):
            return self.apply_escalation(e.call_id, e.target, e.occurred_at)
        if isinstance(e, AlertRaised):
            return self.apply_alert(e.alert)
        if isinstance(e, OutcomeRecorded | UnservedReasonGiven | NaloxoneRecorded):
            self._program = self._program.fork()  # its dicts may be a picture's: never mutated
            return fold_one(self._program, e)
        return False

    def apply(self, state: State, changes: Changes | None, *, prune: bool = True) -> bool:
        """Bring the aggregates up to a fresh picture; ``changes`` None means anything may differ.

        With ``prune`` a call missing from the picture is taken out (a replay sought back); a
        live projection never loses a call, so live pictures pass ``prune=False`` and a picture
        not loaded yet cannot empty the plots.
        """
        before = self.version
        call_ids: Iterable[str] = state.calls if changes is None else changes.calls
        for cid in call_ids:
            c = state.calls.get(cid)
            if c is None:
                if cid in self._calls:
                    self.remove_call(cid)
            elif (old := self._calls.get(cid)) is not c and old != c:
                self.apply_call(c)
        if changes is None and prune:
            for cid in [k for k in self._calls if k not in state.calls]:
                self.remove_call(cid)
        team_ids: Iterable[str] = state.teams if changes is None else changes.teams
        for tid in team_ids:
            t = state.teams.get(tid)
            if t is not None:
                self.apply_team(t)
        for cid, (target, at) in state.escalations.items():
            if self._esc.get(cid) != (target, at):
                self.apply_escalation(cid, target, at)
        alert_ids: Iterable[str] = state.alerts if changes is None else changes.alerts
        for aid in alert_ids:
            a = state.alerts.get(aid)
            if a is not None:
                self.apply_alert(a)
        if changes is None or changes.program:
            self.set_program(state)
        return self.version != before

    def set_program(self, st: State) -> None:
        """Count the program's records ``st`` holds (its records are never changed in place:
        they are shared, not copied)."""
        self._program = State(outcomes=st.outcomes, unserved=st.unserved, naloxone=st.naloxone)

    # -- growing with the clock ------------------------------------------------------------------

    def extend(self, until: datetime) -> bool:
        """Make room up to ``until`` (live time passes the span's end): re-laid from memory."""
        if until < self.end:
            return False
        calls = list(self._calls.values())
        teams = self._teams
        esc = self._esc
        backups = dict(self._backup)
        self.n = self.minute_index(until) + 24 * 60
        self._lay(calls, teams, esc, {})
        for aid, (row, m) in backups.items():
            self._backup[aid] = (row, m)
            if 0 <= m < self.n:
                self.escalations[row, m] += 1
        self.version += 1
        return True

    def _lay(
        self,
        calls: Iterable[Call],
        teams: Mapping[str, list[Team]],
        escalations: Mapping[str, tuple[EscalationTarget, datetime]],
        alerts: Mapping[str, Alert],
    ) -> None:
        self._alloc()
        self._calls, self._parts, self._esc, self._esc_bin, self._backup = {}, {}, {}, {}, {}
        self._teams, self._spans = {}, {}
        self._esc = dict(escalations)
        self.first_epoch = math.inf
        for c in calls:
            self.apply_call(c)
        for tid, recs in teams.items():
            ordered = sorted(recs, key=self._since)
            if ordered:
                self.first_epoch = min(self.first_epoch, _epoch(self._since(ordered[0])))
            self._teams[tid] = ordered
            self._spans[tid] = self._team_spans(ordered)
            self._add_spans(self._spans[tid], +1)
        for cid in self._esc:
            self._esc_changed(cid)
        for a in alerts.values():
            self.apply_alert(a)
        for name in ROLLING:
            self._dirty[name] = (0, self.n)
        self.refresh()

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def from_records(
        cls,
        start: datetime,
        end: datetime,
        *,
        calls: Iterable[Call] = (),
        teams: Mapping[str, list[Team]] | None = None,
        escalations: Mapping[str, tuple[EscalationTarget, datetime]] | None = None,
        alerts: Iterable[Alert] = (),
        **kw: Any,
    ) -> Aggregates:
        agg = cls(start, end, **kw)
        agg._lay(calls, teams or {}, escalations or {}, {a.id: a for a in alerts})
        return agg

    @classmethod
    def from_state(cls, state: State, start: datetime, end: datetime, **kw: Any) -> Aggregates:
        """From a picture alone (a file replay has no store): teams' current records only."""
        agg = cls.from_records(
            start,
            end,
            calls=state.calls.values(),
            teams={tid: [t] for tid, t in state.teams.items()},
            escalations=state.escalations,
            alerts=state.alerts.values(),
            **kw,
        )
        agg.set_program(state)
        return agg

    @classmethod
    def from_store(cls, store: Store, start: datetime, end: datetime, **kw: Any) -> Aggregates:
        """The full recompute from the database (the benchmark's baseline)."""
        agg = cls(start, end, **kw)
        since = agg.hour0
        with store.reading() as conn:
            calls = [
                call_from_dict(json.loads(d))
                for (d,) in conn.execute(
                    select(S.calls.c.data).where(
                        or_(
                            S.calls.c.received_at >= since,
                            S.calls.c.cleared_at.is_(None),
                            S.calls.c.cleared_at >= agg.start,
                        )
                    )
                )
            ]
            esc = {
                r.call_id: (EscalationTarget(r.target), r.at)
                for r in conn.execute(select(S.escalations))
            }
            alerts = [
                Alert(r.id, AlertKind(r.kind), r.severity, r.subject, r.message, r.raised_at)
                for r in conn.execute(
                    select(S.alerts).where(S.alerts.c.kind == AlertKind.BACKUP_REQUEST.value)
                )
            ]
            prog = program_records(conn)
        agg._lay(calls, team_histories(store, agg.end), esc, {a.id: a for a in alerts})
        agg._program = State(
            outcomes=dict(prog.outcomes), unserved=dict(prog.unserved), naloxone=dict(prog.naloxone)
        )
        return agg

    # -- reading ---------------------------------------------------------------------------------

    def calls_open_at(self, t: datetime) -> list[str]:
        """Ids of the calls open (pending or assigned) at the sample at or after ``t``."""
        m = self.minute_index(t)
        out = []
        for cid, p in self._parts.items():
            if p.pending[0] <= m < p.pending[1] or p.assigned[0] <= m < p.assigned[1]:
                out.append(cid)
        return sorted(out, key=lambda k: (self._calls[k].received_at, k))

    def call(self, cid: str) -> Call | None:
        return self._calls.get(cid)

    def staffed(self) -> IntArray:
        """Teams on duty (any status but off duty) per minute."""
        out: IntArray = self.teams.sum(axis=0, dtype=np.int32)
        return out

    def calls_band(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per hour: min, mean and max of all calls in the same hour of the previous 4 weeks.

        Only weeks the data reaches count (an hour before the first record is unknown, not 0);
        NaN where none does.
        """
        total = self.calls_hourly.sum(axis=0).astype(np.float64)
        first_h = (
            math.floor((self.first_epoch - self.h0) / HOUR)
            if self.first_epoch < math.inf
            else self.nh
        )
        total[: max(0, min(first_h, self.nh))] = np.nan
        weeks = np.full((HISTORY_WEEKS, self.nh), np.nan)
        for k in range(1, HISTORY_WEEKS + 1):
            lag = k * WEEK_H
            if lag < self.nh:
                weeks[k - 1, lag:] = total[: self.nh - lag]
        known = (~np.isnan(weeks)).sum(axis=0)
        ok = known > 0
        lo = np.full(self.nh, np.nan)
        mean = np.full(self.nh, np.nan)
        hi = np.full(self.nh, np.nan)
        lo[ok] = np.nanmin(weeks[:, ok], axis=0)
        mean[ok] = np.nanmean(weeks[:, ok], axis=0)
        hi[ok] = np.nanmax(weeks[:, ok], axis=0)
        return lo, mean, hi

    def coverage(self, start: datetime, end: datetime) -> tuple[FloatArray, FloatArray]:
        """By hour of week over ``[start, end)``: mean staffed teams, mean calls received.

        Only from the first record on (NaN where the span holds no known hour).
        """
        if self.first_epoch == math.inf:
            return np.full(WEEK_H, np.nan), np.full(WEEK_H, np.nan)
        start = max(start, datetime.fromtimestamp(self.first_epoch, UTC))
        lo, hi = self._span(start, end)
        staffed = np.zeros(WEEK_H)
        if hi > lo:
            m_how = self._how_hour[
                ((self.t0 + MINUTE * np.arange(lo, hi) - self.h0) // HOUR).astype(np.int64)
            ]
            sums = np.bincount(m_how, weights=self.staffed()[lo:hi], minlength=WEEK_H)
            cnt = np.bincount(m_how, minlength=WEEK_H)
            staffed = np.divide(sums, cnt, out=np.full(WEEK_H, np.nan), where=cnt > 0)
        h_lo = max(math.floor((_epoch(start) - self.h0) / HOUR), 0)
        h_hi = min(math.ceil((_epoch(end) - self.h0) / HOUR), self.nh)
        calls = np.full(WEEK_H, np.nan)
        if h_hi > h_lo:
            how = self._how_hour[h_lo:h_hi]
            tot = self.calls_hourly[:, h_lo:h_hi].sum(axis=0)
            s = np.bincount(how, weights=tot, minlength=WEEK_H)
            c = np.bincount(how, minlength=WEEK_H)
            calls = np.divide(s, c, out=np.full(WEEK_H, np.nan), where=c > 0)
        return staffed, calls

    def not_served_count(self, start: datetime, end: datetime) -> int:
        """Eligible calls received in ``[start, end)`` that closed with no team sent."""
        return eligible_not_served(c for c in self._calls.values() if start <= c.received_at < end)

    def not_served_by_hour_of_week(self, start: datetime, end: datetime) -> IntArray:
        h_lo = max(math.floor((_epoch(start) - self.h0) / HOUR), 0)
        h_hi = min(math.ceil((_epoch(end) - self.h0) / HOUR), self.nh)
        out: IntArray = np.bincount(
            self._how_hour[h_lo:h_hi],
            weights=self.not_served_hourly[h_lo:h_hi],
            minlength=WEEK_H,
        ).astype(np.int32)
        return out

    def report(self, start: datetime, end: datetime) -> dict[str, object]:
        """``report --json`` over ``[start, end]`` from the records held here (same function)."""
        esc = {k: v[0] for k, v in self._esc.items()}
        return compute_report(
            list(self._calls.values()),
            self._teams,
            esc,
            start,
            end,
            ProgramRecords.of(self._program),
        )

    def snapshot(self) -> dict[str, Any]:
        """Every array and derived table, for comparing two aggregates (tests)."""
        self.refresh()
        out: dict[str, Any] = {
            "pending": self.pending.copy(),
            "assigned": self.assigned.copy(),
            "overdue": self.overdue.copy(),
            "breaches": dict(self.breaches),
            "teams": self.teams.copy(),
            "escalations": self.escalations.copy(),
            "calls_hourly": self.calls_hourly.copy(),
            "not_served_hourly": self.not_served_hourly.copy(),
        }
        for name in ROLLING:
            out[f"p50:{name}"] = self.p50[name].copy()
            out[f"p90:{name}"] = self.p90[name].copy()
        return out


_LATER = {name: pair[1] for name, pair in INTERVALS.items()}
