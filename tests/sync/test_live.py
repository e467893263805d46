"""The dispatch link end to end on loopback: real sockets, real databases, real processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.domain.commands import (
    AddNote,
    AssignTeam,
    ChangePriority,
    CommandRejected,
    EscalateCall,
)
from console.domain.model import CallStatus, EscalationTarget, TeamStatus
from console.domain.rules import ineligibility
from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, Faults, build
from console.store import Store

from .helpers import ROOT, assert_same_picture, cli, spawn, state_of, wait_until

START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


def _sim(
    tmp_path: Path, *, faults: Faults, hours: float, rate: float, speed: float, seed: int = 5
) -> SimulatorThread:
    world = build(seed=seed, start=START, duration_h=hours, rate_per_hour=rate)
    sim = DispatchSimulator(
        world, speed=speed, faults=faults, seed=seed, state_out=tmp_path / "truth.json"
    )
    return SimulatorThread(sim).start()


def test_a_fast_simulator_without_a_start_is_never_ahead_of_the_clock(
    tmp_path: Path, db_url: str
) -> None:
    """dispatch-sim faster than real time and no --start: the shift is placed so it ends now,
    so sync (which refuses times from the future) stores every call and quarantines none."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "console", "dispatch-sim", "--port", "0", "--seed", "3",
         "--speed", "1200", "--duration", "3", "--rate", "8",
         "--state-out", str(tmp_path / "truth.json")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().strip().rsplit(" ", 1)[-1]
        res = cli("sync", "--db", db_url, "--dispatch", url, "--exit-when-idle", "4", timeout=200)
        assert res.returncode == 0
        assert sim.wait(60) == 0, "dispatch-sim did not finish"
    finally:
        if sim.poll() is None:
            sim.kill()
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(truth["calls"]) > 5
    assert datetime.fromisoformat(truth["as_of"]) <= datetime.now(UTC)
    assert_same_picture(state_of(db_url), truth)
    store = Store.open(db_url, create=False)
    try:
        assert store.quarantine_count() == 0, [q.reason for q in store.quarantined(5)]
    finally:
        store.close()


