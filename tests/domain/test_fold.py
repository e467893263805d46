"""The projection is a pure, order-free fold."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.codec import event_from_dict, event_to_dict
from console.domain.commands import AssignTeam, CommandStatus
from console.domain.events import (
    CallUpdated,
    CommandConfirmed,
    CommandRequested,
    Event,
)
from console.domain.lifecycle import TransitionError
from console.domain.model import CallStatus
from console.domain.projection import State, apply, fold
from console.domain.synthetic import synthetic_shift

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SHIFT = synthetic_shift(400, seed=3, start=START)


def one_by_one(events: list[Event]) -> State:
    s = State()
    for e in events:
        apply(s, e)
    return s


def test_fold_equals_one_by_one_in_order() -> None:
    assert fold(SHIFT).same_picture(one_by_one(SHIFT))


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=80))
def test_any_order_with_duplicates_gives_the_same_state(rnd: random.Random, n_dups: int) -> None:
    expected = fold(SHIFT)
    shuffled = list(SHIFT) + [rnd.choice(SHIFT) for _ in range(n_dups)]
    rnd.shuffle(shuffled)
    assert fold(shuffled).same_picture(expected)
    assert one_by_one(shuffled).same_picture(expected)


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=len(SHIFT) - 1))
def test_folding_in_two_parts_equals_folding_all(rnd: random.Random, cut: int) -> None:
    events = list(SHIFT)
    rnd.shuffle(events)
    s = fold(events[:cut])
    fold(events[cut:], s)
    assert s.same_picture(fold(SHIFT))


def test_stale_update_never_regresses_a_call() -> None:
    state = fold(SHIFT)
    cleared = next(c for c in state.calls.values() if c.status is CallStatus.CLEARED)
    older = replace(
        cleared,
        status=CallStatus.EN_ROUTE,
        updated_at=cleared.updated_at - timedelta(minutes=5),
        version=cleared.version - 1,
    )
    late = CallUpdated(
        source="dispatch",
        source_id="late-1",
        occurred_at=older.updated_at,
        recorded_at=START,
        call=older,
    )
    assert apply(state, late) is False
    assert state.calls[cleared.id].status is CallStatus.CLEARED


def test_strict_apply_refuses_impossible_newer_record_and_changes_nothing() -> None:
    state = fold(SHIFT)
    cleared = next(c for c in state.calls.values() if c.status is CallStatus.CLEARED)
    bad = replace(
        cleared,
        status=CallStatus.ASSIGNED,
        updated_at=cleared.updated_at + timedelta(minutes=1),
        version=cleared.version + 1,
    )
    ev = CallUpdated(
        source="dispatch",
        source_id="bad-1",
        occurred_at=bad.updated_at,
        recorded_at=START,
        call=bad,
    )
    with pytest.raises(TransitionError, match="closed"):
        apply(state, ev, strict=True)
    assert state.calls[cleared.id] is cleared
    assert ev.key not in state.seen


def test_command_answer_before_request_converges() -> None:
    cmd = AssignTeam(call_id="HCR-000001", team_id="CRT-1")
    req = CommandRequested(
        source="console",
        source_id="cmd-a",
        occurred_at=START,
        recorded_at=START,
        command_id="a",
        command=cmd,
        operator="sup",
    )
    ok = CommandConfirmed(
        source="dispatch",
        source_id="ans-a",
        occurred_at=START + timedelta(seconds=2),
        recorded_at=START,
        command_id="a",
        detail="assigned",
    )
    s1, s2 = fold([req, ok]), fold([ok, req])
    assert s1.same_picture(s2)
    rec = s1.commands["a"]
    assert rec.status == CommandStatus.CONFIRMED and rec.command == cmd and rec.operator == "sup"


def test_every_event_round_trips_through_the_codec() -> None:
    for e in SHIFT:
        assert event_from_dict(event_to_dict(e)) == e


def test_a_partial_record_keeps_stage_times_it_passed_but_not_after_a_requeue() -> None:
    state = fold(SHIFT)
    c = next(c for c in state.calls.values() if c.status is CallStatus.CLEARED and c.enroute_at)
    base = replace(c, stages_partial=True)
    t = base.updated_at
    en_route = replace(base, status=CallStatus.EN_ROUTE, onscene_at=None, cleared_at=None,
                       updated_at=t + timedelta(minutes=1), version=50)  # fmt: skip
    on_scene = replace(base, status=CallStatus.ON_SCENE, dispatched_at=None, enroute_at=None,
                       cleared_at=None, updated_at=t + timedelta(minutes=2), version=51)  # fmt: skip
    requeued = replace(base, status=CallStatus.PENDING, dispatched_at=None, enroute_at=None,
                       onscene_at=None, cleared_at=None, updated_at=t + timedelta(minutes=3),
                       version=52)  # fmt: skip

    def ev(call: object, sid: str) -> CallUpdated:
        return CallUpdated(source="dispatch", source_id=sid, occurred_at=START,
                           recorded_at=START, call=call)  # type: ignore[arg-type]  # fmt: skip

    a, b, q = ev(en_route, "p-1"), ev(on_scene, "p-2"), ev(requeued, "p-3")
    for order in ([a, b], [b, a]):
        got = fold(order).calls[c.id]
        assert got.status is CallStatus.ON_SCENE
        assert (got.dispatched_at, got.enroute_at) == (c.dispatched_at, c.enroute_at)
    for order in ([a, b, q], [q, b, a], [b, q, a]):
        got = fold(order).calls[c.id]
        assert got.status is CallStatus.PENDING
        assert (got.dispatched_at, got.enroute_at, got.onscene_at) == (None, None, None)
