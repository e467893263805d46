"""Workload aggregates: checked against numbers computed independently from the real CAD export,
and the incremental path against the full recompute.

The real-data tests load the CSV rows of ``decc_week48_cad_pseudonymized.csv`` into Call records
here (csv module, one call per row, stored through the real Store in an SQLite file), then build
the aggregates from the store; the expected values are computed separately from the raw strings
with numpy (datetime64 arithmetic, ``np.histogram``, ``np.percentile``). The end-to-end replay
through the dispatch simulator and the sync service runs the same checks on the synced database
(the ``cad_replayed`` cases, slow).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from console.domain.events import (
    Alert,
    AlertKind,
    AlertRaised,
    CallReceived,
    Event,
    Severity,
    TeamStatusChanged,
)
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.domain.projection import State, apply
from console.domain.synthetic import synthetic_shift
from console.store import Store
from console.store.read.aggregates import (
    CALL_TYPES,
    HOUR,
    MINUTE,
    ROLLING,
    WEEK_H,
    Aggregates,
)
from console.store.read.metrics import report

NY = ZoneInfo("America/New_York")
CSV_REL = Path("cad") / "decc_weekly" / "decc_week48_cad_pseudonymized.csv"
MISSING = {"", "NULL"}
# Week 48 local time lies entirely in EST (UTC-5): used only by the independent computation.
EST = np.timedelta64(5, "h")


# -- the real CAD export ------------------------------------------------------------------------


def _t(raw: str) -> datetime | None:
    raw = raw.strip()
    return None if raw in MISSING else datetime.fromisoformat(raw).replace(tzinfo=NY)


def _csv_calls(path: Path) -> list[Call]:
    """One cleared call per row, the export's own timestamps (first close, else final close)."""
    out = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        for n, row in enumerate(csv.DictReader(f)):
            rec = _t(row["Incident_Start_Time"]) or _t(row["Response_Date"])
            assert rec is not None
            cleared = _t(row["Incident_First_Close_Time"]) or _t(row["Final_Closed_Time"])
            out.append(
                Call(
                    id=f"CAD-{n:05d}",
                    status=CallStatus.CLEARED,
                    priority=2,
                    type=CALL_TYPES[n % len(CALL_TYPES)],
                    received_at=rec,
                    updated_at=cleared or rec,
                    dispatched_at=_t(row["Incident_Dispatch_Time"]),
                    onscene_at=_t(row["Incident_Arrival_Time"]),
                    cleared_at=cleared,
                    team=f"U-{n % 40}",
                    teams=(f"U-{n % 40}",),
                )
            )
    return out


