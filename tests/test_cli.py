"""The headless commands of CONTRACTS.md, run as a user would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

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
