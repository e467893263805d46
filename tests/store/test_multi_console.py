"""Several consoles and sync services on one database (SQLite, and PostgreSQL when the run has one).

Every store here is a separate engine (its own connections), as separate processes would have.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from console.app import main as cli
from console.config import redact_url
from console.domain.clock import Clock
from console.domain.commands import (
    AcknowledgeAlert,
    AddNote,
    AssignTeam,
    ChangePriority,
    CommandRejected,
)
from console.domain.events import CallReceived, CallUpdated, Event, TeamStatusChanged
from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.store import Changes, CommandConflict, Store, StoreError, make_engine
from console.store import schema as S
from console.store.db import _alembic_config, head_revision
from console.store.notify import ChangeListener, ChangeNote, decode, encode

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
R = TypeVar("R")


class FixedClock(Clock):
    """A clock the test moves by hand (lease expiry without waiting)."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def is_pg(url: str) -> bool:
    return url.startswith("postgres")


def world(n_calls: int, n_teams: int) -> list[Event]:
    """Available teams and pending, safe, ordinary calls any team may take."""
    evs: list[Event] = []
    for i in range(n_teams):
        tm = Team(f"CRT-{i + 1}", TeamStatus.AVAILABLE, T0, "CRT", T0)
        evs.append(
            TeamStatusChanged(
                source="dispatch", source_id=f"t{i}", occurred_at=T0, recorded_at=T0, team=tm
            )
        )
    for i in range(n_calls):
        at = T0 + timedelta(seconds=i + 1)
        c = Call(f"HCR-{i + 1:06d}", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, at, at)
        evs.append(
            CallReceived(
                source="dispatch", source_id=f"c{i}", occurred_at=at, recorded_at=at, call=c
            )
        )
    return evs


def stores(url: str, n: int, clock: Clock | None = None) -> list[Store]:
    first = Store.open(url, clock=clock)
    return [first] + [Store.open(url, create=False, clock=clock) for _ in range(n - 1)]


@pytest.fixture
def closing() -> Iterator[list[Store]]:
    opened: list[Store] = []
    yield opened
    for s in opened:
        s.close()


def at_once(*fns: Callable[[], R]) -> list[R | BaseException]:
    """Run the functions in threads released together; results (or exceptions) in order."""
    gate = threading.Barrier(len(fns), timeout=30)

    def run(fn: Callable[[], R]) -> R | BaseException:
        gate.wait()
        try:
            return fn()
        except BaseException as exc:  # collected for the test to inspect
            return exc

    with ThreadPoolExecutor(len(fns)) as pool:
        return list(pool.map(run, fns))


# -- the outbox shared by several senders --------------------------------------------------------


def test_a_killed_sender_on_this_host_gives_its_claims_up_at_once(
    db_url: str, closing: list[Store]
) -> None:
    clock = FixedClock(T0 + timedelta(hours=1))
    [a] = stores(db_url, 1, clock)
    closing.append(a)
    a.append(world(3, 1))
    ids = sorted(
        a.submit(AddNote(call_id=f"HCR-{i + 1:06d}", text="x"), operator="sup").command_id
        for i in range(3)
    )
    host = socket.gethostname()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    alive = os.getpid()  # this test's own process: a live sender
    live = [i.command_id for i in a.claim_outbox(1, owner=f"{host}:{alive}:l", lease_s=30)]
    dead = [i.command_id for i in a.claim_outbox(2, owner=f"{host}:{ended.pid}:d", lease_s=30)]
    assert len(dead) == 2 and len(live) == 1 and sorted(dead + live) == ids
    # Within the lease: the ended process's rows are taken over, the live sender's are not,
    # and neither are those of a sender on another host (its processes cannot be seen).
    got = [i.command_id for i in a.claim_outbox(20, owner=f"{host}:1:new00001", lease_s=30)]
    assert sorted(got) == sorted(dead)
    other = "elsewhere.example:999999:far00001"
    assert a.release_outbox(f"{host}:1:new00001") == 2
    assert len(a.claim_outbox(2, owner=other, lease_s=30)) == 2
    assert a.claim_outbox(20, owner=f"{host}:1:new00001", lease_s=30) == []