@pytest.mark.slow
def test_convergence_under_all_faults(tmp_path: Path, db_url: str) -> None:
    """The acceptance scenario, with both real commands: dispatch-sim and sync."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "console", "dispatch-sim", "--port", "0", "--seed", "5",
         "--speed", "1500", "--duration", "10", "--rate", "6", "--start", START.isoformat(),
         "--faults", "drop=0.05,dup=0.05,reorder=0.05,malformed=0.03,disconnect=2",
         "--state-out", str(tmp_path / "truth.json")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert url.startswith("ws://127.0.0.1:"), url
        # Idle for longer than the simulator waits on a silent subscriber before it resends
        # (5 s): a notification lost last must still come round before sync calls it a day.
        res = cli("sync", "--db", db_url, "--dispatch", url, "--exit-when-idle", "10", timeout=200)
        assert res.returncode == 0
        assert sim.wait(60) == 0, "dispatch-sim did not finish"
    finally:
        if sim.poll() is None:
            sim.kill()
    truth = json.loads((tmp_path / "truth.json").read_text())
    s = truth["stats"]
    # On failure, what each side saw: the simulator's counts, the end of the sync's log.
    assert s["exit"] == "all acknowledged", f"{s}\nsync's log ends:\n{res.stderr[-4000:]}"
    for fault in ("dropped", "duplicated", "reordered", "malformed", "disconnects"):
        assert s[fault] > 0, f"the run never exercised {fault}: {s}"
    assert len(truth["calls"]) > 30
    assert_same_picture(state_of(db_url), truth)
    store = Store.open(db_url, create=False)
    try:
        assert store.quarantine_count() >= 1
        reasons = " ".join(q.reason for q in store.quarantined(500))
        assert "protocol" in reasons or "schema" in reasons or "unknown code" in reasons
    finally:
        store.close()


def _grows(store: Store, n: int) -> Callable[[], bool]:
    """A condition: the event log has grown by more than ``n`` from now."""
    goal = store.event_count() + n
    return lambda: store.event_count() > goal


def _submit_some(store: Store, done: set[str], tag: str) -> list[str]:
    """Assign pending calls to eligible teams, note and reprioritise: what a supervisor does."""
    ids: list[str] = []
    state = store.load_state()
    teams = [t for t in state.teams.values() if t.status is TeamStatus.AVAILABLE]
    for call in sorted(state.calls.values(), key=lambda c: c.id):
        if call.id in done or not call.is_open:
            continue
        done.add(call.id)
        try:
            if call.status is CallStatus.PENDING and not call.safety_flags:
                ok = [t for t in teams if not ineligibility(call, t)]
                if ok:
                    ids.append(
                        store.submit(
                            AssignTeam(
                                call_id=call.id, team_id=ok[0].id, expected_version=call.version
                            ),
                            operator="sup-a",
                        ).command_id
                    )
                    teams.remove(ok[0])
                    continue
            ids.append(
                store.submit(
                    AddNote(call_id=call.id, text=f"watching {tag}"), operator="sup-a"
                ).command_id
            )
            if call.priority != 1:
                ids.append(
                    store.submit(
                        ChangePriority(call_id=call.id, priority=1), operator="sup-a"
                    ).command_id
                )
        except CommandRejected:
            continue
    return ids


KILL_POINTS = 20


@pytest.mark.slow
def test_kill_9_of_the_sync_service_mid_stream(tmp_path: Path, sqlite_url: str) -> None:
    """SIGKILL at 20 seeded random points, commands queued or in flight: nothing acknowledged
    is lost, nothing is applied twice, every command is answered exactly once."""
    rng = random.Random(20261126)
    # The shift lasts about 80 s of wall time: long enough for the twenty kill rounds, and
    # the commands of the last ones, to happen while dispatch is still there on a busy machine.
    st = _sim(tmp_path, faults=Faults(drop=0.03, dup=0.05), hours=14, rate=8.0, speed=630, seed=9)
    cli("db", "upgrade", "--db", sqlite_url)
    store = Store.open(sqlite_url, create=False)
    submitted: list[str] = []
    seen: set[str] = set()
    log = tmp_path / "sync.log"
    args = ("sync", "--db", sqlite_url, "--dispatch", st.url, "--exit-when-idle", "10")
    kills = 0
    try:
        for round_ in range(KILL_POINTS):
            proc = spawn(*args, log=log)
            # a random point: after a random number of new events (or a while, once the shift
            # has gone quiet), plus a random fraction of a second
            goal = store.event_count() + rng.randint(1, 25)
            deadline = time.monotonic() + 8
            while store.event_count() <= goal and time.monotonic() < deadline:
                time.sleep(0.02)
            if round_ % 2 == 0:
                submitted += _submit_some(store, seen, f"round {round_}")
            time.sleep(rng.uniform(0.0, 0.4))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(10)
        proc = spawn(*args, log=log)
        assert proc.wait(200) == 0, log.read_text()[-3000:]
        assert st.finished.wait(60)
    finally:
        st.stop()
    assert kills >= KILL_POINTS - 2, f"only {kills} kills landed"
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["stats"]["exit"] == "all acknowledged"
    assert_same_picture(state_of(sqlite_url), truth)
    assert submitted, "no command was submitted"
    # nothing applied twice by dispatch, every command answered exactly once in the console
    assert all(c["applied"] <= 1 for c in truth["commands"])
    keys = {c["key"] for c in truth["commands"]}
    state = store.load_state()
    for cid in submitted:
        rec = state.commands[cid]
        assert rec.status in ("confirmed", "refused"), rec
        assert cid in keys
    assert store.outbox_due() == []
    # no duplicate event in the log
    with store.engine.connect() as conn:
        from sqlalchemy import text

        n, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT source || '|' || source_id) FROM events")
        ).one()
    assert n == distinct
    store.close()


@pytest.mark.slow
def test_commands_reach_dispatch_and_its_answer_comes_back(tmp_path: Path, sqlite_url: str) -> None:
    """In-process service on a worker thread (as in the desktop console): confirm and refuse."""
    from console.sync.service import SyncService

    st = _sim(tmp_path, faults=Faults(), hours=50, rate=20.0, speed=60)
    store = Store.open(sqlite_url, create=True)
    changes: list[object] = []
    svc = SyncService(store, st.url, on_changes=changes.append)
    svc.start()
    try:
        wait_until(lambda: svc.health.up, 10, "link up")
        wait_until(
            lambda: any(c.is_open for c in store.load_state().calls.values()), 60, "an open call"
        )
        call = next(c for c in store.load_state().calls.values() if c.is_open)
        esc = store.submit(
            EscalateCall(
                call_id=call.id, target=EscalationTarget.MOBILE_CRISIS, reason="needs evaluation"
            ),
            operator="sup-b",
        )
        assert store.load_state().commands[esc.command_id].status == "requested"
        svc.wake_outbox()
        wait_until(
            lambda: store.load_state().commands[esc.command_id].status != "requested", 20, "answer"
        )
        rec = store.load_state().commands[esc.command_id]
        assert rec.status == "confirmed", rec
        wait_until(
            lambda: store.load_state().calls[call.id].status is CallStatus.ESCALATED,
            20,
            "EIDO update",
        )
        assert store.load_state().calls[call.id].escalated_to is EscalationTarget.MOBILE_CRISIS
        # dispatch refuses what became impossible meanwhile: a note is fine, a priority change not
        late = store.submit(AddNote(call_id=call.id, text="after the handover"), operator="sup-b")
        wait_until(
            lambda: store.load_state().commands[late.command_id].status != "requested", 20, "answer"
        )
        assert store.load_state().commands[late.command_id].status == "confirmed"
        assert changes, "no change was reported to the UI callback"
    finally:
        svc.stop()
        st.stop()
        store.close()
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert {c["kind"] for c in truth["commands"]} == {"escalate", "note"}


@pytest.mark.slow
def test_dispatch_refuses_a_command_on_a_call_cleared_meanwhile(
    tmp_path: Path, sqlite_url: str
) -> None:
    from console.sync.service import SyncService

    st = _sim(tmp_path, faults=Faults(), hours=50, rate=20.0, speed=60)
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, st.url)
    svc.start()
    try:
        wait_until(
            lambda: any(c.is_open for c in store.load_state().calls.values()), 60, "an open call"
        )
        call = next(c for c in store.load_state().calls.values() if c.is_open)
        # the console has not heard yet: dispatch closes the call, then the command arrives
        svc.stop()
        st.call(
            lambda: st.sim.world._clear(
                call.id, st.sim.world.calls[call.id].team, "resolved_on_scene"
            )
        )
        cmd = store.submit(
            ChangePriority(call_id=call.id, priority=1 if call.priority != 1 else 2), operator="s"
        )
        svc = SyncService(store, st.url)
        svc.start()
        wait_until(
            lambda: store.load_state().commands[cmd.command_id].status != "requested", 20, "answer"
        )
        rec = store.load_state().commands[cmd.command_id]
        assert rec.status == "refused" and "cleared meanwhile" in rec.answer
        wait_until(
            lambda: store.load_state().calls[call.id].status is CallStatus.CLEARED, 20, "the update"
        )
    finally:
        svc.stop()
        st.stop()
        store.close()


@pytest.mark.slow
def test_the_demo_simulator_runs_from_a_thread_and_stops_cleanly(sqlite_url: str) -> None:
    from console.sync.service import SyncService

    sim = SimulatorThread(speed=600, rate_per_hour=20).start()
    store = Store.open(sqlite_url, create=True)
    # The shift starts now and runs 600 times faster than real time: its times are judged by
    # its own clock, as the demo does, or they would soon lie in the future.
    svc = SyncService(store, sim.url, data_clock=sim.clock())
    svc.start()
    try:
        wait_until(lambda: len(store.load_state().calls) >= 1, 30, "a call from the demo shift")
        assert len(store.load_state().teams) == 8  # the bundled roster
    finally:
        svc.stop()
        sim.stop()
        store.close()
    assert sim.finished.is_set() and sim.error is None
