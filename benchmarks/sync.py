"""Sync benchmarks: EIDO messages/s from the simulator to the committed projection, and the sync
service's memory over a long simulated shift.

``sync`` serves a pre-generated backlog of EIDOs (every change of a busy generated shift) over a
loopback WebSocket to the real client and service, and times subscribe -> last acknowledgement
(an acknowledgement is sent only after the batch is committed). Its baseline, measured in the
same run on the same disk: raw ``sqlite3.executemany`` of the very event rows those EIDOs become
(the ``ingest`` baseline), expressed per EIDO so both are messages/s.

``sync_memory`` runs the headless sync service as a process against a generated shift of 24
simulated hours and samples its resident memory: peak RSS, and the growth between the first and
last quarter of the shift (flat memory: growth near zero). The full run uses 60x, as the target
says (24 minutes); ``--quick`` and the default full run at a higher speed say so in ``speed``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator
from console.sim.world import GeneratedShift, World, load_roster, roster_of_size
from console.wire.eido import parse_eido

START = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
TARGET_MSGS_S = 2000.0


def _backlog(hours: float, rate: float, teams: int, seed: int = 3) -> list[dict[str, Any]]:
    world = World(START, seed=seed)
    GeneratedShift(
        world, roster_of_size(load_roster(), teams), rate_per_hour=rate, duration_h=hours
    )
    sim = DispatchSimulator(world)
    docs: list[dict[str, Any]] = []
    t = START
    while not world.finished:
        t += timedelta(seconds=15)
        world.advance_to(t)
        docs.extend(doc for _, _, _, doc in sim.collect_items())
    return docs


def _backlog_server(docs_path: str, port_out: Any, done_out: Any) -> None:
    """Child process: serve the backlog once to the first subscriber, report the last ack time."""
    import json

    docs = json.loads(Path(docs_path).read_text())
    world = World(START, seed=1)
    world.finished = True
    sim = DispatchSimulator(world)
    sim.reconciliation = lambda: docs  # type: ignore[method-assign]

    st = SimulatorThread(sim).start()
    port_out.send(st.port)
    st.finished.wait()
    done_out.send((sim.exit_reason, sim.last_ack_at))


def _serve_backlog(docs: list[dict[str, Any]], db_url: str, tmp: str) -> float:
    """Seconds from subscribe to the last acknowledgement of ``docs`` through the real service.

    The simulator runs in its own process, as dispatch would: the measurement is the console's.
    """
    import json
    import multiprocessing as mp

    from console.store import Store
    from console.sync.service import SyncService

    path = Path(tmp) / "backlog.json"
    path.write_text(json.dumps(docs))
    ctx = mp.get_context("spawn")
    port_r, port_w = ctx.Pipe(duplex=False)
    done_r, done_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_backlog_server, args=(str(path), port_w, done_w), daemon=True)
    proc.start()
    if not port_r.poll(60):
        proc.kill()
        raise RuntimeError("backlog server did not start")
    port = port_r.recv()
    store = Store.open(db_url, create=True)
    svc = SyncService(store, f"ws://127.0.0.1:{port}")
    t0 = time.monotonic()  # CLOCK_MONOTONIC is system-wide: comparable across processes
    svc.start()
    if not done_r.poll(300):
        proc.kill()
        raise RuntimeError("backlog not acknowledged in 300 s")
    reason, last_ack = done_r.recv()
    svc.stop()
    store.close()
    proc.join(10)
    if reason != "all acknowledged":
        raise RuntimeError(f"backlog not fully acknowledged: {reason}")
    return float(last_ack) - t0


def bench_sync(quick: bool) -> list[dict[str, Any]]:
    from benchmarks.store import _raw_rows, _raw_sqlite

    docs = _backlog(hours=12 if quick else 48, rate=12.0, teams=12)
    unique: dict[str, Any] = {}
    for doc in docs:
        for e in parse_eido(doc).events:
            unique.setdefault(e.source_id, e)  # what the log keeps: one row per fact
    events = list(unique.values())
    with tempfile.TemporaryDirectory(prefix="rc-bench-sync-") as d:
        raw_dt = _raw_sqlite(Path(d) / "raw.db", _raw_rows(events), 500)
        dt = _serve_backlog(docs, f"sqlite:///{d}/sync.db", d)
    value = len(docs) / dt
    baseline = len(docs) / raw_dt
    out = [
        {
            "name": "sync",
            "unit": "EIDO messages/s",
            "value": round(value, 1),
            "baseline": "raw sqlite3 executemany of the same event rows (per EIDO)",
            "baseline_value": round(baseline, 1),
            "ratio": round(value / baseline, 4),
            "messages": len(docs),
            "events": len(events),
            "target": TARGET_MSGS_S,
            "meets_target": value >= TARGET_MSGS_S,
        }
    ]
    out.append(bench_sync_memory(quick))
    return out


def _rss_kib(pid: int) -> tuple[int, int]:
    rss = hwm = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def bench_sync_memory(quick: bool) -> dict[str, Any]:
    """Peak RSS of the headless sync service over a 24-hour simulated shift."""
    hours = 24.0
    speed = float(os.environ.get("RC_BENCH_SYNC_SPEED", "0") or 0) or (2880.0 if quick else 720.0)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with tempfile.TemporaryDirectory(prefix="rc-bench-mem-") as d:
        sim = subprocess.Popen(
            [
                sys.executable, "-m", "console", "dispatch-sim", "--port", "0", "--seed", "4",
                "--speed", str(speed), "--duration", str(hours), "--rate", "3",
                "--start", START.isoformat(), "--state-out", f"{d}/truth.json",
            ],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert sim.stdout is not None
        line = sim.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        if not url.startswith("ws://"):
            sim.kill()
            raise RuntimeError(f"dispatch-sim did not start: {line!r}")
        sync = subprocess.Popen(
            [sys.executable, "-m", "console", "sync", "--db", f"sqlite:///{d}/m.db",
             "--dispatch", url],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        samples: list[tuple[float, int]] = []
        hwm = 0
        t0 = time.monotonic()
        # The simulator exits once the shift is over and everything is acknowledged.
        while sim.poll() is None and sync.poll() is None:
            try:
                rss, hwm = _rss_kib(sync.pid)
            except OSError:
                break
            samples.append((time.monotonic() - t0, rss))
            time.sleep(0.5)
        sync.terminate()
        sync.wait(30)
        if sim.poll() is None:
            sim.terminate()
            sim.wait(30)
    wall = hours * 3600 / speed
    steady = [r for t, r in samples if t >= 0.1 * wall] or [r for _, r in samples]
    q = max(1, len(steady) // 4)
    first, last = sum(steady[:q]) / q, sum(steady[-q:]) / q
    return {
        "name": "sync_memory",
        "unit": "MiB peak RSS",
        "value": round(hwm / 1024, 1),
        "baseline": "RSS in the first quarter of the shift",
        "baseline_value": round(first / 1024, 1),
        "ratio": round((last / first) if first else 0.0, 4),
        "growth_mib": round((last - first) / 1024, 2),
        "simulated_hours": hours,
        "speed": speed,
        "samples": len(samples),
    }
