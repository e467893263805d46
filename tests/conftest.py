"""Test-wide setup: offscreen Qt, isolated data dirs, the shared real data, database URLs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: no display needed, and QtWebEngine may run as root headless.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false;*.debug=false")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"

try:  # the map's own environment preparation, when the UI is installed
    from console.ui.map.env import prepare_webengine_env

    prepare_webengine_env()
except ImportError:
    pass


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test gets its own config/data dirs: parallel-safe, nothing read from the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("RESPONDER_CONSOLE_DB", raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _pg_url() -> str | None:
    return os.environ.get("RC_TEST_PG_URL") or None


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database of each kind (PostgreSQL when RC_TEST_PG_URL names a server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'console.db'}"
        return
    base = _pg_url()
    if base is None:
        pytest.skip("RC_TEST_PG_URL not set: no PostgreSQL server for this run")
    import psycopg

    name = f"rc_test_{uuid.uuid4().hex[:12]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = admin.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        drop_pg_database(admin, name)


def drop_pg_database(admin: str, name: str) -> None:
    """Drop a test database. A plain DROP first: the server itself stops an autovacuum worker
    busy on the freshly filled database, which FORCE may not (its process belongs to another
    role); FORCE only for sessions a test left open, retried while such a worker finishes."""
    import time

    import psycopg
    from psycopg import errors

    with psycopg.connect(admin, autocommit=True) as conn:
        for attempt in range(20):
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                return
            except errors.ObjectInUse:
                pass
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except errors.InsufficientPrivilege:
                if attempt == 19:
                    raise
                time.sleep(0.5)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


CAD_CSV = Path("cad") / "decc_weekly" / "decc_week48_cad_pseudonymized.csv"


@pytest.fixture(scope="session")
def cad_replay(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real CAD export served by ``dispatch-sim --from-csv`` over a real socket and synced
    into SQLite by the headless ``sync`` command — once per run, read by every test that needs
    the end-to-end path (treat the database as read-only)."""
    import subprocess
    import sys

    csv = shared_data / CAD_CSV
    if not csv.is_file():
        pytest.skip(f"real CAD export not found at {csv}")
    tmp = tmp_path_factory.mktemp("cad-replay")
    db = f"sqlite:///{tmp / 'live.sqlite'}"
    truth = tmp / "truth.json"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "dispatch-sim",
            "--port",
            "0",
            "--from-csv",
            str(csv),
            "--speed",
            "200000",
            "--state-out",
            str(truth),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if "listening on" not in line:
            sim.kill()
            pytest.fail(
                f"the dispatch simulator did not start: {sim.communicate(timeout=30)[1][-300:]}"
            )
        url = line.strip().rsplit(" ", 1)[-1]
        sync = subprocess.run(
            [
                sys.executable,
                "-m",
                "console",
                "sync",
                "--db",
                db,
                "--dispatch",
                url,
                "--exit-when-idle",
                "5",
            ],
            capture_output=True,
            text=True,
            timeout=500,
        )
        assert sync.returncode == 0, sync.stderr[-2000:]
    finally:
        if sim.poll() is None:
            sim.terminate()
        sim.communicate(timeout=60)
    return {"csv": csv, "db": Path(tmp / "live.sqlite"), "truth": truth}
