"""The simulated CAD: reproducible shifts, CAD-like command handling, the CSV replay, faults."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.domain.model import CallStatus, TeamStatus
from console.sim.csv_replay import CsvReplay, read_csv
from console.sim.simulator import DispatchSimulator, Faults
from console.sim.world import (
    DEFAULT_RATE_PER_HOUR,
    GeneratedShift,
    World,
    load_roster,
    roster_of_size,
)

T0 = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
DECC = ("cad", "decc_weekly", "decc_week48_cad_pseudonymized.csv")


def shift(seed: int, hours: float = 24, rate: float = 2.0, teams: int | None = None) -> World:
    w = World(T0, seed=seed)
    GeneratedShift(w, roster_of_size(load_roster(), teams), rate_per_hour=rate, duration_h=hours)
    w.advance_to(T0 + timedelta(hours=hours))
    return w


def truth(w: World) -> dict[str, Any]:
    return DispatchSimulator(w).truth()


def test_the_same_seed_gives_the_same_shift_and_another_seed_another() -> None:
    a, b, c = truth(shift(3)), truth(shift(3)), truth(shift(4))
    for t in (a, b, c):
        t.pop("stats")
    assert a == b
    assert a["calls"] != c["calls"]


def test_default_roster_is_a_two_provider_program() -> None:
    specs = load_roster()
    providers = {s.provider for s in specs}
    assert len(providers) == 2
    youth = [s for s in specs if s.capabilities.juvenile_certified]
    adult = [s for s in specs if not s.capabilities.juvenile_certified]
    assert youth and adult
    assert {s.provider for s in youth}.isdisjoint({s.provider for s in adult})
    assert any(s.capabilities.narcan for s in specs)
    assert any(s.capabilities.vehicle_seats > 0 for s in specs)
    assert any("es" in s.capabilities.languages for s in specs)
    assert [s.id for s in roster_of_size(specs, 11)][-3:] == ["CRT-9", "CRT-10", "CRT-11"]


def test_default_rate_is_about_fifteen_calls_a_day() -> None:
    days = 20
    w = shift(11, hours=24 * days, rate=DEFAULT_RATE_PER_HOUR)
    n = len(w.calls)
    expected = DEFAULT_RATE_PER_HOUR * 24 * days  # 300; Poisson sd ~17
    assert abs(n - expected) < 5 * expected**0.5, n


def test_a_generated_shift_is_lifelike() -> None:
    w = shift(5, hours=48, rate=3.0)
    calls = list(w.calls.values())
    statuses = {c.status for c in calls}
    assert CallStatus.CLEARED in statuses and CallStatus.ESCALATED in statuses
    unsafe = [c for c in calls if c.safety_flags]
    assert unsafe and all(c.team is None for c in unsafe), "an unsafe call got a civilian team"
    hours = [c.received_at.hour for c in calls]
    night = sum(1 for h in hours if 1 <= h <= 5)
    afternoon = sum(1 for h in hours if 13 <= h <= 17)
    assert afternoon > night
    for c in calls:
        if c.onscene_at and c.dispatched_at:
            assert c.received_at <= c.dispatched_at <= c.onscene_at
    for c in calls:
        assert 41.70 < (c.lat or 0) < 41.82 and -72.73 < (c.lon or 0) < -72.64
    assert any(c.status is CallStatus.CLEARED and c.disposition == "transported" for c in calls)


def _pending(w: World, **kw: object) -> str:
    """A fresh pending call the CAD has not dispatched yet."""
    from console.domain.model import Call, CallType

    cid = w.new_call_id()
    w.open_call(
        Call(
            cid,
            CallStatus.PENDING,
            2,
            CallType.WELFARE_CHECK,
            w.now,
            w.now,
            lat=41.76,
            lon=-72.68,
            **kw,  # type: ignore[arg-type]
        )
    )
    return cid


def test_commands_are_applied_once_and_refused_with_a_reason() -> None:
    w = World(T0, seed=2)
    GeneratedShift(w, load_roster(), rate_per_hour=0.01)
    cid = _pending(w)
    call = w.calls[cid]
    team = next(
        t.id
        for t in w.teams.values()
        if t.status is TeamStatus.AVAILABLE
        and (not call.juvenile or t.capabilities.juvenile_certified)
        and (call.language is None or call.language in t.capabilities.languages)
    )
    out = w.apply_command("k1", "assign", {"call_id": cid, "team_id": team})
    assert (
        out.accepted and w.calls[cid].team == team and w.teams[team].status is TeamStatus.ASSIGNED
    )
    again = w.apply_command("k1", "assign", {"call_id": cid, "team_id": team})
    assert again.accepted and not again.applied and w.applied["k1"] == 1
    v = w.calls[cid].version
    stale = w.apply_command(
        "k2", "change_priority", {"call_id": cid, "priority": 3, "expected_version": v - 1}
    )
    assert not stale.accepted and "changed meanwhile" in stale.text
    w.apply_command("k3", "escalate", {"call_id": cid, "target": "police", "reason": "weapon"})
    assert (
        w.calls[cid].status is CallStatus.ESCALATED and w.teams[team].status is TeamStatus.AVAILABLE
    )
    late = w.apply_command("k4", "assign", {"call_id": cid, "team_id": team})
    assert not late.accepted and "escalated meanwhile" in late.text
    unknown = w.apply_command("k5", "assign", {"call_id": "HCR-999999", "team_id": team})
    assert not unknown.accepted and "no call" in unknown.text


def test_an_unsafe_call_is_refused_to_a_civilian_team() -> None:
    from console.domain.model import SafetyFlag

    w = World(T0, seed=2)
    GeneratedShift(w, load_roster(), rate_per_hour=0.01)
    cid = _pending(w, safety_flags=(SafetyFlag.WEAPON,))
    out = w.apply_command("u1", "assign", {"call_id": cid, "team_id": "CRT-1"})
    assert not out.accepted and "Not for a civilian team" in out.text


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("drop=2", "out of range"),
        ("lose=0.1", "NAME=VALUE"),
        ("dup=x", "not a number"),
        ("drop", "NAME=VALUE"),
    ],
)
def test_fault_specs_are_checked(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Faults.parse(spec)


def test_fault_spec_of_contracts_md_parses() -> None:
    f = Faults.parse("drop=0.02,dup=0.05,reorder=0.05,malformed=0.01,disconnect=30")
    assert (f.drop, f.dup, f.reorder, f.malformed, f.disconnect) == (0.02, 0.05, 0.05, 0.01, 30.0)


def test_the_real_export_replays_with_its_own_times_and_no_team_on_two_calls(
    shared_data: Path,
) -> None:
    path = shared_data.joinpath(*DECC)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    sh = read_csv(path)
    assert len(sh.calls) + len(sh.skipped) == len(rows)
    w = World(sh.calls[0].received, id_prefix="CAD")
    CsvReplay(w, sh)
    busy: dict[str, str | None] = {}
    while not w.finished:
        w.advance_to(w.now + timedelta(hours=1))
        for kind, eid, snap in w.take_snapshots():
            if kind != "team":
                continue
            t = snap.team
            prev = busy.get(eid)
            if t.call is not None and prev is not None:
                assert prev == t.call, f"{eid} sent to {t.call} while on {prev}"
            busy[eid] = t.call
    by_id = {f"CAD-{r['Master_Incident_Number']}": r for r in rows}
    checked = 0
    for c in w.calls.values():
        r = by_id.get(c.id)
        if r is None:
            continue
        raw = r["Incident_Dispatch_Time"]
        if raw not in ("NULL", "-9999", ""):
            assert c.dispatched_at is not None
            assert c.dispatched_at.replace(tzinfo=None) == datetime.fromisoformat(raw)
            checked += 1
    assert checked > 1000


def test_missing_and_sentinel_values_are_handled(tmp_path: Path) -> None:
    header = (
        "Master_Incident_Number,Response_Date,Problem,Priority_Number,Incident_Start_Time,"
        "Incident_Dispatch_Time,Incident_Enroute_Time,Incident_Arrival_Time,"
        "Incident_First_Close_Time,Final_Closed_Time,Disposition\n"
    )
    rows = [
        "A1,2025-11-23 00:00:00,WELFARE CHECK,2,2025-11-23 00:00:00,2025-11-23 00:01:00,NULL,-9999,2025-11-23 00:30:00,NULL,NR\n",
        "A2,NULL,PSYCH,1,NULL,NULL,NULL,NULL,NULL,NULL,NR\n",
        "A3,2025-11-23 00:05:00,OVERDOSE,x,not-a-date,2025-11-23 00:04:00,2025-11-23 00:06:00,2025-11-23 00:09:00,NULL,2025-11-23 00:40:00,CN-Cancellation\n",
        "A4,2025-11-23 00:07:00,,10,2025-11-23 00:07:00,,,,,,\n",
    ]
    p = tmp_path / "cad.csv"
    p.write_text(header + "".join(rows))
    sh = read_csv(p)
    assert [c.id for c in sh.calls] == ["CAD-A1", "CAD-A3", "CAD-A4"]
    assert sh.skipped == [(3, "no receive time")]
    w = World(sh.calls[0].received, id_prefix="CAD")
    CsvReplay(w, sh)
    w.advance_to(w.end)  # type: ignore[arg-type]
    a1, a3, a4 = w.calls["CAD-A1"], w.calls["CAD-A3"], w.calls["CAD-A4"]
    assert a1.status is CallStatus.CLEARED and a1.enroute_at is None and a1.onscene_at is None
    assert a3.dispatched_at is not None and a3.dispatched_at < a3.received_at  # kept as logged
    assert a3.status is CallStatus.CLEARED and a3.priority == 3
    assert a4.status is CallStatus.PENDING and a4.priority == 3
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column"):
        read_csv(bad)


def test_dispatch_sim_cli_writes_its_truth_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "truth.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "dispatch-sim", "--port", "0", "--seed", "3",
         "--speed", "600", "--rate", "30", "--start", "2026-11-26T08:00:00+00:00",
         "--state-out", str(out)],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("dispatch-sim listening on ws://127.0.0.1:"), line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    import json

    truth = json.loads(out.read_text())
    assert set(truth) >= {"as_of", "calls", "teams", "commands", "stats"}
    assert [t["id"] for t in truth["teams"]] == sorted(s.id for s in load_roster())
    assert all(t["lat"] is not None for t in truth["teams"])


def test_set_destination_names_where_the_team_takes_the_person() -> None:
    w = World(T0, seed=2)
    GeneratedShift(w, load_roster(), rate_per_hour=0.01)
    cid = _pending(w)
    team = next(t.id for t in w.teams.values() if t.status is TeamStatus.AVAILABLE)
    args = {
        "call_id": cid,
        "team_id": team,
        "destination_id": "detox-riverside",
        "destination_name": "Riverside Detox Intake (sample)",
    }
    early = w.apply_command("d0", "set_destination", args)
    assert not early.accepted and "not on" in early.text
    assert w.apply_command("a1", "assign", {"call_id": cid, "team_id": team}).accepted
    out = w.apply_command("d1", "set_destination", args)
    assert out.accepted, out.text
    assert w.teams[team].destination == "Riverside Detox Intake (sample)"
    assert w.calls[cid].destination == "Riverside Detox Intake (sample)"
