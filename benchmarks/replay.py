"""``bench seek``: reaching a random instant of a 24-hour, 100,000-event shift.

Baseline, measured in the same run on the same events: folding from the start of the shift up to
that instant (what replay would do without snapshots). Target: worst < 50 ms, ratio <= 0.02.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.events import (
    CallReceived,
    CallUpdated,
    Event,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import Call, Position, Team
from console.domain.synthetic import synthetic_shift
from console.replay.engine import ReplayEngine

START = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def compress(events: list[Event], start: datetime, span: timedelta) -> list[Event]:
    """The same shift with every time scaled into [start, start + span] (order kept)."""
    last = max(e.occurred_at for e in events)
    k = span / max(last - start, timedelta(seconds=1))

    def f(t: datetime) -> datetime:
        return start + (t - start) * k

    def g(t: datetime | None) -> datetime | None:
        return None if t is None else f(t)

    def call(c: Call) -> Call:
        return replace(
            c,
            received_at=f(c.received_at),
            updated_at=f(c.updated_at),
            dispatched_at=g(c.dispatched_at),
            enroute_at=g(c.enroute_at),
            onscene_at=g(c.onscene_at),
            cleared_at=g(c.cleared_at),
        )

    def team(t: Team) -> Team:
        return replace(
            t,
            updated_at=f(t.updated_at),
            status_since=g(t.status_since),
            last_checkin=g(t.last_checkin),
        )

    out: list[Event] = []
    for e in events:
        kw: dict[str, Any] = {"occurred_at": f(e.occurred_at), "recorded_at": f(e.recorded_at)}
        if isinstance(e, CallReceived | CallUpdated):
            kw["call"] = call(e.call)
        elif isinstance(e, TeamStatusChanged):
            kw["team"] = team(e.team)
        elif isinstance(e, TeamPositionReported):
            p = e.position
            kw["position"] = Position(p.lat, p.lon, f(p.at))
        out.append(replace(e, **kw))
    return out


def bench_seek(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 100_000
    trials = 30 if quick else 60
    events = compress(synthetic_shift(n, seed=5, start=START), START, DAY)
    t0 = time.perf_counter()
    engine = ReplayEngine([], events, START, START + DAY)
    build_s = time.perf_counter() - t0
    rng = random.Random(42)
    instants = [START + DAY * rng.random() for _ in range(trials)]
    seeks: list[float] = []
    folds: list[float] = []
    for t in instants:
        a = time.perf_counter()
        engine.state_at(t)
        seeks.append(time.perf_counter() - a)
        a = time.perf_counter()
        engine.fold_from_start(t)
        folds.append(time.perf_counter() - a)
    mean = sum(seeks) / len(seeks)
    base = sum(folds) / len(folds)
    return [
        {
            "name": "seek",
            "unit": "ms",
            "value": round(mean * 1000, 3),
            "worst_ms": round(max(seeks) * 1000, 3),
            "baseline": "fold from the start of the shift to the same instant",
            "baseline_value": round(base * 1000, 3),
            "baseline_worst_ms": round(max(folds) * 1000, 3),
            "ratio": round(mean / base, 4),
            "events": len(events),
            "trials": trials,
            "snapshot_every": engine.snapshot_every,
            "build_s": round(build_s, 3),
            "target": "worst < 50 ms, ratio <= 0.02",
        }
    ]