def test_claims_are_exclusive_until_the_lease_runs_out(db_url: str, closing: list[Store]) -> None:
    clock = FixedClock(T0 + timedelta(hours=1))
    a, b = stores(db_url, 2, clock)
    closing += [a, b]
    a.append(world(12, 4))
    # One instant on the fixed clock: the outbox's order is then the command id's.
    ids = sorted(
        a.submit(AddNote(call_id=f"HCR-{i + 1:06d}", text="x"), operator="sup").command_id
        for i in range(12)
    )

    got_a = [i.command_id for i in a.claim_outbox(5, owner="sync-a", lease_s=30)]
    got_b = [i.command_id for i in b.claim_outbox(5, owner="sync-b", lease_s=30)]
    assert got_a == ids[:5] and got_b == ids[5:10]  # oldest first, never the other's
    # Claiming again renews one's own rows; the other's stay out of reach within the lease.
    assert [i.command_id for i in a.claim_outbox(20, owner="sync-a", lease_s=30)] == (
        ids[:5] + ids[10:]
    )
    assert [i.command_id for i in b.claim_outbox(20, owner="sync-b", lease_s=30)] == ids[5:10]
    # The old entry point still lists every unanswered command for a single sender.
    assert [i.command_id for i in a.outbox_due(50)] == ids

    # sync-a stops without a word: once its lease has run out, sync-b takes its rows over.
    clock.t += timedelta(seconds=31)
    assert [i.command_id for i in b.claim_outbox(20, owner="sync-b", lease_s=30)] == ids
    # A clean stop gives rows back at once.
    assert b.release_outbox("sync-b") == 12
    assert len(a.claim_outbox(20, owner="sync-a", lease_s=30)) == 12

    # Answered commands are never claimed again.
    for cid in ids[:3]:
        a.record_answer(cid, accepted=True, detail="ok", at=clock.t, source_id=f"ans-{cid}")
    assert [i.command_id for i in b.claim_outbox(20, owner="sync-b", lease_s=30)] == []
    clock.t += timedelta(seconds=31)
    assert [i.command_id for i in b.claim_outbox(20, owner="sync-b", lease_s=30)] == ids[3:]
    with pytest.raises(ValueError, match="owner"):
        b.claim_outbox(5, owner="", lease_s=30)


def test_two_senders_claiming_at_once_never_send_one_command_twice(
    db_url: str, closing: list[Store]
) -> None:
    a, b = stores(db_url, 2)
    closing += [a, b]
    a.append(world(30, 4))
    ids = {
        a.submit(AddNote(call_id=f"HCR-{i + 1:06d}", text="x"), operator="sup").command_id
        for i in range(30)
    }
    sent: dict[str, list[str]] = {"sync-a": [], "sync-b": []}
    rounds = 0
    while True:
        rounds += 1
        assert rounds < 30, "the outbox never drained"
        # Both senders claim at the same instant, every round.
        claims = at_once(
            lambda: a.claim_outbox(4, owner="sync-a", lease_s=300),
            lambda: b.claim_outbox(4, owner="sync-b", lease_s=300),
        )
        got: dict[str, list[str]] = {}
        for owner, res, st in zip(("sync-a", "sync-b"), claims, (a, b), strict=True):
            assert not isinstance(res, BaseException), res
            got[owner] = [i.command_id for i in res]
            for cid in got[owner]:
                sent[owner].append(cid)
                st.mark_sent(cid)
                st.record_answer(cid, accepted=True, detail="ok", at=T0, source_id=f"ans-{cid}")
        assert not set(got["sync-a"]) & set(got["sync-b"])
        if not got["sync-a"] and not got["sync-b"]:
            break
    everything = sent["sync-a"] + sent["sync-b"]
    assert sorted(everything) == sorted(ids)  # each command sent once, none left behind
    assert sent["sync-a"] and sent["sync-b"]  # both were really competing
    with a.engine.connect() as conn:
        attempts = conn.execute(select(S.outbox.c.attempts)).scalars().all()
    assert attempts == [1] * len(ids)


