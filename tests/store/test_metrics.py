from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from console.domain.model import CallStatus
from console.domain.projection import fold
from console.domain.synthetic import synthetic_shift
from console.store import Store
from console.store.read.metrics import INTERVALS, percentile, report

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_percentile_matches_numpy_linear(q: float) -> None:
    vals = sorted([3.0, 1.0, 7.5, 2.0, 10.0, 4.25, 9.0])
    assert percentile(vals, q) == pytest.approx(float(np.percentile(vals, q * 100)))


def test_report_against_independent_computation(db_url: str) -> None:
    events = synthetic_shift(1200, seed=9, start=START)
    store = Store.open(db_url)
    store.append(events)
    rep = report(store)
    calls = list(fold(events).calls.values())
    assert rep["calls_received"] == len(calls)
    assert rep["calls_cleared"] == sum(c.status is CallStatus.CLEARED for c in calls)
    assert rep["calls_escalated"] == sum(c.status is CallStatus.ESCALATED for c in calls)
    assert (
        rep["escalations"]["police"] == rep["calls_escalated"]
    )  # the generator escalates to police
    for name, (a, b) in INTERVALS.items():
        vals = [
            (getattr(c, b) - getattr(c, a)).total_seconds()
            for c in calls
            if getattr(c, a) and getattr(c, b) and getattr(c, b) >= getattr(c, a)
        ]
        got = rep["intervals_s"][name]  # type: ignore[index]
        assert got["n"] == len(vals)
        if vals:
            assert got["p50"] == pytest.approx(float(np.percentile(vals, 50)))
            assert got["p90"] == pytest.approx(float(np.percentile(vals, 90)))
            assert got["mean"] == pytest.approx(float(np.mean(vals)))
    util = rep["team_utilization"]
    assert set(util) == {f"CRT-{i}" for i in range(1, 13)}  # type: ignore[arg-type]
    assert all(0.0 <= v <= 1.0 for v in util.values())  # type: ignore[union-attr]
    assert rep["eligible_not_served"] == sum(
        1 for c in calls if not c.safety_flags and not c.is_open and not c.teams
    )
