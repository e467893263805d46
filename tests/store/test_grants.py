"""Least privilege on PostgreSQL: each group role connects and can do what it must, no more."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from console.cli import main
from console.domain.commands import (
    AcknowledgeAlert,
    AssignTeam,
    CommandRejected,
    RecordOutcome,
    SetDestinationStatus,
)
from console.domain.events import CallReceived, TeamStatusChanged
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.domain.program import Outcome
from console.store import Store
from console.store.chain import verify

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


@pytest.fixture
def pg(db_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh upgraded database and one login per group role (dropped after)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("roles and grants are PostgreSQL's")
    store = Store.open(db_url)  # creates the schema, functions, roles and grants
    tm = Team("CRT-1", TeamStatus.AVAILABLE, T0, "CRT", T0)
    c = Call("HCR-000001", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, T0, T0)
    store.append(
        [
            TeamStatusChanged(
                source="dispatch", source_id="t1", occurred_at=T0, recorded_at=T0, team=tm
            ),
            CallReceived(source="dispatch", source_id="c1", occurred_at=T0, recorded_at=T0, call=c),
        ]
    )
    store.record_persons("HCR-000001", [{"role": "caller", "name": "A. Person"}])
    store.close()
    admin = db_url.replace("postgresql+psycopg://", "postgresql://")
    tag = uuid.uuid4().hex[:8]
    logins = {
        g: f"rc_t_{g.removeprefix('rc_')}_{tag}"
        for g in ("rc_supervisor", "rc_trainer", "rc_viewer", "rc_sync")
    }
    with psycopg.connect(admin, autocommit=True) as conn:
        for group, name in logins.items():
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw' IN ROLE {group}")
    host = admin.split("@", 1)[1]
    try:
        yield host, logins
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            # Closed connections end on the server a moment later: wait for them, so the
            # database can be dropped (its owner may not end other roles' sessions).
            for _ in range(100):
                n = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = ANY(%s)",
                    (list(logins.values()),),
                ).fetchone()
                if not n or not n[0]:
                    break
                time.sleep(0.1)
            for name in logins.values():
                conn.execute(f"DROP ROLE IF EXISTS {name}")


def _as(host: str, login: str) -> Store:
    return Store.open(f"postgresql://{login}:pw@{host}", create=False)


def _denied(store: Store, sql: str) -> bool:
    try:
        with store.engine.begin() as conn:
            conn.execute(text(sql))
    except DBAPIError as exc:
        return "permission denied" in str(exc.orig)
    return False


TAMPERING = (
    "UPDATE events SET payload = '{}'",
    "DELETE FROM events",
    "UPDATE audit SET operator = 'x'",
    "DELETE FROM audit",
)


def test_a_viewer_reads_without_person_details_and_writes_nothing(
    pg: tuple[str, dict[str, str]],
) -> None:
    host, logins = pg
    for group in ("rc_viewer", "rc_trainer"):
        store = _as(host, logins[group])
        try:
            assert store.load_state().calls["HCR-000001"].status is CallStatus.PENDING
            with store.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM persons_public")).scalar() == 1
            assert _denied(store, "SELECT data FROM persons")
            assert _denied(store, "SELECT raw FROM quarantine")
            assert _denied(
                store,
                "INSERT INTO events (source, source_id, kind, entity_id, occurred_at,"
                " recorded_at, payload) VALUES ('x', 'y', 'note', 'z', now(), now(), '{}')",
            )
            for sql in TAMPERING:
                assert _denied(store, sql), (group, sql)
            role = group.removeprefix("rc_")
            with pytest.raises(CommandRejected):
                store.submit(
                    AssignTeam(call_id="HCR-000001", team_id="CRT-1"),
                    operator=logins[group],
                    role=role,
                )
            # A client that claims more than it was granted is stopped by the database.
            with pytest.raises(DBAPIError, match="permission denied"):
                store.submit(
                    AssignTeam(call_id="HCR-000001", team_id="CRT-1"),
                    operator=logins[group],
                    role="supervisor",
                )
            [row] = store.audit(1)
            assert (row.operator, row.role, row.answer_status) == (
                logins[group],
                group.removeprefix("rc_"),
                "rejected",
            )
        finally:
            store.close()


def test_a_supervisor_acts_only_through_the_functions(pg: tuple[str, dict[str, str]]) -> None:
    host, logins = pg
    me = logins["rc_supervisor"]
    store = _as(host, me)
    try:
        sub = store.submit(AssignTeam(call_id="HCR-000001", team_id="CRT-1"), operator=me)
        store.submit(AcknowledgeAlert(alert_id="a1", reason="seen"), operator=me)
        # The program's own records go through the same function, under the login's name.
        store.submit(RecordOutcome(call_id="HCR-000001", outcome=Outcome.REFERRED), operator=me)
        assert store.load_state().outcomes["HCR-000001"].operator == me
        store.submit(SetDestinationStatus(destination_id="csu", available=2), operator=me)
        assert store.load_state().destinations["csu"].operator == me
        [item] = store.outbox_due()
        assert (item.command_id, item.operator) == (sub.command_id, me)
        assert [(e.operator, e.role) for e in store.audit(5)] == [(me, "supervisor")] * 4
        # Another operator's name is refused by the database itself.
        with pytest.raises(DBAPIError, match="operator of a command is the login"):
            store.submit(AcknowledgeAlert(alert_id="a2", reason="x"), operator="someone else")
        assert store.persons("HCR-000001")[0]["name"] == "A. Person"
        for sql in TAMPERING:
            assert _denied(store, sql), sql
        assert _denied(
            store,
            "INSERT INTO audit (at, operator, role, action, reason, detail, answer_status, answer)"
            " VALUES (now(), 'x', 'supervisor', 'note', '', '{}', 'done', '')",
        )
        assert _denied(store, "UPDATE outbox SET status = 'sent'")
    finally:
        store.close()
    sync = _as(host, logins["rc_sync"])
    try:
        sync.record_answer(sub.command_id, accepted=True, detail="ok", at=T0, source_id="ans-1")
        assert sync.audit(5)[-1].answer_status == "confirmed"
        for sql in TAMPERING:
            assert _denied(sync, sql), sql
        assert verify(sync.engine).ok
    finally:
        sync.close()


def test_db_grants_prints_the_roles_and_no_update_on_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "grants", "--db", "postgresql://admin@db.example.org/responder"]) == 0
    out = capsys.readouterr().out
    for role in ("rc_supervisor", "rc_trainer", "rc_viewer", "rc_sync"):
        assert f"CREATE ROLE {role} NOLOGIN" in out
    assert "SECURITY DEFINER" in out
    granted = [ln for ln in out.splitlines() if ln.startswith("GRANT")]
    assert not any(
        ("UPDATE" in ln or "DELETE" in ln) and (" events" in ln or " audit" in ln) for ln in granted
    )
