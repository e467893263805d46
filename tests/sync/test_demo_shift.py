"""The demo's simulated dispatch: a pace that changes without a jump, dispatch that waits for
the supervisor, and a stored shift carried on where it stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.domain.model import CallStatus
from console.sim.simulator import DispatchSimulator, build
from console.sim.world import World

T0 = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def test_speed_changes_without_a_jump() -> None:
    world = build(seed=3, start=T0, rate_per_hour=10, teams=4)
    sim = DispatchSimulator(world, speed=10)
    before = sim.sim_now()
    sim.speed = 60
    after = sim.sim_now()
    assert sim.speed == 60
    assert before <= after < before + timedelta(minutes=5)  # goes on from where it was
    sim.speed = 1
    assert sim.sim_now() >= after


def _first_pending_then(w: World, wait: float) -> tuple[str, CallStatus, CallStatus]:
    t = T0
    while True:  # until the first call arrives
        t += timedelta(seconds=30)
        w.advance_to(t)
        calls = [c for c in w.calls.values() if not c.safety_flags]
        if calls:
            break
    call = calls[0]
    w.advance_to(call.received_at + timedelta(seconds=wait - 20))
    early = w.calls[call.id].status
    w.advance_to(call.received_at + timedelta(seconds=wait + 200))
    return call.id, early, w.calls[call.id].status


def test_dispatch_waits_for_the_supervisor_for_its_grace_period() -> None:
    world = build(seed=5, start=T0, rate_per_hour=6, teams=6, dispatch_wait_s=1200)
    _cid, early, late = _first_pending_then(world, 1200)
    assert early is CallStatus.PENDING  # nobody assigned it during the grace period
    assert late is not CallStatus.PENDING  # then dispatch did
    # Without the wait, the same shift's first call is assigned well before that.
    quick = build(seed=5, start=T0, rate_per_hour=6, teams=6)
    _cid, early_quick, _late = _first_pending_then(quick, 1200)
    assert early_quick is not CallStatus.PENDING


def test_a_stored_shift_is_carried_on(tmp_path: Path) -> None:
    first = build(seed=7, start=T0, rate_per_hour=12, teams=8)
    first.advance_to(T0 + timedelta(hours=3))
    calls, teams = list(first.calls.values()), list(first.teams.values())
    open_before = {c.id for c in calls if c.is_open}
    assert open_before and len(calls) > 10
    last = max(int(c.id.rsplit("-", 1)[1]) for c in calls)

    start = first.now + timedelta(seconds=1)
    again = build(seed=8, start=start, rate_per_hour=12, teams=8)
    assert again.generated is not None
    again.generated.resume(calls, teams, dict(first.positions))
    assert {t.id: t.status for t in again.teams.values()} == {t.id: t.status for t in teams}
    again.advance_to(start + timedelta(hours=3))
    new_ids = [c.id for c in again.calls.values() if c.id not in {x.id for x in calls}]
    assert new_ids and min(int(i.rsplit("-", 1)[1]) for i in new_ids) == last + 1
    # The calls that were open are taken up: three hours on, none is left where it stood.
    still = [i for i in open_before if again.calls[i].status == first.calls[i].status]
    assert not still
