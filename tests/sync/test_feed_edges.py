"""Bad input from dispatch is quarantined with its reason and the stream goes on; the real CAD
export replayed over the link reproduces the export's own response intervals."""

from __future__ import annotations

import asyncio
import csv
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from console.domain.model import Call, CallStatus, CallType, Team, TeamStatus
from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, build
from console.store import Store
from console.sync.service import SyncService
from console.wire import protocol as proto
from console.wire.eido import UnitView, build_incident_eido, build_unit_eido

from .helpers import cli, wait_until

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _good(i: int) -> dict[str, Any]:
    c = Call(
        f"HCR-{i:06d}", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, T0, T0 + timedelta(seconds=i)
    )
    return build_incident_eido(c)


def _bad_frames() -> list[tuple[str, str, str | None]]:
    """(frame, expected reason fragment, transaction id expected to be refused)."""
    # Unknown codes are kept, not refused (see test_eido): only what cannot be read at all is.
    no_id = _good(90)
    del no_id["$id"]
    bad_time = _good(91)
    bad_time["incidentComponent"]["lastUpdateTimeStamp"] = "XYZZY"
    bad_unit = build_unit_eido(UnitView(Team("CRT-9", TeamStatus.AVAILABLE, T0)))
    bad_unit["emergencyResourceComponent"][0]["primaryUnitStatusRegistryText"] = ["Snoozing", 7]
    return [
        ('{"event": {"subscriptionId": "s", "transactionId": "t-trunc", "notif', "not JSON", None),
        (proto.encode({"gossip": {"hello": 1}}), "unknown message", None),
        (proto.encode(proto.event("s", "t-schema", [no_id])), "$id", "t-schema"),
        (proto.encode(proto.event("s", "t-code", [bad_time])), "XYZZY", "t-code"),
        (proto.encode(proto.event("s", "t-unit", [bad_unit])), "primaryUnitStatus", "t-unit"),
        (
            proto.encode(
                {"event": {"subscriptionId": "s", "transactionId": "t-shape", "notification": [7]}}
            ),
            "array of EIDO",
            "t-shape",
        ),
    ]


class FakeNotifier:
    """A notifier that sends exactly the frames a test gives it and records the answers."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.answers: dict[str, int] = {}
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handler(self, conn: ServerConnection) -> None:
        async for raw in conn:
            msg = json.loads(raw)
            if "subscribe" in msg:
                await conn.send(
                    proto.encode(proto.subscribe_response(msg["subscribe"]["requestId"], "s"))
                )
                for f in self.frames:
                    await conn.send(f)
            elif "eventResponse" in msg:
                b = msg["eventResponse"]
                self.answers[b["transactionId"]] = b["statusCode"]

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def start(self) -> FakeNotifier:
        self.thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


def test_each_kind_of_bad_message_is_quarantined_and_the_stream_goes_on(sqlite_url: str) -> None:
    bad = _bad_frames()
    frames = [proto.encode(proto.event("s", "t-good-1", [_good(1)]))]
    frames += [f for f, _, _ in bad]
    frames += [proto.encode(proto.event("s", "t-good-2", [_good(2)]))]
    fake = FakeNotifier(frames).start()
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, f"ws://127.0.0.1:{fake.port}")
    svc.start()
    try:
        wait_until(lambda: "t-good-2" in fake.answers, 15, "the good message after the bad ones")
        wait_until(lambda: all(t in fake.answers for _, _, t in bad if t), 5, "answers")
    finally:
        svc.stop()
        fake.stop()
    calls = store.load_state().calls
    assert {"HCR-000001", "HCR-000002"} <= set(calls)
    assert "HCR-000090" not in calls and "HCR-000091" not in calls
    assert fake.answers["t-good-1"] == 200 and fake.answers["t-good-2"] == 200
    for _, _, tid in bad:
        if tid:
            assert fake.answers[tid] == 400, tid
    items = store.quarantined(100)
    assert store.quarantine_count() == len(bad) == len(items)
    reasons = [q.reason for q in items]
    for _frame, fragment, _ in bad:
        assert any(fragment in r for r in reasons), (
            f"no quarantine reason mentions {fragment!r}: {reasons}"
        )
    # the raw input is kept as received
    assert any(
        q.raw.startswith('{"event": {"subscriptionId": "s", "transactionId": "t-trunc"')
        for q in items
    )
    assert svc.health.quarantined == len(bad)
    store.close()


# -- the real CSV replay --------------------------------------------------------------------------

MISSING = {"", "NULL", "-9999"}


def _t(raw: str | None) -> datetime | None:
    if raw is None or raw.strip() in MISSING:
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        return None


def intervals_from_csv(path: Path) -> dict[str, list[float]]:
    """Straight from the export: seconds where both ends exist and the later is not earlier."""
    out: dict[str, list[float]] = {"received_to_dispatched": [], "received_to_onscene": []}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rec = _t(row["Incident_Start_Time"]) or _t(row["Response_Date"])
            if rec is None:
                continue
            for name, col in (
                ("received_to_dispatched", "Incident_Dispatch_Time"),
                ("received_to_onscene", "Incident_Arrival_Time"),
            ):
                t = _t(row[col])
                if t is not None and t >= rec:
                    out[name].append((t - rec).total_seconds())
    return out


@pytest.mark.slow
def test_the_real_csv_replay_reproduces_the_exports_intervals(
    shared_data: Path, tmp_path: Path, sqlite_url: str
) -> None:
    path = shared_data / "cad" / "decc_weekly" / "decc_week48_cad_pseudonymized.csv"
    world = build(from_csv=str(path))
    span = (world.end - world.start).total_seconds()  # type: ignore[operator]
    sim = DispatchSimulator(world, speed=span / 8.0, state_out=tmp_path / "truth.json")
    st = SimulatorThread(sim).start()
    try:
        cli("sync", "--db", sqlite_url, "--dispatch", st.url, "--exit-when-idle", "10", timeout=240)
        assert st.finished.wait(60)
    finally:
        st.stop()
    report = json.loads(cli("report", "--db", sqlite_url, "--json").stdout)
    expected = intervals_from_csv(path)
    with open(path, newline="") as f:
        assert report["calls_received"] == sum(1 for _ in csv.DictReader(f))
    for name, values in expected.items():
        got = report["intervals_s"][name]
        assert got["n"] == len(values) > 500, name
        assert got["p50"] == pytest.approx(float(np.percentile(values, 50)), abs=1e-3), name
        assert got["p90"] == pytest.approx(float(np.percentile(values, 90)), abs=1e-3), name
