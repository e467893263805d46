"""The outbox knows which call and team a command is about (migration 0004)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command as alembic_command
from sqlalchemy import inspect, select, text

from console.domain.commands import AssignTeam
from console.domain.events import CallReceived, Event, TeamStatusChanged
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.store import CommandConflict, Store, make_engine
from console.store import schema as S
from console.store.db import _alembic_config, head_revision

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def world(n_calls: int, n_teams: int) -> list[Event]:
    """Available teams and pending, safe, ordinary calls HCR-000001... any team may take."""
    evs: list[Event] = []
    for i in range(n_teams):
        tm = Team(f"CRT-{i + 1}", TeamStatus.AVAILABLE, T0, "CRT", T0)
        evs.append(
            TeamStatusChanged(
                source="dispatch", source_id=f"t{i}", occurred_at=T0, recorded_at=T0, team=tm
            )
        )
    return evs + _calls(*(f"HCR-{i + 1:06d}" for i in range(n_calls)))


def _calls(*ids: str) -> list[Event]:
    out: list[Event] = []
    for i, cid in enumerate(ids):
        at = T0 + timedelta(seconds=i + 1)
        c = Call(cid, CallStatus.PENDING, 2, CallType.WELFARE_CHECK, at, at)
        out.append(
            CallReceived(
                source="dispatch", source_id=f"c-{cid}", occurred_at=at, recorded_at=at, call=c
            )
        )
    return out


def test_a_call_id_with_like_wildcards_matches_only_itself(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        store.append(world(1, 3) + _calls("HCR_000001", "HCR%"))
        store.submit(AssignTeam(call_id="HCR-000001", team_id="CRT-1"), operator="a")
        # '_' and '%' are wildcards to LIKE: neither id may match HCR-000001's pending command.
        store.submit(AssignTeam(call_id="HCR_000001", team_id="CRT-2"), operator="b")
        store.submit(AssignTeam(call_id="HCR%", team_id="CRT-3"), operator="c")
        assert len(store.outbox_due()) == 3
        # The same call twice is still a conflict.
        with pytest.raises(CommandConflict, match="awaiting dispatch"):
            store.submit(AssignTeam(call_id="HCR%", team_id="CRT-1"), operator="d")
        with store.engine.connect() as conn:
            rows = conn.execute(select(S.outbox.c.call_id, S.outbox.c.team_id)).all()
        assert sorted(rows) == [("HCR%", "CRT-3"), ("HCR-000001", "CRT-1"), ("HCR_000001", "CRT-2")]
    finally:
        store.close()


def test_upgrade_from_0003_fills_the_subject_columns(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        alembic_command.upgrade(_alembic_config(engine), "0003")
        rows = [
            ("c1", "assign", '{"kind":"assign","call_id":"HCR-000001","team_id":"CRT-1"}'),
            ("c2", "set_team_service", '{"kind":"set_team_service","team_id":"CRT-2"}'),
            ("c3", "note", '{"kind":"note","call_id":"HCR-000002","text":"x"}'),
            ("c4", "note", "not json"),
        ]
        with engine.begin() as conn:
            for cid, kind, payload in rows:
                conn.execute(
                    text(
                        "INSERT INTO outbox (command_id, idempotency_key, kind, payload, operator,"
                        " status, attempts, created_at, answer)"
                        " VALUES (:c, :c, :k, :p, 'sup', 'queued', 0, :t, '')"
                    ),
                    {"c": cid, "k": kind, "p": payload, "t": T0},
                )
        alembic_command.upgrade(_alembic_config(engine), "head")
        assert head_revision() >= "0004"  # this migration and any after it
        with engine.connect() as conn:
            got = conn.execute(
                select(S.outbox.c.command_id, S.outbox.c.call_id, S.outbox.c.team_id).order_by(
                    S.outbox.c.command_id
                )
            ).all()
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("outbox")}
        assert [tuple(r) for r in got] == [
            ("c1", "HCR-000001", "CRT-1"),
            ("c2", None, "CRT-2"),
            ("c3", "HCR-000002", None),
            ("c4", None, None),
        ]
        assert {"ix_outbox_call_id", "ix_outbox_team_id"} <= indexes
        # The backfilled row takes part in the conflict check.
        store = Store(engine)
        store.append(world(2, 2))
        with pytest.raises(CommandConflict, match="awaiting dispatch"):
            store.submit(AssignTeam(call_id="HCR-000001", team_id="CRT-2"), operator="b")
    finally:
        engine.dispose()
