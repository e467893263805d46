"""Storage that tells: a damaged, read-only or full database is named in one line, the sync
service acknowledges nothing it could not commit, and nothing already committed is lost."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.domain.synthetic import synthetic_shift
from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, Faults, build
from console.store import Store, StoreCorrupt
from tests.sync.helpers import cli

START = datetime(2026, 11, 26, 8, tzinfo=UTC)


def _populated(path: Path, n: int = 400) -> int:
    store = Store.open(f"sqlite:///{path}")
    store.append(synthetic_shift(n, seed=3, start=START))
    count = store.event_count()
    store.close()
    return count


def _events(path: Path) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        con.close()


def _one_line_failure(res: subprocess.CompletedProcess[str], *words: str) -> str:
    assert res.returncode != 0, res.stdout
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines, "nothing on stderr"
    last = lines[-1]
    for w in words:
        assert w in last, last
    return last


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatorThread]:
    world = build(seed=4, start=START, duration_h=20, rate_per_hour=40)
    st = SimulatorThread(
        DispatchSimulator(world, speed=600, faults=Faults(), seed=4, state_out=tmp_path / "t.json")
    ).start()
    try:
        yield st
    finally:
        st.stop()


def _zero_page(path: Path, page: int) -> None:
    size = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as f:
        f.seek(size * page)
        f.write(b"\0" * size)


def test_a_zeroed_page_is_refused_everywhere_and_named_by_db_check(tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    n = _populated(good)
    assert cli("db", "check", "--db", str(good)).returncode == 0
    bad = tmp_path / "bad.db"
    shutil.copy(good, bad)
    _zero_page(bad, 2)
    res = cli("db", "check", "--db", str(bad), check=False)
    assert res.returncode == 1
    line = _one_line_failure(res, "damaged", "backup", "docs/operations.md")
    assert len(res.stderr.strip().splitlines()) == 1, line
    with pytest.raises(StoreCorrupt, match="restore it from the last backup"):
        Store.open(f"sqlite:///{bad}", create=False)
    res = cli("state", "--db", str(bad), "--json", check=False)
    _one_line_failure(res, "damaged", "backup")
    res = cli("sync", "--db", str(bad), "--dispatch", "ws://127.0.0.1:9", check=False)
    _one_line_failure(res, "damaged", "backup")
    assert _events(good) == n  # the original is untouched


def test_db_check_says_what_it_checked(db_url: str) -> None:
    cli("db", "upgrade", "--db", db_url)
    res = cli("db", "check", "--db", db_url)
    assert "schema revision" in res.stdout and "row counts" in res.stdout
    assert ("connection" if db_url.startswith("postgres") else "integrity_check") in res.stdout


def test_a_read_only_database_stops_sync_with_the_reason(
    tmp_path: Path, sim: SimulatorThread
) -> None:
    path = tmp_path / "ro.db"
    n = _populated(path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    res = cli(
        "sync", "--db", url, "--dispatch", sim.url, "--max-write-failures", "2", check=False,
        timeout=120,
    )  # fmt: skip
    line = _one_line_failure(res, "database cannot be written", "read-only", "2 failed writes")
    assert "sync:" in line
    assert _events(path) == n
    assert cli("db", "check", "--db", str(path)).returncode == 0


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    try:
        res = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a small tmpfs here: {exc}")
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {res.stderr.strip()}")


def test_a_full_file_system_stops_sync_with_the_reason(
    tmp_path: Path, sim: SimulatorThread
) -> None:
    small = tmp_path / "small"
    _mount_tmpfs(small, "2M")
    try:
        path = small / "full.db"
        n = _populated(path, 200)
        filler = small / "filler"
        # Fill the file system, then give back a little. Unbuffered: nothing is left to flush
        # (and fail) when the file closes.
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        os.truncate(filler, max(0, filler.stat().st_size - 256 * 1024))
        res = cli(
            "sync", "--db", str(path), "--dispatch", sim.url, "--max-write-failures", "2",
            check=False, timeout=120,
        )  # fmt: skip
        _one_line_failure(res, "database cannot be written", "disk is full")
        filler.unlink()
        assert _events(path) >= n
        assert cli("db", "check", "--db", str(path)).returncode == 0
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True, timeout=20)


def test_database_files_are_the_owners_alone(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "modes.db"
    store = Store.open(f"sqlite:///{path}")
    store.append(synthetic_shift(20, seed=1, start=START))
    try:
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert p.exists(), p
            assert p.stat().st_mode & 0o777 == 0o600, p
    finally:
        store.close()


def test_sql_parameters_never_reach_an_error_message(tmp_path: Path) -> None:
    from sqlalchemy import text

    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with pytest.raises(Exception) as info, store.engine.begin() as conn:
            conn.execute(text("INSERT INTO no_such_table (a) VALUES (:a)"), {"a": "12 Elm Street"})
        assert "12 Elm Street" not in str(info.value)
    finally:
        store.close()