def test_postgres_claimers_skip_rows_locked_by_another(db_url: str, closing: list[Store]) -> None:
    if not is_pg(db_url):
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite has one writer at a time")
    a, b = stores(db_url, 2)
    closing += [a, b]
    a.append(world(6, 2))
    for i in range(6):
        a.submit(AddNote(call_id=f"HCR-{i + 1:06d}", text="x"), operator="s")
    ids = [i.command_id for i in a.outbox_due()]
    # Another sender is in the middle of its claim: it holds the two oldest rows locked.
    with a.engine.connect() as held:
        tx = held.begin()
        held.execute(
            select(S.outbox.c.command_id)
            .where(S.outbox.c.command_id.in_(ids[:2]))
            .with_for_update()
        ).all()
        got = b.claim_outbox(10, owner="sync-b", lease_s=30)  # must not wait for it
        tx.rollback()
    assert [i.command_id for i in got] == ids[2:]


# -- two supervisors, one call ---------------------------------------------------------------------


def _assign(
    st: Store, call_id: str, team_id: str, version: int, operator: str
) -> Callable[[], Any]:
    cmd = AssignTeam(call_id=call_id, team_id=team_id, expected_version=version)
    return lambda: st.submit(cmd, operator=operator)


def test_two_supervisors_assigning_one_call_at_once_one_wins(
    db_url: str, closing: list[Store]
) -> None:
    n = 8
    first, *others = stores(db_url, 3)
    closing += [first, *others]
    first.append(world(n, 2 * n))
    s1, s2 = others
    for i in range(n):
        cid = f"HCR-{i + 1:06d}"
        seen = first.load_state().calls[cid]
        res = at_once(
            _assign(s1, cid, f"CRT-{2 * i + 1}", seen.version, "sup-1"),
            _assign(s2, cid, f"CRT-{2 * i + 2}", seen.version, "sup-2"),
        )
        losers = [r for r in res if isinstance(r, BaseException)]
        winners = [r for r in res if not isinstance(r, BaseException)]
        assert len(winners) == 1 and len(losers) == 1, res
        lost = losers[0]
        assert isinstance(lost, CommandConflict), lost
        won_by = "sup-1" if res[0] is winners[0] else "sup-2"
        # The loser is told what happened and how the call stands now.
        assert lost.pending_operator == won_by
        assert lost.pending_command_id == winners[0].command_id
        assert lost.call is not None and lost.call.id == cid
        assert lost.call.status is CallStatus.PENDING and lost.call.version == seen.version
        assert "awaiting dispatch" in str(lost) and won_by in str(lost) and "pending" in str(lost)

    # Nothing applied twice: one request, one outbox row, one pending audit row per call.
    with first.engine.connect() as conn:
        requested = (
            conn.execute(select(S.events.c.entity_id).where(S.events.c.kind == "command_requested"))
            .scalars()
            .all()
        )
        outbox = conn.execute(select(S.outbox.c.payload)).scalars().all()
        audit = conn.execute(select(S.audit.c.call_id, S.audit.c.answer_status)).all()
    assert len(requested) == n and len(set(requested)) == n
    assert len(outbox) == n
    assert sorted(c for c, st in audit if st == "pending") == [f"HCR-{i + 1:06d}" for i in range(n)]
    assert sorted(c for c, st in audit if st == "rejected") == [
        f"HCR-{i + 1:06d}" for i in range(n)
    ]


def test_two_priority_changes_at_once_one_wins(db_url: str, closing: list[Store]) -> None:
    a, b = stores(db_url, 2)
    closing += [a, b]
    a.append(world(1, 1))
    cid = "HCR-000001"
    res = at_once(
        lambda: a.submit(ChangePriority(call_id=cid, priority=1, expected_version=1), operator="x"),
        lambda: b.submit(ChangePriority(call_id=cid, priority=3, expected_version=1), operator="y"),
    )
    assert sum(isinstance(r, CommandConflict) for r in res) == 1, res
    assert sum(not isinstance(r, BaseException) for r in res) == 1, res
    assert len(a.outbox_due()) == 1
    # A note on the same call is no conflict: both supervisors' notes go out.
    a.submit(AddNote(call_id=cid, text="on my way to check"), operator="x")
    assert len(a.outbox_due()) == 2


