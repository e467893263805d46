"""The installation check the frozen bundle runs, run here against the source install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.webengine
@pytest.mark.timeout(240)
def test_smoke_test_passes_on_the_demo() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "installer" / "smoke_test.py"),
            "--timeout",
            "150",
            "--",
            sys.executable,
            "-m",
            "console",
        ],
        capture_output=True,
        text=True,
        timeout=230,
    )
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    assert "smoke: ok (Leaflet loaded" in out.stdout
    assert "smoke test: PASS" in out.stdout