def _np_times(path: Path) -> dict[str, np.ndarray]:
    """The export's columns as UTC epoch seconds (NaN where missing), by numpy alone."""
    cols: dict[str, list[str]] = {
        k: []
        for k in (
            "Incident_Start_Time",
            "Response_Date",
            "Incident_Dispatch_Time",
            "Incident_Arrival_Time",
        )
    }
    with path.open(newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            for k in cols:
                cols[k].append(row[k].strip())

    def epoch(vals: list[str]) -> np.ndarray:
        d = np.array(["NaT" if v in MISSING else v.replace(" ", "T") for v in vals], "M8[ms]")
        ms: np.ndarray = (d + EST).astype("i8").astype(np.float64)  # ms since the epoch
        ms[np.isnat(d)] = np.nan
        return ms / 1000.0

    rec = epoch(cols["Incident_Start_Time"])
    rec = np.where(np.isnan(rec), epoch(cols["Response_Date"]), rec)
    return {
        "received": rec,
        "dispatched": epoch(cols["Incident_Dispatch_Time"]),
        "onscene": epoch(cols["Incident_Arrival_Time"]),
    }


WEEK_START = datetime(2025, 11, 23, tzinfo=NY)
WEEK_END = datetime(2025, 11, 30, 12, tzinfo=NY)


@pytest.fixture(scope="module")
def cad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    path = shared / CSV_REL
    if not path.is_file():
        pytest.skip(f"real CAD export not found at {path}")
    calls = _csv_calls(path)
    db = tmp_path_factory.mktemp("cad") / "cad.sqlite"
    store = Store.open(f"sqlite:///{db}")
    store.append(
        [
            CallReceived(
                source="dispatch",
                source_id=f"csv-{c.id}",
                occurred_at=c.updated_at,
                recorded_at=c.updated_at,
                call=c,
            )
            for c in calls
        ]
    )
    agg = Aggregates.from_store(store, WEEK_START, WEEK_END, tz=NY)
    yield {"path": path, "calls": calls, "store": store, "agg": agg, "np": _np_times(path)}
    store.close()


@pytest.fixture(scope="module")
def cad_replayed(cad: dict[str, Any], cad_replay: dict[str, Path]) -> Iterator[dict[str, Any]]:
    """The same export served by the dispatch simulator (its own timestamps) over a real socket
    and synced into SQLite by the headless sync service: the end-to-end path."""
    db = f"sqlite:///{cad_replay['db']}"
    store = Store.open(db, create=False)
    agg = Aggregates.from_store(store, WEEK_START, WEEK_END, tz=NY)
    yield {**cad, "store": store, "agg": agg}
    store.close()


SOURCES = [
    "cad",
    pytest.param("cad_replayed", marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
]


@pytest.mark.parametrize("source", SOURCES)
def test_calls_per_hour_equal_csv_histogram(request: pytest.FixtureRequest, source: str) -> None:
    cad = request.getfixturevalue(source)
    agg: Aggregates = cad["agg"]
    rec = cad["np"]["received"]
    assert not np.isnan(rec).any()
    edges = agg.h0 + HOUR * np.arange(agg.nh + 1, dtype=np.float64)
    expected, _ = np.histogram(rec, bins=edges)
    got = agg.calls_hourly.sum(axis=0)
    assert got.sum() == len(rec) == 1493
    np.testing.assert_array_equal(got, expected)
    if source == "cad":  # by type too: the test gave row n the type n mod 10
        kinds = np.arange(len(rec)) % len(CALL_TYPES)
        for k in range(len(CALL_TYPES)):
            exp_k, _ = np.histogram(rec[kinds == k], bins=edges)
            np.testing.assert_array_equal(agg.calls_hourly[k], exp_k)
    # A busy hour really is busy: the week's peak hour has several calls.
    assert expected.max() >= 10


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("name", "later"),
    [("received_to_dispatched", "dispatched"), ("received_to_onscene", "onscene")],
)
def test_rolling_percentiles_equal_csv(
    request: pytest.FixtureRequest, source: str, name: str, later: str
) -> None:
    """At every whole hour: p50/p90 of the intervals completed in the hour before, as numpy."""
    cad = request.getfixturevalue(source)
    agg: Aggregates = cad["agg"]
    t = cad["np"]
    d = t[later] - t["received"]
    ok = ~np.isnan(d) & (d >= 0)
    vals, done = d[ok], t[later][ok]
    assert agg.rolling_minutes == 60
    checked = 0
    for m in range(60, agg.n, 60):
        h = agg.t0 + m * MINUTE
        sel = vals[(done > h - 3600) & (done <= h)]
        if sel.size == 0:
            assert math.isnan(agg.p50[name][m]) and math.isnan(agg.p90[name][m])
            continue
        # 1 ms: the feed carries times to the millisecond, as the export does.
        assert agg.p50[name][m] == pytest.approx(np.percentile(sel, 50), abs=1e-3)
        assert agg.p90[name][m] == pytest.approx(np.percentile(sel, 90), abs=1e-3)
        checked += 1
    assert checked > 100  # most hours of the week have completed calls


@pytest.mark.parametrize("source", SOURCES)
def test_week_percentiles_equal_csv_and_report(request: pytest.FixtureRequest, source: str) -> None:
    cad = request.getfixturevalue(source)
    agg: Aggregates = cad["agg"]
    t = cad["np"]
    lo, hi = WEEK_START.timestamp(), WEEK_END.timestamp()
    rep = report(cad["store"], WEEK_START, WEEK_END)
    mine = agg.report(WEEK_START, WEEK_END)
    assert mine["intervals_s"] == rep["intervals_s"]
    assert mine["calls_received"] == rep["calls_received"] == 1493
    for name, later in (
        ("received_to_dispatched", "dispatched"),
        ("received_to_onscene", "onscene"),
    ):
        d = t[later] - t["received"]
        by_received = d[~np.isnan(d) & (d >= 0) & (t["received"] >= lo) & (t["received"] <= hi)]
        s = rep["intervals_s"][name]  # type: ignore[index]
        assert s["n"] == by_received.size
        assert s["p50"] == pytest.approx(np.percentile(by_received, 50), abs=1e-3)
        assert s["p90"] == pytest.approx(np.percentile(by_received, 90), abs=1e-3)
        # Completed-in-window view (what the rolling plot aggregates).
        done = t[later]
        by_done = d[~np.isnan(d) & (d >= 0) & (done > lo) & (done <= hi)]
        got = agg.interval_summary(name, WEEK_START, WEEK_END)
        assert got.n == by_done.size
        assert got.p90 == pytest.approx(np.percentile(by_done, 90), abs=1e-3)


def test_open_calls_equal_csv(cad: dict[str, Any]) -> None:
    """Pending / assigned at every hour, counted straight from the loaded records."""
    agg: Aggregates = cad["agg"]
    calls: list[Call] = cad["calls"]
    for m in range(0, agg.n, 97):
        t = agg.start + timedelta(minutes=m)
        pend = sum(
            1
            for c in calls
            if c.received_at <= t < (c.dispatched_at or c.cleared_at or c.received_at)
        )
        asg = sum(
            1
            for c in calls
            if c.dispatched_at is not None and c.dispatched_at <= t < (c.cleared_at or c.updated_at)
        )
        assert (int(agg.pending[m]), int(agg.assigned[m])) == (pend, asg), t
        assert len(agg.calls_open_at(t)) == pend + asg


# -- incremental == full recompute --------------------------------------------------------------


def _equal(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):
            assert a[k] == b[k], k
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _batches(evs: list[Event], rng: random.Random) -> Iterator[list[Event]]:
    i = 0
    while i < len(evs):
        k = rng.randint(1, 40)
        yield evs[i : i + k]
        i += k


def _with_backups(evs: list[Event], every: int) -> list[Event]:
    out: list[Event] = []
    for i, e in enumerate(evs):
        out.append(e)
        if i % every == every - 1:
            a = Alert(
                f"backup_request:CRT-{i % 5 + 1}:{i}",
                AlertKind.BACKUP_REQUEST,
                Severity.CRITICAL,
                f"CRT-{i % 5 + 1}",
                "Team requests backup",
                e.occurred_at,
            )
            out.append(
                AlertRaised(
                    source="dispatch",
                    source_id=f"alert-{i}",
                    occurred_at=e.occurred_at,
                    recorded_at=e.occurred_at,
                    alert=a,
                )
            )
    return out


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink would replay many shifts
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(1, 10_000), n=st.integers(50, 900), split=st.integers(0, 10_000))
def test_incremental_equals_full_recompute(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n: int, split: int
) -> None:
    start = datetime(2026, 11, 20, 7, tzinfo=UTC)
    evs = _with_backups(synthetic_shift(n, seed=seed, start=start, teams=6), 37)
    end = start + timedelta(hours=30)
    db = tmp_path_factory.mktemp("inc") / "inc.sqlite"
    store = Store.open(f"sqlite:///{db}")
    try:
        by_event = Aggregates(start, end, rolling_minutes=30)
        by_picture = Aggregates(start, end, rolling_minutes=30)
        state = State()
        rng = random.Random(split)
        for batch in _batches(evs, rng):
            res = store.append(batch)
            for e in res.appended:
                by_event.apply_event(e)
                apply(state, e)
            # The panel's path: a picture and what changed (the escalations are not in Changes).
            by_picture.apply(state, res.changes)
        full = Aggregates.from_store(store, start, end, rolling_minutes=30)
        _equal(by_event.snapshot(), full.snapshot())
        # A picture holds each team's last record only: a team that changed twice between two
        # pictures loses the middle status until the panel's periodic rebuild, so the picture
        # path is compared on everything else.
        pic, ref = by_picture.snapshot(), full.snapshot()
        del pic["teams"], ref["teams"]
        _equal(pic, ref)
        assert full.pending.any() and full.teams.any()
        assert by_event.report(start, end) == report(store, start, end)
    finally:
        store.close()


