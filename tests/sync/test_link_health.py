"""Link health: reconnecting with backoff and jitter while dispatch is away, up once it is back."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime
from pathlib import Path

from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, build
from console.store import Store
from console.sync.client import LinkHealth, LinkState, backoff_delay
from console.sync.service import SyncService

from .helpers import wait_until


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    rng = random.Random(1)
    for attempt in range(12):
        top = min(15.0, 0.5 * 2**attempt)
        xs = [backoff_delay(attempt, 0.5, 15.0, rng) for _ in range(200)]
        assert all(min(0.25, top) <= x <= top for x in xs)
        if top > 1:
            assert max(xs) - min(xs) > top / 4, "no jitter"
    assert backoff_delay(50, 0.5, 15.0, rng) <= 15.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_health_reports_reconnecting_then_up_then_message_age(
    tmp_path: Path, sqlite_url: str
) -> None:
    port = _free_port()
    seen: list[LinkHealth] = []
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(
        store,
        f"ws://127.0.0.1:{port}",
        on_health=seen.append,
        backoff_base_s=0.1,
        backoff_cap_s=0.4,
    )
    svc.start()
    st: SimulatorThread | None = None
    try:
        wait_until(
            lambda: svc.health.state == LinkState.RECONNECTING and svc.health.attempts >= 2,
            10,
            "retries",
        )
        h = svc.health
        assert h.last_error and h.retry_in_s is not None and h.last_message_at is None
        world = build(
            seed=1, start=datetime(2026, 11, 26, 9, tzinfo=UTC), duration_h=100, rate_per_hour=1.0
        )
        sim = DispatchSimulator(world, speed=10)
        # serve on the very port the service keeps trying
        st = SimulatorThread(sim, port=port).start()
        wait_until(lambda: svc.health.up, 10, "link up")
        wait_until(lambda: svc.health.last_message_at is not None, 10, "a message")
        h = svc.health
        assert h.attempts == 0 and h.last_error == ""
        age = h.message_age_s(datetime.now(UTC))
        assert age is not None and 0 <= age < 10
        states = [x.state for x in seen]
        assert LinkState.RECONNECTING in states and states.index(LinkState.UP) > states.index(
            LinkState.RECONNECTING
        )
        # the reconnecting period is dated from its start, not refreshed by each retry
        rec = [x for x in seen if x.state == LinkState.RECONNECTING]
        assert len({x.since for x in rec}) == 1
    finally:
        svc.stop()
        if st is not None:
            st.stop()
        store.close()
    assert svc.health.state == LinkState.STOPPED


def test_a_bad_dispatch_url_is_refused_at_once(sqlite_url: str) -> None:
    import pytest

    from .helpers import cli

    store = Store.open(sqlite_url, create=True)
    try:
        with pytest.raises(ValueError, match="bad dispatch URL"):
            SyncService(store, "ws://[bad")
    finally:
        store.close()
    res = cli("sync", "--db", sqlite_url, "--dispatch", "ws://[bad", timeout=30, check=False)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "sync: bad dispatch URL 'ws://[bad': Invalid IPv6 URL"
    ]
