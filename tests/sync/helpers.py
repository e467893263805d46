"""Running the real simulator and sync service on loopback for tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def wait_until(cond: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def cli(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and res.returncode != 0:
        raise AssertionError(
            f"console {' '.join(args)} failed ({res.returncode}): {res.stderr[-2000:]}"
        )
    return res


def spawn(*args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fh = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "console", *args], cwd=ROOT, env=env, stdout=fh, stderr=fh
    )


def state_of(db_url: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(cli("state", "--db", db_url, "--json").stdout)
    return out


def assert_same_picture(console: dict[str, Any], truth: dict[str, Any]) -> None:
    """Every call and team equal, field by field, with a readable first difference."""
    tc = {c["id"]: c for c in truth["calls"]}
    cc = {c["id"]: c for c in console["calls"]}
    assert set(cc) == set(tc), (
        f"calls differ: missing {set(tc) - set(cc)}, extra {set(cc) - set(tc)}"
    )
    for k, c in tc.items():
        assert cc[k] == c, f"call {k}: console {cc[k]} != dispatch {c}"
    tt = {t["id"]: t for t in truth["teams"]}
    ct = {t["id"]: t for t in console["teams"]}
    assert set(ct) == set(tt), f"teams differ: {set(ct) ^ set(tt)}"
    for k, t in tt.items():
        assert ct[k] == t, f"team {k}: console {ct[k]} != dispatch {t}"
