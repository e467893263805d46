"""A real shift: the DECC CAD export served by the dispatch simulator, synced into a database
over a real socket, exported to a de-identified shift file and replayed: the replay's counts and
intervals equal the live ones."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from console.replay.engine import ReplayEngine
from console.replay.shiftfile import export_shift, open_shift_file
from console.store import Store
from console.store.metrics import report

CSV = Path("cad") / "decc_weekly" / "decc_week48_cad_pseudonymized.csv"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_real_cad_shift_replays_with_the_live_numbers(shared_data: Path, tmp_path: Path) -> None:
    csv = shared_data / CSV
    if not csv.is_file():
        pytest.skip(f"{csv} not found")
    for mod in ("console.sync.simulator", "console.sync.service", "console.sync.sim_csv"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is not available: the CSV cannot be replayed through sync")
    db = f"sqlite:///{tmp_path / 'live.db'}"
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
            str(tmp_path / "truth.json"),
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
            err = sim.communicate(timeout=30)[1]
            pytest.skip(f"the dispatch simulator did not start: {err.strip()[-300:]}")
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

    from console.sync.sim_csv import read_csv

    rows = read_csv(csv).calls  # independent count: rows of the export with a receive time
    store = Store.open(db, create=False)
    events = [e for _, e in store.events()]
    assert events
    start = min(e.occurred_at for e in events)
    end = max(e.occurred_at for e in events) + timedelta(seconds=1)
    out = tmp_path / "week48.shift"
    export_shift(store, start, end, out, deidentify=True)
    sf = open_shift_file(out)
    engine = ReplayEngine.from_shift(sf.data)

    live = report(store, start, end)
    replayed = engine.report()
    assert replayed["calls_received"] == live["calls_received"] == len(rows)
    assert replayed["calls_cleared"] == live["calls_cleared"]
    assert replayed["intervals_s"] == live["intervals_s"]
    assert replayed == live
    # Every call and team the live console shows at the end is what replay shows, apart from
    # what de-identification changed (call numbers, addresses, points, free text).
    live_state = store.load_state()
    final = engine.state_at(end)

    def story(c: Any) -> tuple[Any, ...]:
        return (
            c.status,
            c.priority,
            c.type,
            c.received_at,
            c.dispatched_at,
            c.enroute_at,
            c.onscene_at,
            c.cleared_at,
            c.teams,
        )

    assert len(final.calls) == len(live_state.calls)
    assert sorted(map(story, final.calls.values()), key=repr) == sorted(
        map(story, live_state.calls.values()), key=repr
    )
    assert final.teams.keys() == live_state.teams.keys()
    data = out.read_bytes()
    leaked = [cid for cid in live_state.calls if cid.encode() in data]
    assert not leaked, f"CAD incident numbers left in the de-identified file: {leaked[:5]}"
    store.close()
