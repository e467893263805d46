"""Replay's role is the platform's: ``--role`` narrows it, never widens it, and a trainer cannot
open a raw shift by claiming to be a supervisor."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from console.cli import main
from console.domain.events import Event
from console.replay.shiftfile import (
    ShiftFileError,
    export_shift,
    open_for_replay,
    replay_identity,
)
from console.replay.signing import public_key_path
from console.store import Store, identity


@pytest.fixture
def pg(db_url: str, shift_events: list[Event]) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh upgraded PostgreSQL database holding a shift, and a login per group role."""
    if not db_url.startswith("postgresql"):
        pytest.skip("database logins are PostgreSQL's")
    import psycopg

    store = Store.open(db_url)  # creates the schema, functions, roles and grants
    store.append(shift_events[:200])
    store.close()
    admin = db_url.replace("postgresql+psycopg://", "postgresql://")
    tag = uuid.uuid4().hex[:8]
    logins = {g: f"rc_r_{g.removeprefix('rc_')}_{tag}" for g in ("rc_supervisor", "rc_trainer")}
    with psycopg.connect(admin, autocommit=True) as conn:
        for group, name in logins.items():
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw' IN ROLE {group}")
    try:
        yield admin.split("@", 1)[1], logins
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for _ in range(100):  # closed sessions end on the server a moment later
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = ANY(%s)",
                    (list(logins.values()),),
                ).fetchone()
                if not row or not row[0]:
                    break
                time.sleep(0.1)
            for name in logins.values():
                conn.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def as_alice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program runs as account "alice"; the operators file belongs to the administrator."""
    monkeypatch.setattr(identity, "os_user", lambda: "alice")
    real = os.geteuid()
    monkeypatch.setattr(identity, "_euid", lambda: real + 1 if real else 4242)


def _operators(tmp_path: Path, role: str | None) -> Path:
    p = tmp_path / "operators.toml"
    p.write_text(
        '[operators]\nbob = "supervisor"\n' + (f'alice = "{role}"\n' if role else ""),
        encoding="utf-8",
    )
    p.chmod(0o644)
    return p


@pytest.fixture
def files(
    tmp_path: Path, shift_store: Store, shift_range: tuple[datetime, datetime]
) -> dict[str, Path]:
    key = tmp_path / "sign.key"
    start, end = shift_range
    out = {"raw": tmp_path / "raw.shift", "clean": tmp_path / "clean.shift", "key": key}
    export_shift(shift_store, start, end, out["raw"], signing_key=key)
    export_shift(shift_store, start, end, out["clean"], deidentify=True, signing_key=key)
    out["db"] = Path(str(shift_store.engine.url.database))
    return out


@pytest.mark.parametrize("target", ["raw", "clean", "db"])
def test_a_trainer_claiming_supervisor_is_refused_in_one_line(
    tmp_path: Path, as_alice: None, files: dict[str, Path], target: str
) -> None:
    ops = _operators(tmp_path, "trainer")
    with pytest.raises(ShiftFileError) as err:
        replay_identity(str(files[target]), operators_file=ops, claimed_role="supervisor")
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith("--role supervisor refused: alice is trainer here (operators file ")
    assert line.endswith("a role may only be narrowed")


def test_the_granted_role_at_most_trainer_unless_asked(
    tmp_path: Path, as_alice: None, files: dict[str, Path]
) -> None:
    target = str(files["raw"])
    for granted, default in (("supervisor", "trainer"), ("trainer", "trainer"), (None, "viewer")):
        ops = _operators(tmp_path, granted)
        assert replay_identity(target, operators_file=ops).role == default
        assert replay_identity(target, operators_file=ops, claimed_role="viewer").role == "viewer"
    ops = _operators(tmp_path, "supervisor")
    ident = replay_identity(target, operators_file=ops, claimed_role="supervisor")
    assert (ident.operator, ident.role) == ("alice", "supervisor")
    assert not open_for_replay(target, role=ident.role).data.deidentified
    with pytest.raises(ShiftFileError, match="--role supervisor refused: alice is viewer here"):
        replay_identity(
            target, operators_file=_operators(tmp_path, None), claimed_role="supervisor"
        )


@pytest.mark.parametrize("role", ["trainer", "viewer"])
def test_below_supervisor_only_signed_de_identified_files_open(
    files: dict[str, Path], role: str
) -> None:
    trusted = public_key_path(files["key"])
    for target in ("raw", "db"):
        with pytest.raises(ShiftFileError, match=f"a {role} may open only de-identified"):
            open_for_replay(str(files[target]), role=role, trusted_key=trusted)
    assert open_for_replay(str(files["clean"]), role=role, trusted_key=trusted).data.deidentified


def test_the_replay_command_refuses_before_any_window(
    tmp_path: Path,
    as_alice: None,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ops = _operators(tmp_path, "trainer")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[security]\noperators_file = "{ops}"\nsigning_key_file = "{files["key"]}"\n',
        encoding="utf-8",
    )
    argv = ["--config", str(cfg), "replay", "--role", "supervisor", str(files["raw"])]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("responder-console replay: --role supervisor refused: alice is trainer")
    # without --role, the trainer is refused the raw file for what it is
    assert main(["--config", str(cfg), "replay", str(files["raw"])]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "is not de-identified: a trainer may open only de-identified shift files" in line


def test_on_postgresql_the_login_decides(pg: tuple[str, dict[str, str]]) -> None:
    host, logins = pg
    trainer = f"postgresql://{logins['rc_trainer']}:pw@{host}"
    supervisor = f"postgresql://{logins['rc_supervisor']}:pw@{host}"
    with pytest.raises(ShiftFileError) as err:
        replay_identity(trainer, operators_file=None, claimed_role="supervisor")
    assert str(err.value).startswith(
        f"--role supervisor refused: {logins['rc_trainer']} is trainer here (member of rc_trainer)"
    )
    assert replay_identity(trainer, operators_file=None).role == "trainer"
    ident = replay_identity(supervisor, operators_file=None, claimed_role="supervisor")
    assert (ident.operator, ident.role) == (logins["rc_supervisor"], "supervisor")
    with pytest.raises(ShiftFileError, match="a trainer may open only de-identified"):
        open_for_replay(trainer, role="trainer")
    src = open_for_replay(supervisor, role=ident.role)  # as the supervisor's own login
    assert src.data.events
    src.store.close()
