"""What a batch of events touches, what a fold changed, and State.fork."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.domain.changes import Changes, Touched, changes_of, touched
from console.domain.events import (
    AlertAcknowledged,
    CallEscalated,
    CallUpdated,
    Note,
    NoteAdded,
    TeamAssigned,
    TeamPositionReported,
)
from console.domain.model import EscalationTarget, Position
from console.domain.projection import State, apply, fold
from console.domain.synthetic import synthetic_shift

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SHIFT = synthetic_shift(300, seed=5, start=START)


def _ev(cls: type, sid: str, **kw: object) -> object:
    return cls(source="dispatch", source_id=sid, occurred_at=START, recorded_at=START, **kw)


def test_each_kind_of_event_touches_its_own_record() -> None:
    pos = Position(1.0, 2.0, START)
    events = [
        _ev(TeamPositionReported, "p", team_id="CRT-1", position=pos),
        _ev(TeamAssigned, "a", call_id="HCR-1", team_id="CRT-2"),
        _ev(CallEscalated, "e", call_id="HCR-2", target=EscalationTarget.EMS),
        _ev(AlertAcknowledged, "k", alert_id="al-1", operator="sup"),
        _ev(NoteAdded, "n", note=Note("HCR-3", "x", "sup", START)),
    ]
    t = touched(events)  # type: ignore[arg-type]
    assert t == Touched(
        positions={"CRT-1"},
        assignments={("HCR-1", "CRT-2")},
        escalations={"HCR-2"},
        acks={"al-1"},
        notes={"HCR-3"},
    )
    # The views: an assignment and an escalation show on their call, an ack on its alert.
    assert t.changes(7) == Changes(
        calls=frozenset({"HCR-1", "HCR-2"}),
        positions=frozenset({"CRT-1"}),
        alerts=frozenset({"al-1"}),
        notes=frozenset({"HCR-3"}),
        seq=7,
    )
    assert changes_of(events, 7) == t.changes(7)  # type: ignore[arg-type]


def test_a_synthetic_shift_touches_every_record_it_ends_with() -> None:
    t = touched(SHIFT)
    st = fold(SHIFT)
    assert t.calls == set(st.calls) and t.teams == set(st.teams)
    assert t.commands == set(st.commands) and t.alerts == set(st.alerts)
    assert t.assignments == set(st.assignments) and t.positions == set(st.positions)
    assert Touched.everything(st) == replace(t, notes={n.call_id for n in st.notes.values()})


def test_changed_names_only_the_records_a_fold_replaced() -> None:
    st = fold(SHIFT)
    call = next(iter(st.calls.values()))
    newer = replace(call, updated_at=call.updated_at + timedelta(hours=1), version=call.version + 1)
    stale = replace(call, updated_at=call.updated_at - timedelta(hours=1))
    batch = [
        _ev(CallUpdated, "new", call=newer),
        _ev(CallUpdated, "old", call=stale),
    ]
    t = touched(batch)  # type: ignore[arg-type]
    before = t.snapshot(st)
    assert before.calls == {call.id: call}
    for e in batch:
        apply(st, e)  # type: ignore[arg-type]
    assert t.changed(before, st).calls == {call.id}
    # Applying the same facts again changes nothing.
    again = t.snapshot(st)
    for e in batch:
        apply(st, e)  # type: ignore[arg-type]
    assert t.changed(again, st) == Touched()


def test_a_record_new_to_the_state_is_changed_and_missing_from_the_snapshot() -> None:
    e = SHIFT[0]
    t = touched([e])
    st = State()
    before = t.snapshot(st)
    assert not before.calls and not before.teams
    apply(st, e)
    assert t.changed(before, st).changes() == changes_of([e])


def test_fork_shares_records_keeps_order_keys_and_forgets_seen_facts() -> None:
    st = fold(SHIFT)
    f = st.fork()
    assert f.same_picture(st) and not f.seen
    some = next(iter(st.calls))
    assert f.calls[some] is st.calls[some] and f.call_source_id(some) == st.call_source_id(some)
    # Independent dicts: folding into the fork leaves the original alone...
    call = st.calls[some]
    newer = replace(call, updated_at=call.updated_at + timedelta(hours=1), version=call.version + 1)
    assert apply(f, _ev(CallUpdated, "fork-1", call=newer))  # type: ignore[arg-type]
    assert st.calls[some] is call and f.calls[some] is newer
    # ...and the fork still refuses an older description of a call (its keys came along).
    older = replace(call, updated_at=call.updated_at - timedelta(hours=2), version=call.version - 1)
    assert not apply(f, _ev(CallUpdated, "fork-2", call=older))  # type: ignore[arg-type]
