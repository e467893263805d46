"""The ingest path writes its rows straight on the driver: what it stores is what SQLAlchemy
reads back, on SQLite and PostgreSQL, whatever the offset or precision of the times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from console.domain.events import (
    CallEscalated,
    CallReceived,
    CallUpdated,
    Event,
    TeamAssigned,
    TeamPositionReported,
    TeamStatusChanged,
)
from console.domain.model import (
    Call,
    CallStatus,
    CallType,
    EscalationTarget,
    Position,
    Team,
    TeamStatus,
)
from console.store import Store
from console.store import schema as S
from console.store.chain import verify
from console.store.rows import CALL_COLUMNS, TEAM_COLUMNS

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # microsecond 0
PLUS2 = timezone(timedelta(hours=2))


def test_row_columns_are_the_tables_columns() -> None:
    assert set(CALL_COLUMNS) == set(S.calls.c.keys())
    assert set(TEAM_COLUMNS) == set(S.teams.c.keys())


def _events() -> list[Event]:
    t1 = (T0 + timedelta(seconds=1, microseconds=5)).astimezone(PLUS2)  # another offset
    team = Team("CRT-1", TeamStatus.AVAILABLE, T0, "CRT", t1)
    call = Call("HCR-000001", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, T0, T0)
    moved = Call(
        "HCR-000001",
        CallStatus.CLEARED,
        2,
        CallType.WELFARE_CHECK,
        T0,
        t1 + timedelta(minutes=5),
        dispatched_at=t1,
        cleared_at=t1 + timedelta(minutes=5),
        version=2,
    )
    return [
        TeamStatusChanged(
            source="dispatch", source_id="t1", occurred_at=T0, recorded_at=t1, team=team
        ),
        CallReceived(source="dispatch", source_id="c1", occurred_at=T0, recorded_at=T0, call=call),
        TeamPositionReported(
            source="dispatch",
            source_id="p1",
            occurred_at=T0,
            recorded_at=T0,
            team_id="CRT-1",
            position=Position(41.7, -72.7, T0),
        ),
        CallEscalated(
            source="dispatch",
            source_id="e1",
            occurred_at=T0,
            recorded_at=T0,
            call_id="HCR-000001",
            target=EscalationTarget.EMS,
        ),
        TeamAssigned(
            source="dispatch",
            source_id="a1",
            occurred_at=t1,
            recorded_at=t1,
            call_id="HCR-000001",
            team_id="CRT-1",
        ),
        TeamPositionReported(
            source="dispatch",
            source_id="p2",
            occurred_at=t1,
            recorded_at=t1,
            team_id="CRT-1",
            position=Position(41.8, -72.6, t1),
        ),
        CallEscalated(
            source="dispatch",
            source_id="e2",
            occurred_at=t1,
            recorded_at=t1,
            call_id="HCR-000001",
            target=EscalationTarget.POLICE,
        ),
        CallUpdated(
            source="dispatch",
            source_id="c2",
            occurred_at=t1 + timedelta(minutes=5),
            recorded_at=t1 + timedelta(minutes=5),
            call=moved,
        ),
    ]


def test_ingested_rows_read_back_as_written(db_url: str) -> None:
    evs = _events()
    store = Store.open(db_url)
    try:
        first = store.append(evs[:4])
        second = store.append(evs[4:])
        assert not first.rejected and not second.rejected
        assert len(first.appended) + len(second.appended) == len(evs)
        st = store.load_state()
        c = st.calls["HCR-000001"]
        assert c == evs[-1].call  # type: ignore[attr-defined]
        assert st.teams["CRT-1"].status_since == evs[0].team.status_since  # type: ignore[attr-defined]
        assert st.positions["CRT-1"] == evs[5].position  # type: ignore[attr-defined]
        # The earliest escalation stands: the second batch compared with the stored one.
        assert st.escalations["HCR-000001"] == (EscalationTarget.EMS, T0)
        with store.engine.connect() as conn:
            row = conn.execute(select(S.calls)).one()
            assert row.received_at == T0 and row.received_at.tzinfo is not None
            assert row.updated_at == c.updated_at and row.cleared_at == c.cleared_at
            assert row.unsafe is False and row.version == 2
            asg = conn.execute(select(S.assignments)).one()
            assert asg.at == evs[4].occurred_at
            times = [
                (r.occurred_at, r.recorded_at)
                for r in conn.execute(select(S.events).order_by(S.events.c.seq))
            ]
            assert times == [(e.occurred_at, e.recorded_at) for e in evs]
            if store.dialect == "sqlite":
                raw = conn.exec_driver_sql("SELECT received_at, cleared_at FROM calls").one()
                # The text SQLAlchemy writes itself: UTC, six digits of microseconds.
                assert tuple(raw) == ("2026-11-26 08:00:00.000000", "2026-11-26 08:05:01.000005")
        assert [e for _, e in store.events()] == evs
        assert verify(store.engine).ok
    finally:
        store.close()
