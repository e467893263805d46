"""Workload and response metrics (CONTRACTS.md ``report --json``).

Pure functions over domain records so the report, the plots and replay compute the same numbers
the same way; :func:`report` loads the records it needs from the store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from console.domain.codec import call_from_dict, team_from_dict
from console.domain.model import Call, CallStatus, EscalationTarget, Team, TeamStatus
from console.domain.projection import State

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
    return sum(
        1 for c in calls if not c.safety_flags and not c.is_open and not c.teams and c.team is None
    )


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


def compute_report(
    calls: Sequence[Call],
    histories: dict[str, list[Team]],
    escalations: dict[str, EscalationTarget],
    start: datetime,
    end: datetime,
) -> dict[str, object]:
    """The report over calls received in [start, end]."""
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
    if start is None:
        start = min((c.received_at for c in calls), default=last or store.clock.now())
    if end is None:
        end = max([last or start, *(c.received_at for c in calls)])
    return compute_report(calls, team_histories(store, end), escal, start, end)


def report_from_state(
    state: State, histories: dict[str, list[Team]], start: datetime, end: datetime
) -> dict[str, object]:
    esc = {k: v[0] for k, v in state.escalations.items()}
    return compute_report(list(state.calls.values()), histories, esc, start, end)