def test_picture_with_unknown_changes_matches_and_removes() -> None:
    start = datetime(2026, 11, 20, 7, tzinfo=UTC)
    evs = synthetic_shift(600, seed=9, start=start, teams=5)
    end = start + timedelta(hours=12)
    state = State()
    for e in evs:
        apply(state, e)
    agg = Aggregates(start, end)
    agg.apply(state, None)
    ref = Aggregates.from_state(state, start, end)
    snap = agg.snapshot()
    _equal(snap, ref.snapshot())
    # A replay sought backwards: calls that no longer exist take their contribution back.
    smaller = State()
    for e in evs[:200]:
        apply(smaller, e)
    agg.apply(smaller, None)
    ref2 = Aggregates.from_state(smaller, start, end)
    np.testing.assert_array_equal(agg.pending, ref2.pending)
    np.testing.assert_array_equal(agg.calls_hourly, ref2.calls_hourly)


def test_extend_keeps_everything_and_makes_room() -> None:
    start = datetime(2026, 11, 20, 7, tzinfo=UTC)
    evs = synthetic_shift(500, seed=4, start=start, teams=5)
    agg = Aggregates(start, start + timedelta(hours=2))
    for e in evs:
        agg.apply_event(e)
    last = max(e.occurred_at for e in evs)
    assert agg.extend(last + timedelta(hours=1))
    assert agg.end > last
    ref = Aggregates(start, agg.end)
    for e in evs:
        ref.apply_event(e)
    _equal(agg.snapshot(), ref.snapshot())


