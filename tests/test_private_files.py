"""Files the console creates are its user's alone (0600) and so are its folders (0700), under a
permissive umask too: exports, databases, logs, settings, screenshots, the signing key, the
simulator's ground truth."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.synthetic import synthetic_shift
from console.files import (
    append_private,
    create_private,
    make_private,
    private_dir,
    write_private,
)

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave files readable by everyone (0644) and folders open (0755)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's data and configuration folders, under the test's folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    return tmp_path / "home"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _open_entries(top: Path) -> list[str]:
    """Everything under ``top`` (itself included) that is not 0600 (files) or 0700 (folders)."""
    bad = []
    for p in [top, *top.rglob("*")]:
        want = 0o700 if p.is_dir() else 0o600
        if _mode(p) != want:
            bad.append(f"{p.relative_to(top.parent)} {oct(_mode(p))}")
    return bad


def test_the_helpers_do_not_depend_on_the_umask(tmp_path: Path, open_umask: None) -> None:
    d = private_dir(tmp_path / "a" / "b" / "c")
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == _mode(d) == 0o700
    assert _mode(write_private(d / "x.txt", "text")) == 0o600
    assert (d / "x.txt").read_text() == "text"
    assert _mode(write_private(d / "y.bin", b"\x00\x01", atomic=False)) == 0o600
    assert _mode(create_private(d / "z.db")) == 0o600
    assert _mode(append_private(d / "log", "one\n")) == 0o600
    append_private(d / "log", "two\n")
    assert (d / "log").read_text() == "one\ntwo\n"
    assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]  # no temporary left
    # a file or folder left open before is closed again, when it is the console's own
    wide = tmp_path / "wide.txt"
    wide.write_text("x")
    wide.chmod(0o644)
    assert _mode(make_private(wide)) == 0o600
    assert _mode(write_private(wide, "y")) == 0o600
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    mine.chmod(0o755)
    private_dir(mine)  # a folder the user chose keeps its mode
    assert _mode(mine) == 0o755
    private_dir(mine, tighten=True)  # the console's own folder is closed
    assert _mode(mine) == 0o700


def test_what_the_library_writes_is_private(tmp_path: Path, home: Path, open_umask: None) -> None:
    from console.config import ensure_user_config, user_data_dir
    from console.logging_setup import setup_logging, teardown_logging
    from console.replay.shiftfile import export_shift
    from console.sim.simulator import DispatchSimulator, build
    from console.store import Store

    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    # the database and its -wal/-shm
    store = Store.open(f"sqlite:///{out / 'console.db'}")
    events = synthetic_shift(300, seed=4, start=T0)
    store.append(events)
    # a shift file, signed with the default key, created in the data folder
    end = max(e.occurred_at for e in events) + timedelta(seconds=1)
    export_shift(store, T0, end, out / "shift.rcshift", deidentify=True)
    export_shift(store, T0, end, out / "raw.rcshift")
    store.close()
    # the configuration, the log
    ensure_user_config()
    setup_logging(user_data_dir(), "INFO", console=False)
    import logging

    logging.getLogger("console.test").info("a line")
    teardown_logging()
    # the simulator's ground truth
    sim = DispatchSimulator(build(seed=1, start=T0, duration_h=1), state_out=out / "truth.json")
    sim.write_state()

    assert {p.name for p in out.iterdir()} >= {
        "console.db",
        "shift.rcshift",
        "raw.rcshift",
        "truth.json",
    }
    data = user_data_dir()
    assert (data / "shift-signing.key").is_file() and (data / "shift-signing.key.pub").is_file()
    assert (data / "logs").is_dir() and any((data / "logs").iterdir())
    assert _open_entries(out) == []
    assert _open_entries(data) == []
    assert _open_entries(home / "config") == []


def test_what_the_window_writes_is_private(
    tmp_path: Path, home: Path, open_umask: None, qtbot: object
) -> None:
    from PySide6.QtCore import QSettings

    from console.ui.alerts.panel import alarm_wav
    from console.ui.map.page import write_page
    from console.ui.plots.export import write_csv
    from console.ui.settings.dialog import write_atomically

    out = tmp_path / "exports"
    out.mkdir(mode=0o700)
    write_csv(out / "plot.csv", ["t", "n"], [[1, 2]])
    write_atomically(home / "config" / "responder-console" / "config.toml", "# settings\n")
    alarm_wav(home / "data" / "responder-console" / "sounds" / "alarm.wav")
    write_page(home / "data" / "responder-console" / "map", "<html></html>")
    ini = home / "config" / "layout.ini"
    s = QSettings(str(ini), QSettings.Format.IniFormat)
    s.setValue("window/theme", "dark")
    s.sync()
    make_private(ini)  # what MainWindow.save_layout does after each sync
    assert _open_entries(out) == []
    assert _open_entries(home / "config" / "responder-console") == []
    assert _open_entries(home / "data") == []
    assert _mode(ini) == 0o600


def test_the_commands_leave_nothing_open(tmp_path: Path, home: Path) -> None:
    """The real program, started under umask 022: its database, shift files, log, key and
    configuration are private."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    db = out / "console.db"

    def run(*args: str) -> None:
        res = subprocess.run(
            [sys.executable, "-m", "console", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert res.returncode == 0, res.stderr[-2000:]

    run("db", "upgrade", "--db", str(db))
    run("config", "--init")
    frm, to = T0.isoformat(), (T0 + timedelta(hours=1)).isoformat()
    run("export-shift", "--db", str(db), "--from", frm, "--to", to, "--deidentify", str(out / "a"))
    assert _open_entries(out) == []
    assert _open_entries(home) == []
