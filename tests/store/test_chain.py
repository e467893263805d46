"""The event log and the audit are hash chains: an edit, a deletion or a forged row shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command as alembic_command
from sqlalchemy import text

from console.cli import main
from console.domain.commands import AcknowledgeAlert, AssignTeam, CommandRejected
from console.domain.events import CallReceived, Event, TeamStatusChanged
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.store import Store, make_engine
from console.store.chain import GENESIS, verify
from console.store.db import _alembic_config

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _world() -> list[Event]:
    evs: list[Event] = []
    for i in range(3):
        tm = Team(f"CRT-{i + 1}", TeamStatus.AVAILABLE, T0, "CRT", T0)
        evs.append(
            TeamStatusChanged(
                source="dispatch", source_id=f"t{i}", occurred_at=T0, recorded_at=T0, team=tm
            )
        )
    for i in range(5):
        at = T0 + timedelta(seconds=i + 1)
        c = Call(f"HCR-{i + 1:06d}", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, at, at)
        evs.append(
            CallReceived(
                source="dispatch", source_id=f"c{i}", occurred_at=at, recorded_at=at, call=c
            )
        )
    return evs


def _filled(url: str) -> Store:
    store = Store.open(url)
    store.append(_world()[:4])
    store.append(_world()[4:])
    store.submit(AssignTeam(call_id="HCR-000001", team_id="CRT-1"), operator="alice")
    with pytest.raises(CommandRejected):
        store.submit(
            AssignTeam(call_id="HCR-000002", team_id="CRT-2"), operator="bob", role="viewer"
        )
    store.submit(AcknowledgeAlert(alert_id="nope", reason="seen"), operator="alice")
    return store


def _verify_cli(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(["db", "verify", "--db", url])
    out, err = capsys.readouterr()
    return rc, out.strip(), err.strip()


def test_an_untouched_database_verifies(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = _filled(db_url)
    try:
        n_events = store.event_count()
    finally:
        store.close()
    rc, out, err = _verify_cli(db_url, capsys)
    assert (rc, err) == (0, "")
    assert out == f"verified {n_events} events, 3 audit rows"


def test_a_tampered_event_payload_is_found(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = _filled(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE events SET payload = replace(payload, 'welfare', 'other') WHERE seq = 5"
                )
            )
    finally:
        store.close()
    rc, out, err = _verify_cli(db_url, capsys)
    assert rc == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert "event seq 5 " in err


def test_a_deleted_event_is_found(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = _filled(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE seq = 3"))
    finally:
        store.close()
    rc, _, err = _verify_cli(db_url, capsys)
    assert rc == 1
    assert "event seq 4 " in err and "deleted" in err


def test_a_forged_audit_row_is_found(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = _filled(db_url)
    try:
        with store.engine.begin() as conn:
            last = conn.execute(text("SELECT id, chain FROM audit ORDER BY id DESC LIMIT 1")).one()
            # A forger who copies a plausible hash still cannot make the content match it.
            conn.execute(
                text(
                    "INSERT INTO audit (at, operator, role, action, reason, detail, answer_status,"
                    " answer, chain) VALUES (:at, 'mallory', 'supervisor', 'escalate', '', '{}',"
                    " 'done', '', :c)"
                ),
                {"at": T0.replace(tzinfo=None), "c": last.chain},
            )
            # ... and an honest row after it no longer follows either.
        store.submit(AcknowledgeAlert(alert_id="again", reason="seen"), operator="alice")
    finally:
        store.close()
    rc, _, err = _verify_cli(db_url, capsys)
    assert rc == 1
    assert f"audit row {last.id + 1} " in err


def test_an_edited_audit_operator_is_found_and_answers_still_verify(db_url: str) -> None:
    store = _filled(db_url)
    try:
        cmd = store.outbox_due()[0]
        store.record_answer(cmd.command_id, accepted=True, detail="ok", at=T0, source_id="a1")
        assert verify(store.engine).ok  # dispatch's answer fills the row: still verifies
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE audit SET operator = 'bob' WHERE id = 1"))
        v = verify(store.engine)
        assert not v.ok and v.broken is not None and v.broken.startswith("audit row 1 ")
    finally:
        store.close()


def test_only_the_latest_rows_can_be_checked(db_url: str) -> None:
    store = _filled(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE events SET payload = '{}' WHERE seq = 1"))
        assert not verify(store.engine).ok
        latest = verify(store.engine, latest=3)
        assert latest.ok and latest.events == 3 and latest.audit_rows == 3
    finally:
        store.close()


def test_upgrade_chains_the_rows_written_before(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        alembic_command.upgrade(_alembic_config(engine), "0004")
        with engine.begin() as conn:
            for i in range(3):
                conn.execute(
                    text(
                        "INSERT INTO events (source, source_id, kind, entity_id, occurred_at,"
                        " recorded_at, payload) VALUES ('dispatch', :s, 'note', 'HCR-1', :t, :t,"
                        " '{}')"
                    ),
                    {
                        "s": f"n{i}",
                        "t": T0.replace(tzinfo=None) if db_url.startswith("sqlite") else T0,
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO audit (at, operator, role, action, reason, detail, answer_status,"
                    " answer) VALUES (:t, 'alice', 'supervisor', 'note', '', '{}', 'done', '')"
                ),
                {"t": T0.replace(tzinfo=None) if db_url.startswith("sqlite") else T0},
            )
        alembic_command.upgrade(_alembic_config(engine), "head")
        v = verify(engine)
        assert (v.ok, v.events, v.audit_rows) == (True, 3, 1)
        with engine.connect() as conn:
            first = conn.execute(text("SELECT chain FROM events ORDER BY seq LIMIT 1")).scalar()
        assert first is not None and first != GENESIS
    finally:
        engine.dispose()
