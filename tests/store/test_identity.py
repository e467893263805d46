"""Who is at the console is established, not claimed: --operator and --role only narrow."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.store import identity
from console.store.identity import Identity, narrow, on_postgres, on_sqlite


@pytest.fixture
def as_alice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console runs as account "alice"; files the test writes belong to someone else
    (the administrator), as on a real seat."""
    monkeypatch.setattr(identity, "os_user", lambda: "alice")
    real = os.geteuid()
    monkeypatch.setattr(identity, "_euid", lambda: real + 1 if real else 4242)


def _operators(tmp_path: Path, body: str, mode: int = 0o644) -> Path:
    p = tmp_path / "operators.toml"
    p.write_text(body, encoding="utf-8")
    p.chmod(mode)
    return p


def test_a_listed_account_has_its_role(tmp_path: Path, as_alice: None) -> None:
    f = _operators(tmp_path, '[operators]\nalice = "supervisor"\nbob = "trainer"\n')
    ident = on_sqlite(f)
    assert (ident.operator, ident.role, ident.refused) == ("alice", "supervisor", ())
    assert str(f) in ident.basis


def test_an_unlisted_account_or_no_file_is_a_viewer(tmp_path: Path, as_alice: None) -> None:
    f = _operators(tmp_path, '[operators]\nbob = "supervisor"\n')
    assert on_sqlite(f).role == "viewer"
    assert on_sqlite(tmp_path / "missing.toml").role == "viewer"


def test_a_role_may_be_narrowed_never_widened(tmp_path: Path, as_alice: None) -> None:
    f = _operators(tmp_path, '[operators]\nalice = "trainer"\n')
    assert on_sqlite(f, claimed_role="viewer").role == "viewer"
    wider = on_sqlite(f, claimed_role="supervisor")
    assert wider.role == "trainer"
    [line] = wider.refused
    assert line.startswith("--role supervisor refused: alice is trainer here")


def test_another_operator_name_is_refused(tmp_path: Path, as_alice: None) -> None:
    f = _operators(tmp_path, '[operators]\nalice = "supervisor"\n')
    ident = on_sqlite(f, claimed_operator="J. Rivera")
    assert ident.operator == "alice"
    assert ident.refused == (
        f"--operator J. Rivera refused: the operator here is alice (operators file {f})",
    )
    assert on_sqlite(f, claimed_operator="alice").refused == ()


def test_a_file_others_may_write_is_not_trusted(tmp_path: Path, as_alice: None) -> None:
    f = _operators(tmp_path, '[operators]\nalice = "supervisor"\n', mode=0o666)
    ident = on_sqlite(f)
    assert ident.role == "viewer"
    assert "writable by others" in ident.refused[0]


def test_a_file_the_operator_owns_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _operators(tmp_path, '[operators]\nalice = "supervisor"\n')
    uid = os.stat(f).st_uid
    if uid == 0:  # the tests run as root: give the file to an ordinary account
        uid = 1000
        os.chown(f, uid, -1)
    monkeypatch.setattr(identity, "_euid", lambda: uid)
    monkeypatch.setattr(identity, "os_user", lambda: "alice")
    ident = on_sqlite(f)
    assert ident.role == "viewer"
    assert "owned by the account running the console" in ident.refused[0]


def test_a_bad_role_in_the_file_is_named(tmp_path: Path, as_alice: None) -> None:
    f = _operators(tmp_path, '[operators]\nalice = "admin"\n')
    ident = on_sqlite(f)
    assert ident.role == "viewer" and "alice = 'admin'" in ident.refused[0]


def test_the_demo_makes_the_account_supervisor(tmp_path: Path, as_alice: None) -> None:
    ident = on_sqlite(tmp_path / "missing.toml", demo=True)
    assert (ident.operator, ident.role) == ("alice", "supervisor")


def test_narrow_keeps_the_granted_identity_on_refusal() -> None:
    g = Identity("bob", "viewer", "test")
    n = narrow(g, "mallory", "supervisor")
    assert (n.operator, n.role, len(n.refused)) == ("bob", "viewer", 2)


# -- PostgreSQL: the login and its group roles -------------------------------------------------


@pytest.fixture
def pg_logins() -> Iterator[tuple[str, list[str]]]:
    """(server URL base without user, [login role names]); the logins are dropped after."""
    base = os.environ.get("RC_TEST_PG_URL")
    if not base:
        pytest.skip("RC_TEST_PG_URL not set: no PostgreSQL server for this run")
    import psycopg

    admin = base.replace("postgresql+psycopg://", "postgresql://")
    made: list[str] = []
    with psycopg.connect(admin, autocommit=True) as conn:
        for group in ("rc_supervisor", "rc_trainer", "rc_viewer"):
            conn.execute(
                "DO $$BEGIN CREATE ROLE " + group + " NOLOGIN; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END$$"
            )
        tag = uuid.uuid4().hex[:8]
        for suffix, group in (("sup", "rc_supervisor"), ("tr", "rc_trainer"), ("none", None)):
            name = f"rc_t_{suffix}_{tag}"
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw'")
            made.append(name)
            if group:
                conn.execute(f"GRANT {group} TO {name}")
    host = admin.split("@", 1)[1]
    try:
        yield host, made
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in made:
                conn.execute(f"DROP ROLE IF EXISTS {name}")


def test_on_postgres_the_login_and_its_group_role_decide(
    pg_logins: tuple[str, list[str]],
) -> None:
    from console.store import make_engine

    host, (sup, trainer, nobody) = pg_logins
    got = {}
    for name in (sup, trainer, nobody):
        engine = make_engine(f"postgresql://{name}:pw@{host}")
        try:
            got[name] = on_postgres(engine, claimed_role="supervisor")
        finally:
            engine.dispose()
    assert (got[sup].operator, got[sup].role, got[sup].refused) == (sup, "supervisor", ())
    assert got[sup].basis == "member of rc_supervisor"
    assert got[trainer].role == "trainer" and "--role supervisor refused" in got[trainer].refused[0]
    assert got[nobody].role == "viewer"
