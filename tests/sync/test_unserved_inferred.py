"""When dispatch's feed closes an eligible call no team went to, the sync service records why
in the same write, where the records prove it; a supervisor's reason is never overwritten."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from console.domain.commands import GiveUnservedReason
from console.domain.events import CallUpdated, Source, TeamStatusChanged
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    EscalationTarget,
    SafetyFlag,
    Team,
    TeamStatus,
)
from console.domain.program import UnservedReason
from console.domain.rules import ServiceHours
from console.store import Store
from console.store import schema as S
from console.sync.client import Doc, Inbound
from console.sync.service import SyncService
from console.wire.eido import UnitView, build_incident_eido, build_unit_eido

from .test_poison import Frame, _frame, _run

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _call(i: int, **kw: Any) -> Call:
    c = Call(f"HCR-{i:06d}", CallStatus.PENDING, 2, CallType.MENTAL_HEALTH, T0, T0)
    return replace(c, **kw)


def _closed(c: Call, status: CallStatus = CallStatus.ESCALATED, **kw: Any) -> Call:
    at = c.received_at + timedelta(minutes=6)
    esc = EscalationTarget.POLICE if status is CallStatus.ESCALATED else None
    return replace(c, status=status, updated_at=at, version=2, escalated_to=esc, **kw)


def _team(tid: str, status: TeamStatus, call: str | None = None) -> Team:
    at = T0 - timedelta(minutes=30)
    return Team(tid, status, at, status_since=at, call=call)


def test_the_feed_closing_an_eligible_call_records_the_proven_reason(sqlite_url: str) -> None:
    busy = _call(1)
    unsafe = _call(2, safety_flags=(SafetyFlag.WEAPON,))
    frames: list[Frame] = [
        _frame("t-team1", build_unit_eido(UnitView(_team("CRT-1", TeamStatus.ON_SCENE, "X-9")))),
        _frame("t-team2", build_unit_eido(UnitView(_team("CRT-2", TeamStatus.OFF_DUTY)))),
    ]
    for i, c in enumerate((busy, unsafe)):
        frames.append(_frame(f"t-open-{i}", build_incident_eido(c)))
        frames.append(_frame(f"t-close-{i}", build_incident_eido(_closed(c))))
    frames.append(_frame("t-last", build_incident_eido(_call(3))))
    store, _svc, peer = _run(sqlite_url, frames, "t-last", batch_frames=1)
    try:
        assert all(code == 200 for code, _ in peer.answers.values()), peer.answers
        st = store.load_state()
        assert set(st.unserved) == {busy.id}  # the unsafe call was never eligible
        rec = st.unserved[busy.id]
        assert rec.reason is UnservedReason.ALL_TEAMS_BUSY
        assert rec.inferred and rec.operator == "console"
        # one event in the log, written in the close's own transaction (the next seq after it)
        with store.reading() as conn:
            rows = conn.execute(
                select(S.events.c.seq, S.events.c.kind, S.events.c.entity_id)
                .where(S.events.c.entity_id == busy.id)
                .order_by(S.events.c.seq)
            ).all()
        kinds = [r.kind for r in rows]
        assert kinds.count("unserved_reason") == 1
        assert kinds[-1] == "unserved_reason" and rows[-1].seq == rows[-2].seq + 1
    finally:
        store.close()


def _inbound(*events: Any) -> Inbound:
    batch = Inbound()
    for i, e in enumerate(events):
        batch.transactions[f"t-{i}"] = {e.source_id}
        batch.events.append(e)
        batch.docs.append(Doc(f"t-{i}", {}, [e]))
    return batch


def _ev(rec: Call | Team) -> CallUpdated | TeamStatusChanged:
    at = rec.updated_at
    h: dict[str, Any] = {"source": Source.DISPATCH, "occurred_at": at, "recorded_at": at}
    if isinstance(rec, Team):
        return TeamStatusChanged(**h, source_id=f"team:{rec.id}:{at.isoformat()}", team=rec)
    return CallUpdated(**h, source_id=f"call:{rec.id}:v{rec.version}", call=rec)


def test_outside_hours_no_duty_and_a_supervisors_reason_first(db_url: str) -> None:
    store = Store.open(db_url, create=True)
    svc = SyncService(
        store, "ws://127.0.0.1:9", program_hours=ServiceHours(time(8), time(13), tz=UTC)
    )
    try:
        late, asked, free = _call(11), _call(12), _call(13, received_at=T0.replace(hour=10))
        free = replace(free, updated_at=free.received_at)
        svc._commit_sync(_inbound(_ev(_team("CRT-1", TeamStatus.AVAILABLE))))
        svc._commit_sync(_inbound(_ev(late), _ev(asked), _ev(free)))
        # the supervisor says why while the call is still open: the console infers nothing
        store.submit(
            GiveUnservedReason(call_id=asked.id, unserved=UnservedReason.CALLER_DECLINED),
            operator="ann",
        )
        svc._commit_sync(
            _inbound(
                _ev(_closed(late, CallStatus.CANCELLED)),
                _ev(_closed(asked)),
                _ev(_closed(free, CallStatus.CANCELLED)),
            )
        )
        st = store.load_state()
        assert st.unserved[late.id].reason is UnservedReason.OUTSIDE_PROGRAM_HOURS
        assert st.unserved[late.id].inferred
        assert st.unserved[asked.id].reason is UnservedReason.CALLER_DECLINED
        assert not st.unserved[asked.id].inferred
        assert free.id not in st.unserved  # in hours, a team available: not proved
        # a repeated close (re-sent by dispatch) records nothing more
        n = store.event_count()
        svc._commit_sync(_inbound(_ev(replace(_closed(late, CallStatus.CANCELLED), version=3))))
        assert store.event_count() == n + 1
        assert store.load_state().unserved[late.id].reason is UnservedReason.OUTSIDE_PROGRAM_HOURS
    finally:
        store.close()