def test_a_stale_version_is_refused_with_the_current_state(
    db_url: str, closing: list[Store]
) -> None:
    a, b = stores(db_url, 2)
    closing += [a, b]
    a.append(world(1, 2))
    seen = b.load_state().calls["HCR-000001"]
    # Dispatch raises the priority meanwhile (a newer record, version 2).
    newer = replace(seen, priority=1, version=2, updated_at=seen.updated_at + timedelta(seconds=9))
    a.append(
        [
            CallUpdated(
                source="dispatch",
                source_id="u1",
                occurred_at=newer.updated_at,
                recorded_at=newer.updated_at,
                call=newer,
            )
        ]
    )
    with pytest.raises(CommandConflict, match="changed meanwhile") as info:
        b.submit(
            AssignTeam(call_id=seen.id, team_id="CRT-1", expected_version=seen.version),
            operator="sup-2",
        )
    assert info.value.call is not None and info.value.call.version == 2
    assert "priority 1" in str(info.value) and "version 2" in str(info.value)
    assert isinstance(info.value, CommandRejected)  # callers catching the old type still do
    assert b.outbox_due() == []
    b.submit(AssignTeam(call_id=seen.id, team_id="CRT-1", expected_version=2), operator="sup-2")
    assert len(b.outbox_due()) == 1


# -- change notification ---------------------------------------------------------------------------


def _listen(url: str) -> ChangeListener:
    lst = ChangeListener(url)
    lst.connect()
    return lst


def _hear_until(lst: ChangeListener, seq: int, timeout_s: float = 20.0) -> list[ChangeNote]:
    notes: list[ChangeNote] = []
    deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
    while lst.last_seq < seq:
        left = (deadline - datetime.now(UTC)).total_seconds()
        assert left > 0, f"heard up to seq {lst.last_seq}, expected {seq}"
        notes += lst.wait(left)
    return notes


def test_every_committed_change_is_heard_in_order(db_url: str, closing: list[Store]) -> None:
    if not is_pg(db_url):
        with pytest.raises(StoreError, match="needs PostgreSQL"):
            ChangeListener(db_url)
        return
    a, b = stores(db_url, 2)
    closing += [a, b]
    lst = _listen(db_url)
    try:
        start = lst.last_seq
        evs = world(40, 10)
        results: list[Any] = []
        lock = threading.Lock()

        def writer(st: Store, part: list[Event]) -> None:
            for i in range(0, len(part), 3):
                r = st.append(part[i : i + 3])
                with lock:
                    results.append(r)

        # Two writers at once, as a sync service and a console inserting commands would.
        out = at_once(lambda: writer(a, evs[0::2]), lambda: writer(b, evs[1::2]))
        assert out == [None, None]
        final = max(r.last_seq for r in results)
        notes = _hear_until(lst, final)

        assert [n.after for n in notes] == [start] + [n.seq for n in notes[:-1]]  # no gap, in order
        assert all(n.seq > n.after for n in notes)
        # Each committed write is heard once, with exactly what it reported as changed.
        by_seq = {r.last_seq: r.changes for r in results if r.appended}
        assert {n.seq: n.changes for n in notes} == by_seq
        heard_calls = set().union(*(n.changes.calls for n in notes if n.changes))
        assert heard_calls == {f"HCR-{i + 1:06d}" for i in range(40)}

        # A rolled-back write is never heard; the next committed one follows on without a gap.
        before = lst.last_seq
        more = world(41, 0)[-1:]
        with pytest.raises(RuntimeError), a.engine.begin() as conn:
            a._append(conn, more)
            raise RuntimeError("crash before commit")
        r = a.append(more)
        (note,) = _hear_until(lst, r.last_seq)
        assert note.after == before and note.changes == r.changes
        assert note.changes is not None and note.changes.calls == {"HCR-000041"}

        # A write too big to list says "everything", which the console answers with a reload.
        big = [
            CallReceived(
                source="dispatch",
                source_id=f"big{i}",
                occurred_at=T0,
                recorded_at=T0,
                call=Call(f"BIG-{i:06d}", CallStatus.PENDING, 2, CallType.OTHER, T0, T0),
            )
            for i in range(800)
        ]
        r = b.append(big)
        (note,) = _hear_until(lst, r.last_seq)
        assert note.changes is None and note.seq == r.last_seq

        # A command submitted by one console is heard by the others.
        sub = b.submit(AddNote(call_id="HCR-000002", text="heard?"), operator="sup")
        (note,) = _hear_until(lst, sub.changes.seq)
        assert note.changes == sub.changes and note.changes.commands == {sub.command_id}
    finally:
        lst.close()


