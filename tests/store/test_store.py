"""The store on a real database file (and PostgreSQL when the run has one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command as alembic_command
from sqlalchemy import text

from console.cli import main
from console.domain.commands import (
    AcknowledgeAlert,
    AssignTeam,
    CommandRejected,
    CommandStatus,
    ReassignCall,
)
from console.domain.events import CallUpdated
from console.domain.model import CallStatus
from console.domain.projection import fold
from console.domain.synthetic import synthetic_shift
from console.store import SchemaMissing, SchemaTooNew, SchemaTooOld, Store, make_engine, upgrade
from console.store.db import _alembic_config

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SHIFT = synthetic_shift(1500, seed=5, start=START)


def loaded(url: str) -> Store:
    store = Store.open(url)
    for i in range(0, len(SHIFT), 200):
        store.append(SHIFT[i : i + 200])
    return store


def test_append_projects_like_the_fold_and_dedups(db_url: str) -> None:
    store = loaded(db_url)
    assert store.event_count() == len(SHIFT)
    again = store.append(SHIFT[:300])
    assert again.duplicates == 300 and again.appended == []
    assert store.event_count() == len(SHIFT)
    assert store.load_state().same_picture(fold(SHIFT))


def test_rebuilding_projections_from_the_log_gives_the_stored_ones(db_url: str) -> None:
    store = loaded(db_url)
    before = store.load_state()
    store.rebuild_projections()
    assert store.load_state().same_picture(before)


def test_out_of_order_batches_converge(db_url: str) -> None:
    store = Store.open(db_url)
    events = list(SHIFT)
    events.reverse()
    for i in range(0, len(events), 137):
        store.append(events[i : i + 137])
    assert store.load_state().same_picture(fold(SHIFT))


def test_impossible_update_is_quarantined_with_reason(db_url: str) -> None:
    store = loaded(db_url)
    state = store.load_state()
    done = next(c for c in state.calls.values() if c.status is CallStatus.CLEARED)
    bad = replace(
        done,
        status=CallStatus.PENDING,
        updated_at=done.updated_at + timedelta(seconds=5),
        version=done.version + 1,
    )
    res = store.append(
        [
            CallUpdated(
                source="dispatch",
                source_id="oops",
                occurred_at=bad.updated_at,
                recorded_at=bad.updated_at,
                call=bad,
            )
        ]
    )
    assert len(res.rejected) == 1 and res.appended == []
    assert store.load_state().calls[done.id].status is CallStatus.CLEARED
    q = store.quarantined()
    assert q[0].reason.startswith("impossible transition") and done.id in q[0].reason
    assert '"source_id":"oops"' in q[0].raw


def test_command_goes_to_outbox_audit_and_waits_for_dispatch(db_url: str) -> None:
    store = loaded(db_url)
    state = store.load_state()
    pending = (
        next(
            c for c in state.calls.values() if c.status is CallStatus.PENDING and not c.safety_flags
        )
        if any(c.status is CallStatus.PENDING and not c.safety_flags for c in state.calls.values())
        else None
    )
    if pending is None:  # make one: a fresh call
        base = next(iter(state.calls.values()))
        pending = replace(
            base,
            id="HCR-NEW",
            status=CallStatus.PENDING,
            team=None,
            teams=(),
            safety_flags=(),
            updated_at=START,
            version=1,
        )
        from console.domain.events import CallReceived

        store.append(
            [
                CallReceived(
                    source="dispatch",
                    source_id="new-1",
                    occurred_at=START,
                    recorded_at=START,
                    call=pending,
                )
            ]
        )
    free = next(t for t in state.teams.values() if t.status.value == "available")
    sub = store.submit(AssignTeam(call_id=pending.id, team_id=free.id, reason=""), operator="sup.a")
    assert sub.changes.commands == {sub.command_id}
    rec = store.load_state().commands[sub.command_id]
    assert rec.status == CommandStatus.REQUESTED and rec.operator == "sup.a"
    due = store.outbox_due()
    assert [d.command_id for d in due] == [sub.command_id]
    assert due[0].idempotency_key == sub.command_id
    # The same call cannot take a second assignment while the first awaits dispatch.
    with pytest.raises(CommandRejected, match="awaiting"):
        store.submit(AssignTeam(call_id=pending.id, team_id=free.id), operator="sup.b")
    store.mark_sent(sub.command_id)
    assert store.outbox_due()[0].attempts == 1
    store.record_answer(
        sub.command_id,
        accepted=False,
        detail="call cleared meanwhile",
        at=START + timedelta(hours=9),
        source_id=f"ans-{sub.command_id}",
    )
    assert store.outbox_due() == []
    rec = store.load_state().commands[sub.command_id]
    assert rec.status == CommandStatus.REFUSED and rec.answer == "call cleared meanwhile"
    audit = store.audit()
    mine = next(a for a in audit if a.command_id == sub.command_id)
    assert (mine.operator, mine.action, mine.answer_status, mine.answer) == (
        "sup.a",
        "assign",
        "refused",
        "call cleared meanwhile",
    )
    rejected = next(a for a in audit if a.operator == "sup.b")
    assert rejected.answer_status == "rejected" and "awaiting" in rejected.answer


def test_rules_refusals_and_viewers_are_audited(db_url: str) -> None:
    store = loaded(db_url)
    state = store.load_state()
    c = next(c for c in state.calls.values() if c.is_open and c.team and not c.safety_flags)
    t = next(t for t in state.teams.values() if t.id != c.team)
    with pytest.raises(CommandRejected, match="reason is required"):
        store.submit(ReassignCall(call_id=c.id, team_id=t.id), operator="sup")
    with pytest.raises(CommandRejected, match="viewer role cannot act"):
        store.submit(AssignTeam(call_id=c.id, team_id=t.id), operator="v", role="viewer")
    assert [a.answer_status for a in store.audit()[:2]] == ["rejected", "rejected"]
    assert store.outbox_due() == []


def test_acknowledging_an_alert_is_local_and_audited(db_url: str) -> None:
    store = Store.open(db_url)
    sub = store.submit(
        AcknowledgeAlert(alert_id="pending_overdue:HCR-1", reason="called back"), operator="sup"
    )
    assert store.outbox_due() == []
    ack = store.load_state().acks["pending_overdue:HCR-1"]
    assert ack.operator == "sup" and ack.note == "called back"
    assert store.audit()[0].action == "acknowledge_alert" and sub.changes.alerts


def test_persons_kept_apart_from_the_log(db_url: str) -> None:
    store = loaded(db_url)
    store.record_persons(
        "HCR-000001", [{"role": "Caller", "name": "Jane Roe", "phone": "860-555-0101"}]
    )
    assert store.persons("HCR-000001")[0]["name"] == "Jane Roe"
    with store.engine.connect() as conn:
        payloads = conn.execute(text("SELECT payload FROM events")).scalars().all()
    assert not any("Jane Roe" in p for p in payloads)


def test_newer_schema_is_refused_and_left_untouched(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Store.open(url)
    eng = make_engine(url)
    with eng.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num='9999_future'"))
    with pytest.raises(SchemaTooNew, match="newer than this console"):
        upgrade(eng)
    with pytest.raises(SchemaTooNew):
        Store.open(url, create=False)
    with eng.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"
        )


def test_an_older_schema_is_explained_and_upgraded_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = make_engine(url)
    alembic_command.upgrade(_alembic_config(eng), "0006")  # a console of the version before
    with pytest.raises(SchemaTooOld, match=r"older than this console's .*db upgrade"):
        Store.open(url, create=False)
    assert main(["state", "--db", url, "--json"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "db upgrade" in err and "Traceback" not in err
    assert main(["db", "upgrade", "--db", url]) == 0
    Store.open(url, create=False).close()
    eng.dispose()


def test_missing_schema_is_explained(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SchemaMissing, match="db upgrade"):
        Store.open(f"sqlite:///{tmp_path / 'empty.db'}", create=False)
