"""The headless commands of CONTRACTS.md, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.domain.synthetic import synthetic_shift
from console.store import Store


def rc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=300
    )


def test_version() -> None:
    out = rc("--version")
    assert out.returncode == 0 and out.stdout.startswith("responder-console ")


def test_db_upgrade_state_report_on_a_fresh_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    up = rc("db", "upgrade", "--db", url)
    assert up.returncode == 0, up.stderr
    state = json.loads(rc("state", "--db", url, "--json").stdout)
    assert state["calls"] == [] and state["teams"] == []
    store = Store.open(url)
    store.append(synthetic_shift(300, seed=2, start=datetime(2026, 11, 26, 8, tzinfo=UTC)))
    state = json.loads(rc("state", "--db", url, "--json").stdout)
    assert {"as_of", "calls", "teams"} <= set(state)
    assert len(state["calls"]) == len(store.load_state().calls)
    call = state["calls"][0]
    assert set(call) >= {"id", "status", "priority", "type", "team", "safety_flags", "received_at"}
    rep = json.loads(rc("report", "--db", url, "--json").stdout)
    assert rep["calls_received"] == len(state["calls"])
    assert set(rep["intervals_s"]) == {
        "received_to_dispatched",
        "dispatched_to_enroute",
        "enroute_to_onscene",
        "received_to_onscene",
        "onscene_to_cleared",
    }


def test_errors_are_one_line(tmp_path: Path) -> None:
    out = rc("state", "--db", f"sqlite:///{tmp_path / 'nope' / 'x.db'}", "--json")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "does not exist" in out.stderr
    out = rc("state", "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--json")
    assert out.returncode != 0 and "db upgrade" in out.stderr and "Traceback" not in out.stderr


def test_bench_quick_prints_ratios() -> None:
    out = rc("bench", "--quick", "--json", "--only", "fold", "--only", "ingest")
    assert out.returncode == 0, out.stderr
    res = {b["name"]: b for b in json.loads(out.stdout)["benchmarks"]}
    for name in ("ingest", "fold"):
        b = res[name]
        assert b["value"] > 0 and b["baseline_value"] > 0
        assert abs(b["ratio"] - b["value"] / b["baseline_value"]) < 0.01
    # The store's own statements replayed through raw sqlite3: SQLite's share of the ingest.
    ing = res["ingest"]
    assert ing["sql_replay_value"] > 0
    assert abs(ing["sql_replay_ratio"] - ing["sql_replay_value"] / ing["baseline_value"]) < 0.01


def test_console_tls_flags_override_the_configuration(tmp_path: Path) -> None:
    from console.cli import build_parser
    from console.config import parse_config
    from console.ui.shell.main import _with_link_flags

    (tmp_path / "ca.pem").write_text("x")
    cfg = parse_config('[dispatch]\nca_file = "ca.pem"\n', source=tmp_path / "c.toml", env={})
    args = build_parser().parse_args(
        ["--cert-file", "/etc/me.pem", "--key-file", "/etc/me.key", "--allow-unencrypted"]
    )
    link = _with_link_flags(cfg, args).dispatch
    assert link.ca_file == tmp_path / "ca.pem"  # from the file
    assert (link.cert_file, link.key_file) == (Path("/etc/me.pem"), Path("/etc/me.key"))
    assert link.allow_unencrypted
    assert _with_link_flags(cfg, build_parser().parse_args([])) is cfg


def _fails_in_one_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("dispatch-sim", "--port", "99999"), "between 0 and 65535"),
        (("dispatch-sim", "--port", "-1"), "between 0 and 65535"),
        (("dispatch-sim", "--port", "0", "--host", "no-such-host.invalid"), "cannot listen"),
        (("dispatch-sim", "--port", "0", "--speed", "nan"), "finite"),
        (("dispatch-sim", "--port", "0", "--speed", "inf"), "finite"),
        (("dispatch-sim", "--port", "0", "--rate", "nan"), "finite"),
        (("dispatch-sim", "--port", "0", "--faults", "drop=nan"), "out of range"),
        (("dispatch-sim", "--port", "0", "--faults", "disconnect=inf"), "out of range"),
        (("dispatch-sim", "--port", "0", "--start", "9999-12-31T23:00:00+00:00"), "outside"),
        (("sync", "--db", "x.db", "--dispatch", "ws://h:1", "--exit-when-idle", "nan"), "finite"),
        (("sync", "--db", "x.db", "--dispatch", "ws://h:1", "--exit-when-idle", "inf"), "finite"),
        (
            ("sync", "--db", "x.db", "--dispatch", "ws://h:1", "--max-write-failures", "0"),
            "between",
        ),
        (("quarantine", "--db", "x.db", "--limit", "99999999999999999999"), "between"),
        (("report", "--db", "x.db", "--from", "0001-01-01T00:00:00+00:00"), "outside"),
    ],
)
def test_bad_values_fail_in_one_line(args: tuple[str, ...], words: str) -> None:
    line = _fails_in_one_line(rc(*args))
    assert words in line, line


def test_a_busy_port_fails_fast_in_one_line() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = _fails_in_one_line(rc("dispatch-sim", "--port", str(port)))
    assert "cannot listen" in line and str(port) in line


def test_export_shift_over_a_wide_range_fails_or_works_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert rc("db", "upgrade", "--db", str(db)).returncode == 0
    out = tmp_path / "wide.rcshift"
    line = _fails_in_one_line(
        rc("export-shift", "--db", str(db), "--from", "0001-01-01T00:00:00+00:00",
           "--to", "9999-12-31T23:59:59+00:00", str(out))
    )  # fmt: skip
    assert "outside" in line
    res = rc("export-shift", "--db", str(db), "--from", "1990-01-01T00:00:00+00:00",
             "--to", "2199-12-31T00:00:00+00:00", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    line = _fails_in_one_line(
        rc("export-shift", "--db", str(db), "--from", "2026-01-02T00:00:00+00:00",
           "--to", "2026-01-01T00:00:00+00:00", str(tmp_path / "back.rcshift"))
    )  # fmt: skip
    assert "after" in line


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from console import cli
    from console.config import user_data_dir
    from console.logging_setup import log_file

    def boom(args: object) -> int:
        address = "".join(("12 Elm", " Street"))  # a record's content, not in the source
        try:
            raise sqlite3.IntegrityError(f"UNIQUE failed: {address}")
        except sqlite3.Error as exc:
            raise RuntimeError("wrapped") from exc

    from console.cli import state

    monkeypatch.setattr(state, "run_state", boom)
    umask = os.umask(0o022)
    try:
        assert cli.main(["state", "--db", str(tmp_path / "x.db")]) == 1
    finally:
        os.umask(umask)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError" in err and "Traceback" not in err
    logged = log_file(user_data_dir()).read_text()
    assert "Traceback" in logged and "boom" in logged and "IntegrityError" in logged
    assert "12 Elm Street" not in logged
    assert log_file(user_data_dir()).stat().st_mode & 0o777 == 0o600


def test_files_the_commands_create_are_the_users_alone(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    assert rc("db", "upgrade", "--db", str(db)).returncode == 0
    assert db.stat().st_mode & 0o777 == 0o600
    init = rc("config", "--init")
    assert init.returncode == 0, init.stderr
    cfg = Path(init.stdout.strip())
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert cfg.parent.stat().st_mode & 0o777 == 0o700
