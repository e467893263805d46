"""The program's own records: folded order-free, encoded both ways, checked before recording."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from console.domain.codec import (
    command_from_dict,
    command_to_dict,
    event_from_dict,
    event_to_dict,
    program_record_from_dict,
    program_record_to_dict,
)
from console.domain.commands import (
    CloseFollowUp,
    CommandRejected,
    OpenFollowUp,
    RecordFollowUpAttempt,
    RecordNaloxone,
    RecordOutcome,
)
from console.domain.events import (
    CallReceived,
    Event,
    FollowUpAttempted,
    FollowUpClosed,
    FollowUpOpened,
    NaloxoneRecorded,
    OutcomeRecorded,
    UnservedReasonGiven,
)
from console.domain.local import check_local, local_event
from console.domain.model import Call, CallStatus, CallType
from console.domain.program import FollowUpEnd, Outcome, UnservedReason
from console.domain.projection import State, fold

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _h(i: int, minutes: int) -> dict[str, object]:
    at = T0 + timedelta(minutes=minutes)
    return {"source": "console", "source_id": f"p{i}", "occurred_at": at, "recorded_at": at}


def _program_events() -> list[Event]:
    return [
        OutcomeRecorded(**_h(1, 5), call_id="C1", outcome=Outcome.REFERRED, operator="ann"),
        OutcomeRecorded(
            **_h(2, 9),
            call_id="C1",
            outcome=Outcome.TRANSPORTED_ED,
            destination_kind="emergency_department",
            operator="bob",
        ),
        UnservedReasonGiven(
            **_h(3, 1),
            call_id="C2",
            reason=UnservedReason.ALL_TEAMS_BUSY,
            operator="",
            inferred=True,
        ),
        UnservedReasonGiven(
            **_h(4, 0), call_id="C2", reason=UnservedReason.CALLER_DECLINED, operator="ann"
        ),
        NaloxoneRecorded(**_h(5, 3), call_id="C1", doses=2, given_at=T0, operator="ann"),
        FollowUpOpened(
            **_h(6, 10),
            followup_id="F1",
            call_id="C1",
            owner="CRT",
            due_at=T0 + timedelta(hours=48),
            cause="referred",
            operator="ann",
        ),
        FollowUpAttempted(
            **_h(7, 60), followup_id="F1", channel="phone", result="no_answer", operator="ann"
        ),
        FollowUpAttempted(
            **_h(8, 90), followup_id="F1", channel="phone", result="reached", operator="bob"
        ),
        FollowUpClosed(**_h(9, 91), followup_id="F1", end=FollowUpEnd.CONNECTED, operator="bob"),
        FollowUpClosed(**_h(10, 95), followup_id="F1", end=FollowUpEnd.DECLINED, operator="cy"),
    ]


def test_any_order_of_the_program_events_folds_to_the_same_records() -> None:
    evs = _program_events()
    first = fold(evs)
    assert first.outcomes["C1"].outcome is Outcome.TRANSPORTED_ED  # the latest given stands
    # A supervisor's reason outranks the inferred one, even an inferred one given later.
    assert first.unserved["C2"].reason is UnservedReason.CALLER_DECLINED
    fu = first.followups["F1"]
    assert [a.result for a in fu.attempts] == ["no_answer", "reached"]
    assert (fu.end, fu.closed_by) == (FollowUpEnd.CONNECTED, "bob")  # the first closing stands
    assert [d.doses for d in first.naloxone_for("C1")] == [2]
    rnd = random.Random(7)
    for _ in range(30):
        shuffled = evs + rnd.sample(evs, 3)
        rnd.shuffle(shuffled)
        assert fold(shuffled).same_picture(first)
    for perm in itertools.islice(itertools.permutations(evs[5:]), 50):
        assert fold([*evs[:5], *perm]).followups == first.followups


def test_program_events_commands_and_records_survive_encoding() -> None:
    st = fold(_program_events())
    for e in _program_events():
        assert event_from_dict(event_to_dict(e)) == e
    for kind, held in (
        ("outcome", st.outcomes),
        ("unserved", st.unserved),
        ("naloxone", st.naloxone),
        ("followup", st.followups),
    ):
        for rec in held.values():
            assert program_record_from_dict(kind, program_record_to_dict(rec)) == rec  # type: ignore[arg-type]
    for cmd in (
        RecordOutcome(call_id="C1", outcome=Outcome.REFERRED, reason="asked the team"),
        RecordNaloxone(call_id="C1", doses=1, given_at=T0),
        OpenFollowUp(call_id="C1", owner="CRT", due_at=T0),
        CloseFollowUp(followup_id="F1", end=FollowUpEnd.HANDED_OFF),
    ):
        assert command_from_dict(command_to_dict(cmd)) == cmd


def _state_with_call() -> State:
    c = Call("C1", CallStatus.CLEARED, 2, CallType.OVERDOSE, T0, T0 + timedelta(hours=1))
    return fold([CallReceived(**_h(0, 0), call=c)])  # type: ignore[arg-type]


def test_local_records_are_checked_before_they_are_recorded() -> None:
    st = _state_with_call()
    now = T0 + timedelta(hours=2)
    with pytest.raises(CommandRejected, match="no call C9"):
        check_local(RecordOutcome(call_id="C9", outcome=Outcome.REFERRED), st, now)
    with pytest.raises(CommandRejected, match="doses must be 1 to 10"):
        check_local(RecordNaloxone(call_id="C1", doses=0, given_at=T0), st, now)
    with pytest.raises(CommandRejected, match="in the future"):
        check_local(RecordNaloxone(call_id="C1", doses=1, given_at=now + timedelta(1)), st, now)
    with pytest.raises(CommandRejected, match="before C1 was received"):
        check_local(RecordNaloxone(call_id="C1", doses=1, given_at=T0 - timedelta(1)), st, now)
    with pytest.raises(CommandRejected, match="needs an owner"):
        check_local(OpenFollowUp(call_id="C1", owner=" ", due_at=now), st, now)
    with pytest.raises(CommandRejected, match="no follow-up F1"):
        check_local(
            RecordFollowUpAttempt(followup_id="F1", channel="phone", result="reached"), st, now
        )
    opened = local_event(OpenFollowUp(call_id="C1", owner="CRT", due_at=now), "abc123", "ann", now)
    assert isinstance(opened, FollowUpOpened) and opened.followup_id == "FU-abc123"
    fold([opened], st)
    with pytest.raises(CommandRejected, match="channel 'fax'"):
        check_local(
            RecordFollowUpAttempt(followup_id="FU-abc123", channel="fax", result="reached"), st, now
        )
    check_local(
        RecordFollowUpAttempt(followup_id="FU-abc123", channel="phone", result="reached"), st, now
    )
    closed = local_event(
        CloseFollowUp(followup_id="FU-abc123", end=FollowUpEnd.DECLINED), "d", "ann", now
    )
    fold([closed], st)
    with pytest.raises(CommandRejected, match="already closed"):
        check_local(CloseFollowUp(followup_id="FU-abc123", end=FollowUpEnd.CONNECTED), st, now)
