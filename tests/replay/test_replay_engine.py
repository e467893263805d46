"""The replay engine: seeking gives exactly what folding from the start gives; the clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain.events import Alert, AlertKind, AlertRaised, CallEscalated, Event, Severity
from console.domain.model import CallStatus
from console.domain.projection import fold
from console.domain.synthetic import synthetic_shift
from console.replay.engine import (
    MAX_SPEED,
    MIN_SPEED,
    PlaybackClock,
    ReplayEngine,
    ReplayError,
    base_events,
    load_from_store,
)
from console.store import Store

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
EVENTS = synthetic_shift(900, seed=9, start=START)
LAST = max(e.occurred_at for e in EVENTS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.floats(0.0, 0.9),
    frac=st.floats(-0.05, 1.05),
    every=st.integers(1, 80),
    shuffle_seed=st.integers(0, 10_000),
    dup_every=st.integers(3, 50),
)
def test_seek_equals_folding_from_the_start(
    cut: float, frac: float, every: int, shuffle_seed: int, dup_every: int
) -> None:
    span = LAST - START
    start = START + span * cut
    end = LAST + timedelta(seconds=1)
    before = [e for e in EVENTS if e.occurred_at < start]
    in_range = [e for e in EVENTS if e.occurred_at >= start]
    base = base_events(before)
    # The log's order is arrival order, not occurrence order; facts may be delivered twice.
    arrived = list(in_range) + in_range[::dup_every]
    random.Random(shuffle_seed).shuffle(arrived)
    engine = ReplayEngine(base, arrived, start, end, snapshot_every=every)
    t = start + (end - start) * frac
    expected = fold([*base, *(e for e in in_range if e.occurred_at <= t)])
    got = engine.state_at(t)
    assert got.same_picture(expected)
    # and seeking is repeatable: the snapshot it started from was not changed by the fold
    assert engine.state_at(t).same_picture(expected)


def test_a_base_reproduces_what_is_open_at_the_start() -> None:
    start = START + (LAST - START) / 2
    before = [e for e in EVENTS if e.occurred_at < start]
    full = fold(before)
    base = fold(base_events(before))
    open_calls = {k: c for k, c in full.calls.items() if c.is_open}
    assert open_calls, "the cut should leave calls open"
    assert {k: c for k, c in base.calls.items()} == open_calls
    assert base.teams == full.teams
    assert base.positions == full.positions
    assert len(base_events(before)) < len(before) / 3


def test_replay_of_a_whole_database_ends_on_the_live_picture(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'live.db'}")
    for i in range(0, len(EVENTS), 300):
        store.append(EVENTS[i : i + 300])
    data = load_from_store(store, START - timedelta(minutes=1), LAST + timedelta(seconds=1))
    engine = ReplayEngine.from_shift(data)
    live = store.load_state()
    assert engine.state_at(LAST).same_picture(live)
    assert engine.report() == _live_report(store, engine)
    store.close()


def _live_report(store: Store, engine: ReplayEngine) -> dict[str, object]:
    from console.store.read.metrics import report

    return report(store, engine.start, engine.end)


def test_playback_clock_plays_pauses_and_clamps_speed() -> None:
    engine = ReplayEngine([], EVENTS, START, LAST)
    clock = PlaybackClock(engine)
    assert clock.advance(10) == START  # paused: time stands still
    clock.set_speed(60)
    clock.play()
    assert clock.advance(2.0) == START + timedelta(seconds=120)
    clock.pause()
    assert clock.advance(5) == START + timedelta(seconds=120)
    assert clock.set_speed(10_000) == MAX_SPEED
    assert clock.set_speed(0.01) == MIN_SPEED
    clock.set_speed(1)
    assert clock.faster() > 1 and clock.slower() == 1
    clock.set_speed(MAX_SPEED)
    clock.play()
    while clock.playing:
        clock.advance(3600)
    assert clock.now() == LAST  # stops at the end
    with pytest.raises(ReplayError):
        clock.set_speed(float("nan"))


def test_stepping_moves_event_by_event() -> None:
    engine = ReplayEngine([], EVENTS, START, LAST)
    clock = PlaybackClock(engine)
    times = sorted({e.occurred_at for e in EVENTS})
    seen = []
    for _ in range(5):
        seen.append(clock.step_next())
    assert seen == [t for t in times if t > START][:5]
    back = clock.step_previous()
    assert back == seen[-2]
    clock.jump_to(START - timedelta(days=1))
    assert clock.now() == START
    with pytest.raises(ReplayError):
        clock.jump_to(datetime(2026, 1, 1))


def test_stops_halt_playback_on_a_decision_point() -> None:
    engine = ReplayEngine([], EVENTS, START, LAST)
    clock = PlaybackClock(engine)
    stop = START + timedelta(minutes=30)
    clock.stops = [stop]
    clock.set_speed(600)
    clock.play()
    while clock.playing:
        clock.advance(0.5)
    assert clock.now() == stop and clock.stopped_at == stop


def test_jump_to_the_next_key_event_of_a_kind() -> None:
    t0 = START + timedelta(hours=1)
    backup = AlertRaised(
        source="dispatch",
        source_id="bk-1",
        occurred_at=t0,
        recorded_at=t0,
        alert=Alert(
            "backup_request:CRT-2",
            AlertKind.BACKUP_REQUEST,
            Severity.CRITICAL,
            "CRT-2",
            "CRT-2 requests backup",
            t0,
        ),
    )
    events: list[Event] = [*EVENTS, backup]
    engine = ReplayEngine([], events, START, LAST)
    escalations = sorted(e.occurred_at for e in EVENTS if isinstance(e, CallEscalated))
    assert escalations, "the synthetic shift should escalate some calls"
    clock = PlaybackClock(engine)
    m = clock.jump_to_next("escalation")
    assert m is not None and m.at == escalations[0] and clock.now() == escalations[0]
    m2 = clock.jump_to_next("escalation")
    assert m2 is not None and m2.at == min(t for t in escalations if t > escalations[0])
    clock.jump_to(START)
    b = clock.jump_to_next("backup")
    assert b is not None and b.at == t0 and b.subject == "CRT-2"
    with pytest.raises(ReplayError):
        clock.jump_to_next("lunch")


def test_overdue_marks_follow_the_pending_thresholds() -> None:
    engine = ReplayEngine([], EVENTS, START, LAST)
    th = engine.thresholds
    expected = set()
    for c in fold(EVENTS).calls.values():
        due = c.received_at + timedelta(seconds=th.pending_limit(c))
        if due > LAST:
            continue
        then = fold([e for e in EVENTS if e.occurred_at <= due]).calls[c.id]
        if then.status is CallStatus.PENDING:
            expected.add((c.id, due))
    got = {(m.subject, m.at) for m in engine.marks() if m.kind == "overdue"}
    assert expected, "the synthetic shift should leave some calls waiting too long"
    assert got == expected


def test_density_counts_every_event() -> None:
    engine = ReplayEngine([], EVENTS, START, LAST)
    d = engine.density(50)
    assert len(d) == 50 and sum(d) == len(EVENTS)


def test_a_backwards_range_is_refused() -> None:
    with pytest.raises(ReplayError):
        ReplayEngine([], EVENTS, LAST, START)