# -- hand-made cases ----------------------------------------------------------------------------


def _call(cid: str, rec: datetime, **kw: Any) -> Call:
    return Call(cid, kw.pop("status", CallStatus.PENDING), 2, CallType.OTHER, rec, rec, **kw)


def test_breach_and_overdue_follow_the_priority_limit() -> None:
    t0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
    agg = Aggregates(t0, t0 + timedelta(hours=2))
    c = _call("A", t0 + timedelta(minutes=1))
    agg.apply_call(c)  # priority 2: limit 600 s
    assert agg.breaches == {"A": (t0 + timedelta(minutes=11)).timestamp()}
    assert agg.overdue[10] == 0 and agg.overdue[11] == 1 and agg.overdue[-1] == 1
    done = replace(
        c,
        status=CallStatus.ASSIGNED,
        dispatched_at=t0 + timedelta(minutes=5),
        updated_at=t0 + timedelta(minutes=5),
        version=2,
    )
    agg.apply_call(done)  # dispatched before the limit: never overdue
    assert agg.breaches == {} and not agg.overdue.any()
    assert agg.pending[1:5].tolist() == [1] * 4 and agg.pending[5] == 0
    assert agg.assigned[5] == 1 and agg.assigned[-1] == 1
    # An older description arriving late changes nothing.
    assert not agg.apply_call(c)


def test_band_uses_only_known_previous_weeks() -> None:
    t0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
    agg = Aggregates(t0, t0 + timedelta(hours=3))
    for k, count in ((1, 2), (2, 5)):  # 1 and 2 weeks back, same hour
        for i in range(count):
            agg.apply_call(_call(f"w{k}-{i}", t0 - timedelta(weeks=k) + timedelta(minutes=i)))
    lo, mean, hi = agg.calls_band()
    h = math.floor((t0.timestamp() - agg.h0) / HOUR)
    # Weeks 3 and 4 back are before the first record: unknown, not zero.
    assert (lo[h], mean[h], hi[h]) == (2.0, 3.5, 5.0)
    assert math.isnan(mean[h - 3 * WEEK_H])


def test_coverage_and_not_served() -> None:
    mon = datetime(2026, 11, 23, 8, tzinfo=UTC)  # a Monday
    agg = Aggregates(mon, mon + timedelta(days=1), tz=UTC)
    agg.apply_team(Team("T1", TeamStatus.AVAILABLE, mon, status_since=mon))
    off = mon + timedelta(hours=8)
    agg.apply_team(Team("T1", TeamStatus.OFF_DUTY, off, status_since=off))
    late = mon + timedelta(hours=10, minutes=5)
    agg.apply_call(
        _call("N", late, status=CallStatus.CANCELLED, cleared_at=late + timedelta(minutes=20))
    )
    staffed, calls = agg.coverage(mon, mon + timedelta(hours=12))
    assert staffed[8:16].tolist() == [1.0] * 8 and staffed[16:20].tolist() == [0.0] * 4
    assert calls[18] == 1.0 and calls[17] == 0.0
    assert agg.not_served_count(mon, mon + timedelta(days=1)) == 1
    assert agg.not_served_by_hour_of_week(mon, mon + timedelta(days=1))[18] == 1
    assert agg.team_utilization(mon, off) == {"T1": 0.0}


def test_team_events_feed_status_groups() -> None:
    t0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
    agg = Aggregates(t0, t0 + timedelta(hours=1))
    seq = [
        (0, TeamStatus.AVAILABLE),
        (10, TeamStatus.EN_ROUTE),
        (20, TeamStatus.ON_SCENE),
        (40, TeamStatus.OUT_OF_SERVICE),
    ]
    for i, (m, s) in enumerate(seq):
        t = t0 + timedelta(minutes=m)
        agg.apply_event(
            TeamStatusChanged(
                source="dispatch",
                source_id=f"t{i}",
                occurred_at=t,
                recorded_at=t,
                team=Team("T1", s, t, status_since=t),
            )
        )
    groups = agg.teams.argmax(axis=0)
    assert groups[:10].tolist() == [0] * 10
    assert groups[10:20].tolist() == [1] * 10
    assert groups[20:40].tolist() == [2] * 20
    assert groups[40:].tolist() == [4] * 20
    assert agg.staffed().tolist() == [1] * 60


def test_bad_spans_are_refused() -> None:
    t0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match="empty"):
        Aggregates(t0, t0)
    with pytest.raises(ValueError, match="naive"):
        Aggregates(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="rolling"):
        Aggregates(t0, t0 + timedelta(hours=1), rolling_minutes=0)
    assert set(ROLLING) <= {"received_to_dispatched", "received_to_onscene"}
