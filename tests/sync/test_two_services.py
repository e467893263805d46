"""Two sync services on one database (a center's redundant pair): one picture, no double send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.domain.commands import AddNote, CommandRejected
from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, Faults, build
from console.store import Store
from console.sync.service import SyncService

from .helpers import wait_until

START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_sync_services_share_the_outbox_and_report_the_link(
    tmp_path: Path, db_url: str
) -> None:
    world = build(seed=21, start=START, duration_h=6, rate_per_hour=6.0)
    st = SimulatorThread(DispatchSimulator(world, speed=600, faults=Faults(), seed=21)).start()
    store = Store.open(db_url)
    services = [SyncService(Store.open(db_url, create=False), st.url) for _ in range(2)]
    try:
        for svc in services:
            svc.start()
        wait_until(lambda: any(c.is_open for c in store.load_state().calls.values()), 60, "calls")
        submitted: list[str] = []
        for call in sorted(store.load_state().calls.values(), key=lambda c: c.id)[:8]:
            try:
                sub = store.submit(AddNote(call_id=call.id, text="two senders"), operator="sup")
            except CommandRejected:
                continue
            submitted.append(sub.command_id)
            for svc in services:
                svc.wake_outbox()
        assert submitted
        wait_until(
            lambda: all(store.load_state().commands[c].status != "requested" for c in submitted),
            90,
            "every command answered",
        )
        # Both services report the link; a console sharing the database reads them.
        wait_until(
            lambda: [r.state for r in store.link_reports()] == ["up", "up"],
            30,
            "both services reporting the link up",
        )
        reports = store.link_reports()
        assert {r.service for r in reports} == {s.owner for s in services}
        assert all(r.url == st.url and r.last_message_at is not None for r in reports)
        truth = st.sim.truth()
    finally:
        for svc in services:
            svc.stop()
        st.stop()
    delivered = {c["key"]: c["delivered"] for c in truth["commands"]}
    # Each command reached dispatch once: one sender claimed it, the other never sent it.
    assert [delivered[c] for c in submitted] == [1] * len(submitted)
    assert sum(s.commands_sent for s in services) == len(submitted)
    assert store.outbox_due() == []
