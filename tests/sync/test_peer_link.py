"""The dispatch link against a notifier that behaves like an independent STA-024 server: a
refused resumption becomes a fresh subscription on the same socket, keep-alives are answered,
subscriptions are renewed before they expire, timeouts reconnect and say why."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from console.domain.model import Call, CallStatus, CallType
from console.sim.runner import SimulatorThread
from console.sim.simulator import DispatchSimulator, build
from console.store import Store
from console.sync import client as client_mod
from console.sync.client import LinkState, _subscribe_answer
from console.sync.service import SyncService
from console.wire import protocol as proto
from console.wire.eido import build_incident_eido

from .helpers import wait_until
from .peer_server import PeerServer

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"


def _doc(i: int, status: CallStatus = CallStatus.PENDING) -> dict[str, Any]:
    c = Call(f"HCR-{i:06d}", status, 2, CallType.WELFARE_CHECK, T0, T0 + timedelta(seconds=i))
    return build_incident_eido(c)


def _calls(store: Store) -> set[str]:
    return set(store.load_state().calls)


def test_the_peers_subscribe_answers_are_read_as_such() -> None:
    ok = _subscribe_answer((WIRE / "02_subscribe_response.json").read_text())
    assert ok is not None and ok["statusCode"] == 200 and ok["expires"] == 3600
    gone = _subscribe_answer((WIRE / "05_subscribe_response_not_found.json").read_text())
    assert gone is not None and gone["statusCode"] == 404
    bad = _subscribe_answer((WIRE / "14_subscribe_response_bad_request.json").read_text())
    assert bad is not None and bad["statusCode"] == 400 and bad["requestId"] is None
    assert _subscribe_answer((WIRE / "07_notify_keepalive_empty.json").read_text()) is None


def test_sync_converges_through_a_dropped_connection_with_the_peer(sqlite_url: str) -> None:
    peer = PeerServer(min_expires_s=1, min_rate_floor_s=1).start()
    peer.publish([_doc(1)])
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, peer.url, backoff_base_s=0.1, backoff_cap_s=0.5, seed=3)
    svc.start()
    try:
        wait_until(lambda: _calls(store) == {"HCR-000001"}, 15, "the first call")
        first_id = svc.client.subscription_id
        peer.drop_connections()
        wait_until(lambda: not svc.health.up or svc.client.connects > 1, 10, "the drop noticed")
        peer.publish([_doc(2)])  # while the link is down or coming back
        wait_until(lambda: svc.health.up and svc.client.connects >= 2, 15, "reconnected")
        peer.publish([_doc(3)])
        wait_until(
            lambda: _calls(store) == {"HCR-000001", "HCR-000002", "HCR-000003"}, 15, "converged"
        )
        subs = peer.messages("subscribe")
        # fresh, then the old id offered on the new socket (404), then fresh on that socket
        assert "subscriptionId" not in subs[0]
        assert subs[1]["subscriptionId"] == first_id
        assert "subscriptionId" not in subs[2]
        refused = [m for m in peer.sent if m.get("subscribeResponse", {}).get("statusCode") == 404]
        assert len(refused) == 1
        assert svc.client.fresh_after_refusal == 1
        assert svc.client.subscription_id not in (None, first_id)
        assert all(s.get("requestSubType") == "new" for s in subs)
    finally:
        svc.stop()
        store.close()
        peer.stop()


def test_an_open_call_not_resent_after_a_reconnect_is_unconfirmed(sqlite_url: str) -> None:
    peer = PeerServer().start()
    one, two = _doc(1), _doc(2)
    peer.publish([one, two])
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, peer.url, backoff_base_s=0.1, backoff_cap_s=0.5)
    svc.start()
    try:
        wait_until(lambda: _calls(store) == {"HCR-000001", "HCR-000002"}, 15, "both calls")
        wait_until(lambda: svc.client.reconciled_at is not None, 10, "reconciliation over")
        assert svc.unconfirmed_calls() == {}
        seen_two = svc.client.call_seen_at["HCR-000002"]
        peer.forget(str(two["$id"]))
        peer.drop_connections()
        wait_until(lambda: svc.client.connects >= 2 and svc.health.up, 15, "back up")
        wait_until(lambda: svc.client.reconciled_at is not None, 10, "reconciliation over")
        assert svc.unconfirmed_calls() == {"HCR-000002": seen_two}
        peer.publish([_doc(2, CallStatus.ASSIGNED)])  # news of it: confirmed again
        wait_until(lambda: svc.unconfirmed_calls() == {}, 10, "confirmed by a live update")
    finally:
        svc.stop()
        store.close()
        peer.stop()


def test_keepalives_are_acknowledged_and_the_subscription_renewed_before_it_expires(
    sqlite_url: str,
) -> None:
    peer = PeerServer(min_expires_s=1, min_rate_floor_s=1).start()
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, peer.url, expires_s=2, min_rate_s=1)
    svc.start()
    try:
        wait_until(lambda: svc.client.renewals >= 3, 20, "three renewals")
        keepalives = [
            m["event"]["transactionId"]
            for m in list(peer.sent)
            if "event" in m and m["event"]["notification"] == []
        ]
        acked = {m["transactionId"]: m["statusCode"] for m in peer.messages("eventResponse")}
        wait_until(lambda: len(keepalives) >= 3, 10, "keep-alives")
        answered = [t for t in keepalives[:-1] if acked.get(t) == 200]
        assert answered == keepalives[:-1], "an empty notification was not acknowledged"
        # renewed on the one socket: never terminated, never reconnected
        assert not [m for m in peer.sent if "terminate" in m]
        assert svc.client.connects == 1 and svc.health.up
        subs = peer.messages("subscribe")
        assert len({s.get("subscriptionId") for s in subs[1:]}) == 1
        assert subs[1]["subscriptionId"] == svc.client.subscription_id
    finally:
        svc.stop()
        store.close()
        peer.stop()


def test_the_peers_terminate_is_answered_and_the_link_comes_back(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_mod, "RENEW_AT", 50.0)  # renew too late: the peer expires it
    peer = PeerServer(min_expires_s=1, min_rate_floor_s=1).start()
    peer.publish([_doc(5)])
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, peer.url, expires_s=1, min_rate_s=None, backoff_base_s=0.1)
    svc.start()
    try:
        wait_until(lambda: peer.messages("terminateResponse") != [], 15, "terminate answered")
        wait_until(lambda: svc.client.connects >= 2 and svc.health.up, 15, "back up")
        assert _calls(store) == {"HCR-000005"}
        terminated = peer.messages("terminate")
        assert terminated == [] or all("subscriptionId" in t for t in terminated)
        sent_ids = {m["terminate"]["subscriptionId"] for m in peer.sent if "terminate" in m}
        assert {t["subscriptionId"] for t in peer.messages("terminateResponse")} <= sent_ids
        # after a terminate the old id is not offered again: the next subscribe is fresh
        subs = peer.messages("subscribe")
        assert "subscriptionId" not in subs[1]
    finally:
        svc.stop()
        store.close()
        peer.stop()


class _Mute:
    """Accepts the socket; ``answer`` says whether (and how) a subscribe is answered."""

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.connections = 0
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handler(self, conn: ServerConnection) -> None:
        self.connections += 1
        async for raw in conn:
            msg = json.loads(raw)
            if "subscribe" in msg and self.answer is not None:
                body = {"requestId": msg["subscribe"]["requestId"], **self.answer}
                await conn.send(json.dumps({"subscribeResponse": body}))

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> _Mute:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def test_an_unanswered_subscribe_reconnects_with_growing_backoff(sqlite_url: str) -> None:
    with _Mute(None) as mute:
        store = Store.open(sqlite_url, create=True)
        svc = SyncService(
            store,
            f"ws://127.0.0.1:{mute.port}",
            subscribe_timeout_s=0.3,
            backoff_base_s=0.05,
            backoff_cap_s=0.2,
        )
        svc.start()
        try:
            wait_until(lambda: svc.health.attempts >= 3, 15, "three attempts")
            assert svc.health.last_error == "no answer to subscribe within 0.3 s"
            assert svc.health.state == LinkState.RECONNECTING
            assert mute.connections >= 3  # each socket opened, none reset the backoff
        finally:
            svc.stop()
            store.close()


def test_a_refused_subscribe_does_not_reset_the_backoff(sqlite_url: str) -> None:
    with _Mute({"statusCode": 503, "statusText": "Service Unavailable"}) as mute:
        store = Store.open(sqlite_url, create=True)
        svc = SyncService(
            store, f"ws://127.0.0.1:{mute.port}", backoff_base_s=0.05, backoff_cap_s=0.2
        )
        svc.start()
        try:
            wait_until(lambda: svc.health.attempts >= 4, 15, "four attempts")
            assert svc.health.last_error == "subscribe refused: 503 Service Unavailable"
        finally:
            svc.stop()
            store.close()


def test_silence_past_three_keepalive_periods_reconnects(sqlite_url: str) -> None:
    answer = {"subscriptionId": "s1", "minRate": 1, "statusCode": 200, "statusText": "OK"}
    with _Mute(answer) as mute:
        store = Store.open(sqlite_url, create=True)
        said: list[str] = []
        svc = SyncService(
            store,
            f"ws://127.0.0.1:{mute.port}",
            backoff_base_s=0.05,
            backoff_cap_s=0.2,
            on_health=lambda h: said.append(h.last_error),
        )
        svc.start()
        try:
            wait_until(lambda: mute.connections >= 2, 15, "a reconnect after silence")
            # (the reason is cleared again once the new subscription is answered)
            wait_until(lambda: any(said), 5, "the reason")
            assert next(r for r in said if r) == "no message or keep-alive for 3 s"
        finally:
            svc.stop()
            store.close()


def test_a_configured_silence_limit_applies_without_keepalives(sqlite_url: str) -> None:
    answer = {"subscriptionId": "s1", "statusCode": 200, "statusText": "OK"}
    with _Mute(answer) as mute:
        store = Store.open(sqlite_url, create=True)
        said: list[str] = []
        svc = SyncService(
            store,
            f"ws://127.0.0.1:{mute.port}",
            silence_timeout_s=0.5,
            backoff_base_s=0.05,
            on_health=lambda h: said.append(h.last_error),
        )
        svc.start()
        try:
            wait_until(lambda: mute.connections >= 2, 15, "a reconnect after silence")
            wait_until(lambda: any(said), 5, "the reason")
            assert next(r for r in said if r) == "no message or keep-alive for 0.5 s"
        finally:
            svc.stop()
            store.close()


def test_the_url_path_is_used_and_a_wrong_one_refused(sqlite_url: str) -> None:
    peer = PeerServer().start()
    store = Store.open(sqlite_url, create=True)
    wrong = SyncService(store, f"ws://127.0.0.1:{peer.port}/elsewhere", backoff_base_s=0.1)
    wrong.start()
    try:
        wait_until(lambda: peer.refused_paths != [], 10, "the wrong path refused")
        wait_until(lambda: "404" in wrong.health.last_error, 10, "the refusal reported")
        assert not wrong.health.up
    finally:
        wrong.stop()
    right = SyncService(store, peer.url)
    right.start()
    try:
        wait_until(lambda: right.health.up, 10, "up on /IncidentData/ent")
    finally:
        right.stop()
        store.close()
        peer.stop()


def test_the_simulator_takes_eido_in_any_case_and_renews_without_resending() -> None:
    world = build(seed=2, start=T0, duration_h=10, rate_per_hour=60.0)
    st = SimulatorThread(DispatchSimulator(world, speed=1)).start()

    async def talk() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with connect(st.url) as ws:
            sub = proto.subscribe("r1")
            sub["subscribe"]["requestType"] = "eido"
            await ws.send(json.dumps(sub))
            first: list[dict[str, Any]] = []
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                first.append(m)
                if "event" in m:
                    break
            sid = first[0]["subscribeResponse"]["subscriptionId"]
            await ws.send(json.dumps(proto.subscribe("r2", subscription_id=sid)))
            after: list[dict[str, Any]] = []
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                after.append(m)
                if "subscribeResponse" in m:
                    return first, after

    try:
        first, after = asyncio.run(talk())
    finally:
        st.stop()
    assert first[0]["subscribeResponse"]["statusCode"] == 200
    renewal = after[-1]["subscribeResponse"]
    assert renewal["statusCode"] == 200 and renewal["requestId"] == "r2"
    assert renewal["subscriptionId"] == first[0]["subscribeResponse"]["subscriptionId"]
    assert st.sim.subs[renewal["subscriptionId"]].renewals == 1


def test_keepalives_do_not_keep_an_idle_sync_alive(sqlite_url: str) -> None:
    peer = PeerServer(min_rate_floor_s=1).start()
    peer.publish([_doc(7)])
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, peer.url, min_rate_s=1, exit_when_idle_s=2.5)
    svc.start()
    try:
        wait_until(lambda: _calls(store) == {"HCR-000007"}, 15, "the call")
        thread = svc._thread
        assert thread is not None
        wait_until(lambda: not thread.is_alive(), 40, "the service to stop when idle")
        keepalives = [m for m in peer.sent if "event" in m and m["event"]["notification"] == []]
        assert len(keepalives) >= 2  # it was greeted every second and stopped all the same
    finally:
        svc.stop()
        store.close()
        peer.stop()
