"""Workload and response metrics (CONTRACTS.md ``report --json``).

Pure functions over domain records so the report, the plots and replay compute the same numbers
the same way; :func:`report` loads the records it needs from the store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from console.domain.codec import call_from_dict, program_record_from_dict, team_from_dict
from console.domain.model import Call, CallStatus, EscalationTarget, Team, TeamStatus
from console.domain.outcomes import needs_outcome
from console.domain.program import (
    CallOutcome,
    NaloxoneDose,
    Outcome,
    UnservedReason,
    UnservedRecord,
)
from console.domain.projection import State
from console.domain.unserved import is_eligible_unserved

from .. import schema as S
from ..store import Store

INTERVALS: dict[str, tuple[str, str]] = {
    "received_to_dispatched": ("received_at", "dispatched_at"),
    "dispatched_to_enroute": ("dispatched_at", "enroute_at"),
    "enroute_to_onscene": ("enroute_at", "onscene_at"),
    "received_to_onscene": ("received_at", "onscene_at"),
    "onscene_to_cleared": ("onscene_at", "cleared_at"),
}


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    n = len(sorted_values)
    if n == 0:
        return 0.0
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac)


@dataclass(frozen=True, slots=True)
class IntervalStats:
    n: int
    p50: float
    p90: float
    mean: float

    def as_json(self) -> dict[str, float | int]:
        return {"n": self.n, "p50": self.p50, "p90": self.p90, "mean": self.mean}


def interval_values(calls: Iterable[Call], name: str) -> list[float]:
    """Seconds of one interval over the calls where both ends exist and are in order."""
    a, b = INTERVALS[name]
    out: list[float] = []
    for c in calls:
        t0, t1 = getattr(c, a), getattr(c, b)
        if t0 is None or t1 is None:
            continue
        d = (t1 - t0).total_seconds()
        if d >= 0:
            out.append(d)
    return out


def interval_stats(values: Iterable[float]) -> IntervalStats:
    v = sorted(values)
    if not v:
        return IntervalStats(0, 0.0, 0.0, 0.0)
    return IntervalStats(len(v), percentile(v, 0.5), percentile(v, 0.9), sum(v) / len(v))


def eligible_not_served(calls: Iterable[Call]) -> int:
    """Calls a civilian team could have taken (no safety flag) that closed with no team sent."""
    return sum(1 for c in calls if is_eligible_unserved(c))


_BUSY = {s.value for s in TeamStatus if s.busy}


def team_utilization(
    histories: dict[str, list[Team]], start: datetime, end: datetime
) -> dict[str, float]:
    """Share of on-duty time in [start, end) each team spent working a call.

    ``histories`` holds each team's successive records (from the event log), oldest first.
    Off-duty time counts in neither part; out-of-service time counts as on duty, not busy.
    """
    out: dict[str, float] = {}
    for tid, recs in histories.items():
        busy = duty = 0.0
        for i, r in enumerate(recs):
            t0 = max(r.status_since or r.updated_at, start)
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            t1 = min((nxt.status_since or nxt.updated_at) if nxt else end, end)
            span = (t1 - t0).total_seconds()
            if span <= 0 or r.status is TeamStatus.OFF_DUTY:
                continue
            duty += span
            if r.status.value in _BUSY:
                busy += span
        if duty > 0:
            out[tid] = round(busy / duty, 4)
    return out


@dataclass(frozen=True, slots=True)
class ProgramRecords:
    """The program's own records a report counts (call id -> record; naloxone by event)."""

    outcomes: Mapping[str, CallOutcome] = field(default_factory=dict)
    unserved: Mapping[str, UnservedRecord] = field(default_factory=dict)
    naloxone: Mapping[str, NaloxoneDose] = field(default_factory=dict)

    @classmethod
    def of(cls, st: State) -> ProgramRecords:
        return cls(st.outcomes, st.unserved, st.naloxone)


