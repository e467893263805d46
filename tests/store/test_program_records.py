"""The program's records go through the store like any supervisor action: one transaction with
their audit row, kept in their projection rows, rebuilt from the log, never sent to dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.clock import ManualClock
from console.domain.commands import (
    CloseFollowUp,
    CommandRejected,
    GiveUnservedReason,
    OpenFollowUp,
    RecordFollowUpAttempt,
    RecordNaloxone,
    RecordOutcome,
)
from console.domain.events import CallReceived
from console.domain.model import Call, CallStatus, CallType
from console.domain.program import FollowUpEnd, Outcome, UnservedReason
from console.store import Store

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def test_program_records_are_audited_kept_and_rebuilt(db_url: str) -> None:
    store = Store.open(db_url, clock=ManualClock(T0 + timedelta(hours=1)))
    try:
        c = Call("HCR-000001", CallStatus.CLEARED, 2, CallType.OVERDOSE, T0, T0)
        store.append(
            [
                CallReceived(
                    source="dispatch", source_id="c1", occurred_at=T0, recorded_at=T0, call=c
                )
            ]
        )
        store.submit(RecordOutcome(call_id=c.id, outcome=Outcome.REFERRED), operator="ann")
        store.submit(RecordNaloxone(call_id=c.id, doses=2, given_at=T0), operator="ann")
        store.submit(
            GiveUnservedReason(call_id=c.id, unserved=UnservedReason.CALLER_DECLINED),
            operator="ann",
        )
        sub = store.submit(
            OpenFollowUp(call_id=c.id, owner="CRT", due_at=T0 + timedelta(hours=48)), operator="ann"
        )
        fid = next(iter(sub.changes.program))[1]
        store.submit(
            RecordFollowUpAttempt(followup_id=fid, channel="phone", result="reached"),
            operator="ann",
        )
        store.submit(CloseFollowUp(followup_id=fid, end=FollowUpEnd.CONNECTED), operator="ann")
        with pytest.raises(CommandRejected, match="already closed"):
            store.submit(CloseFollowUp(followup_id=fid, end=FollowUpEnd.DECLINED), operator="ann")
        assert store.outbox_due() == []  # nothing of it goes to dispatch
        actions = [a.action for a in store.audit(20)]
        for kind in ("record_outcome", "record_naloxone", "open_followup", "close_followup"):
            assert kind in actions
        st = store.load_state()
        assert st.outcomes[c.id].outcome is Outcome.REFERRED
        assert st.unserved[c.id].reason is UnservedReason.CALLER_DECLINED
        assert [d.doses for d in st.naloxone_for(c.id)] == [2]
        fu = st.followups[fid]
        assert (fu.call_id, fu.end, len(fu.attempts)) == (c.id, FollowUpEnd.CONNECTED, 1)
        store.rebuild_projections()
        assert store.load_state().same_picture(st)
    finally:
        store.close()