def test_a_missed_notification_asks_for_a_reload() -> None:
    lst = ChangeListener("postgresql://localhost/x")  # never connected: only the bookkeeping
    lst.last_seq = 10
    heard = lst._accept(decode(encode(Changes(calls=frozenset({"A"}), seq=12), 10, 12)))
    assert heard.changes == Changes(calls=frozenset({"A"}), seq=12)
    skipped = lst._accept(decode(encode(Changes(calls=frozenset({"B"}), seq=20), 15, 20)))
    assert skipped.changes is None and lst.last_seq == 20
    assert decode("not json").changes is None


# -- schema migrations -----------------------------------------------------------------------------


def test_db_upgrade_runs_the_same_on_every_database(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(db_url)
    try:
        # A center still on the first schema, with a command waiting in its outbox.
        alembic_command.upgrade(_alembic_config(engine), "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO outbox (command_id, idempotency_key, kind, payload, operator,"
                    " status, attempts, created_at, answer) VALUES ('c1', 'c1', 'note',"
                    " :p, 'sup', 'queued', 0, :t, '')"
                ),
                {"p": '{"kind":"note","call_id":"HCR-1","text":"x"}', "t": T0},
            )
        assert cli(["db", "upgrade", "--db", db_url]) == 0
        out = capsys.readouterr().out
        assert f"0001 -> {head_revision()}" in out
        password = urlsplit(db_url).password
        if password:
            assert f":{password}@" not in out and redact_url(db_url) != db_url
        assert cli(["db", "upgrade", "--db", db_url]) == 0
        assert f"schema at {head_revision()}" in capsys.readouterr().out

        with engine.connect() as conn:
            # The migrated schema is exactly the one the code declares.
            diffs = compare_metadata(MigrationContext.configure(conn), S.metadata)
            assert diffs == []
            assert conn.execute(select(func.count()).select_from(S.outbox)).scalar_one() == 1
        store = Store(engine)
        (item,) = store.claim_outbox(5, owner="sync-a", lease_s=30)
        assert item.command_id == "c1" and item.claimed_until is not None
    finally:
        engine.dispose()


# -- the roles and grants of docs/operations.md ----------------------------------------------------

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _doc_sql() -> list[str]:
    """The SQL statements of docs/operations.md, in order."""
    blocks = re.findall(r"```sql\n(.*?)```", OPERATIONS.read_text(encoding="utf-8"), re.S)
    return [s.strip() for b in blocks for s in b.split(";") if s.strip()]