def program_figures(chosen: Sequence[Call], program: ProgramRecords) -> dict[str, object]:
    """Why the eligible calls went unserved, outcomes, calls needing one, naloxone given, over
    the chosen calls (``not_served_reasons`` adds up to ``eligible_not_served``)."""
    reasons: dict[str, int] = {r.value: 0 for r in UnservedReason}
    reasons["not_recorded"] = 0
    outcomes: dict[str, int] = {o.value: 0 for o in Outcome}
    needing = 0
    ids = set()
    for c in chosen:
        ids.add(c.id)
        if is_eligible_unserved(c):
            rec = program.unserved.get(c.id)
            reasons[rec.reason.value if rec is not None else "not_recorded"] += 1
        o = program.outcomes.get(c.id)
        if o is not None:
            outcomes[o.outcome.value] += 1
        elif needs_outcome(c, program.outcomes):
            needing += 1
    doses = [d for d in program.naloxone.values() if d.call_id in ids]
    return {
        "not_served_reasons": reasons,
        "outcomes": outcomes,
        "needs_outcome": needing,
        "naloxone": {
            "calls": len({d.call_id for d in doses}),
            "doses": sum(d.doses for d in doses),
        },
    }


def compute_report(
    calls: Sequence[Call],
    histories: dict[str, list[Team]],
    escalations: dict[str, EscalationTarget],
    start: datetime,
    end: datetime,
    program: ProgramRecords | None = None,
) -> dict[str, object]:
    """The report over calls received in [start, end] (``program``: the program's records;
    None counts none)."""
    chosen = [c for c in calls if start <= c.received_at <= end]
    esc = {t.value: 0 for t in EscalationTarget}
    for c in chosen:
        target = escalations.get(c.id) or c.escalated_to
        if target is not None:
            esc[target.value] += 1
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "calls_received": len(chosen),
        "calls_cleared": sum(1 for c in chosen if c.status is CallStatus.CLEARED),
        "calls_escalated": sum(1 for c in chosen if c.status is CallStatus.ESCALATED),
        "escalations": esc,
        "intervals_s": {
            name: interval_stats(interval_values(chosen, name)).as_json() for name in INTERVALS
        },
        "team_utilization": team_utilization(histories, start, end),
        "eligible_not_served": eligible_not_served(chosen),
        **program_figures(chosen, program or ProgramRecords()),
    }


def team_histories(
    store: Store, end: datetime | None = None, *, since: datetime | None = None
) -> dict[str, list[Team]]:
    """Each team's successive records, oldest first, from the event log (those that occurred
    from ``since`` to ``end`` when given)."""
    q = (
        select(S.events.c.payload)
        .where(S.events.c.kind == "team_status")
        .order_by(S.events.c.occurred_at, S.events.c.seq)
    )
    if end is not None:
        q = q.where(S.events.c.occurred_at <= end)
    if since is not None:
        q = q.where(S.events.c.occurred_at >= since)
    out: dict[str, list[Team]] = {}
    with store.reading() as conn:
        for (payload,) in conn.execute(q):
            t = team_from_dict(json.loads(payload)["team"])
            recs = out.setdefault(t.id, [])
            if recs and recs[-1].updated_at > t.updated_at:
                continue  # an out-of-order record superseded by a newer one
            recs.append(t)
    return out


def report(
    store: Store, start: datetime | None = None, end: datetime | None = None
) -> dict[str, object]:
    with store.reading() as conn:
        calls = [call_from_dict(json.loads(d)) for (d,) in conn.execute(select(S.calls.c.data))]
        escal = {r.call_id: EscalationTarget(r.target) for r in conn.execute(select(S.escalations))}
        last = conn.execute(
            select(S.events.c.occurred_at).order_by(S.events.c.occurred_at.desc()).limit(1)
        ).scalar()
        program = program_records(conn)
    if start is None:
        start = min((c.received_at for c in calls), default=last or store.clock.now())
    if end is None:
        end = max([last or start, *(c.received_at for c in calls)])
    return compute_report(calls, team_histories(store, end), escal, start, end, program)


def program_records(conn: Connection) -> ProgramRecords:
    """The outcomes, unserved reasons and naloxone records the store holds."""
    held: dict[str, dict[str, Any]] = {"outcome": {}, "unserved": {}, "naloxone": {}}
    q = select(S.program_records.c.kind, S.program_records.c.key, S.program_records.c.data).where(
        S.program_records.c.kind.in_(list(held))
    )
    for kind, key, data in conn.execute(q):
        held[kind][key] = program_record_from_dict(kind, json.loads(data))
    return ProgramRecords(held["outcome"], held["unserved"], held["naloxone"])


def report_from_state(
    state: State, histories: dict[str, list[Team]], start: datetime, end: datetime
) -> dict[str, object]:
    esc = {k: v[0] for k, v in state.escalations.items()}
    return compute_report(
        list(state.calls.values()), histories, esc, start, end, ProgramRecords.of(state)
    )