def test_documented_roles_and_grants_let_each_part_do_its_job_and_no_more(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not is_pg(db_url):
        pytest.skip("roles and grants are PostgreSQL's")
    owner = make_engine(db_url)
    with owner.connect() as conn:
        me, can = conn.execute(
            text("SELECT current_user, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).one()
    if not can:
        owner.dispose()
        pytest.skip("the test server's role may not create roles (CREATEROLE)")
    tag = uuid.uuid4().hex[:8]
    names = {"rc_owner": me, "rc_sync": f"rc_sync_{tag}", "rc_console": f"rc_console_{tag}"}
    dbname = urlsplit(db_url).path.lstrip("/")

    def sub(stmt: str) -> str:
        stmt = re.sub(r"\bresponder\b", f'"{dbname}"', stmt)
        return re.sub(r"\brc_(owner|sync|console)\b", lambda m: names[m.group(0)], stmt)

    stmts = [sub(s) for s in _doc_sql()]
    assert any("GRANT INSERT ON events" in s for s in stmts)
    table_grants = [
        s for s in stmts if " ON ALL " in s or re.search(r" ON (events|acks|alembic|SEQUENCE)", s)
    ]
    setup = [
        s
        for s in stmts
        if s not in table_grants
        and not s.startswith("CREATE DATABASE")
        and s != f"CREATE ROLE {me} LOGIN"
    ]
    # The test, not the documentation, sets passwords: through a libpq password file.
    pw = {r: uuid.uuid4().hex for r in (names["rc_sync"], names["rc_console"])}
    host = urlsplit(db_url)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(
        "".join(f"{host.hostname}:{host.port or 5432}:{dbname}:{r}:{p}\n" for r, p in pw.items())
    )
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    opened: list[Store] = []
    try:
        with owner.begin() as conn:
            for s in setup:
                conn.execute(text(s))
            for r, p in pw.items():
                conn.execute(text(f"ALTER ROLE {r} PASSWORD '{p}'"))
        Store.open(db_url).close()  # `db upgrade` as the owner
        with owner.begin() as conn:
            for s in table_grants:
                conn.execute(text(s))

        def url_for(role: str) -> str:  # no password in the URL: the password file has it
            return f"postgresql://{role}@{host.hostname}:{host.port or 5432}/{dbname}"

        sync = Store.open(url_for(names["rc_sync"]))
        console = Store.open(url_for(names["rc_console"]), create=False)
        opened += [sync, console]

        # The sync service writes dispatch data, quarantines, keeps personal data apart.
        sync.append(world(3, 3))
        sync.quarantine("{bad", "not JSON")
        sync.record_persons("HCR-000001", [{"name": "Jane Roe"}])
        # A console reads, hears changes, queues commands and acknowledges alerts.
        assert len(console.load_state().calls) == 3
        lst = ChangeListener(url_for(names["rc_console"]))
        lst.connect()
        lst.close()
        sent = console.submit(
            AssignTeam(call_id="HCR-000001", team_id="CRT-1", expected_version=1), operator="sup"
        )
        console.submit(AcknowledgeAlert(alert_id="no_team:HCR-000002"), operator="sup")
        console.submit(
            AcknowledgeAlert(alert_id="no_team:HCR-000002", reason="again"), operator="sup"
        )
        # Another console whose clock runs behind: its earlier acknowledgement replaces the row.
        behind = Store.open(url_for(names["rc_console"]), create=False, clock=FixedClock(T0))
        opened.append(behind)
        behind.submit(AcknowledgeAlert(alert_id="no_team:HCR-000002"), operator="sup-2")
        assert behind.load_state().acks["no_team:HCR-000002"].operator == "sup-2"
        with pytest.raises(CommandRejected):
            console.submit(AssignTeam(call_id="HCR-000001", team_id="CRT-2"), operator="sup")
        with pytest.raises(CommandRejected):
            console.submit(AddNote(call_id="HCR-000001", text="x"), operator="v", role="viewer")
        # ...and the sync service delivers them and records dispatch's answer.
        (item,) = sync.claim_outbox(10, owner="sync-a", lease_s=30)
        assert item.command_id == sent.command_id
        sync.mark_sent(item.command_id)
        sync.record_answer(item.command_id, accepted=True, detail="ok", at=T0, source_id="a1")
        assert sync.rebuild_projections() > 0

        # A console can change neither dispatch data nor the outbox's delivery state.
        with pytest.raises(DBAPIError, match="permission denied"):
            console.append(world(4, 0)[-1:])
        with pytest.raises(DBAPIError, match="permission denied"):
            console.claim_outbox(10, owner="rogue", lease_s=30)
        with pytest.raises(DBAPIError, match="permission denied"), console.engine.begin() as conn:
            conn.execute(text("DELETE FROM events"))
        # The sync service cannot change the schema.
        with (
            pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
            sync.engine.begin() as conn,
        ):
            conn.execute(text("DROP TABLE audit"))
    finally:
        for st in opened:
            st.close()
        with owner.begin() as conn:
            for r in pw:
                for what in (
                    "ALL TABLES IN SCHEMA public",
                    "ALL SEQUENCES IN SCHEMA public",
                    "SCHEMA public",
                    f'DATABASE "{dbname}"',
                ):
                    conn.execute(text(f"REVOKE ALL ON {what} FROM {r}"))
                conn.execute(text(f"DROP ROLE IF EXISTS {r}"))
        owner.dispose()
