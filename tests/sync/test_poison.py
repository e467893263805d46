"""A hostile dispatch peer: every kind of poison input is quarantined with a reason that names
it, every notification is answered, valid documents before, beside and after it are stored, and
the link never drops and reconnects over it."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from websockets.asyncio.server import ServerConnection, serve

from console.domain.events import AlertKind, CallUpdated, Source
from console.domain.model import Call, CallStatus, CallType
from console.store import Store
from console.sync.client import Doc, Inbound
from console.sync.service import SyncService, document_fault
from console.wire import protocol as proto
from console.wire.eido import EXTENSION_KEY, build_incident_eido
from console.wire.limits import FeedLimits

from .helpers import wait_until

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
LIMITS = FeedLimits(max_frame_bytes=64 * 1024, max_document_bytes=16 * 1024)


def _call(i: int, **kw: Any) -> Call:
    c = Call(
        f"HCR-{i:06d}", CallStatus.PENDING, 2, CallType.WELFARE_CHECK, T0, T0 + timedelta(seconds=i)
    )
    return replace(c, **kw)


def _doc(i: int, **kw: Any) -> dict[str, Any]:
    return build_incident_eido(_call(i, **kw))


def _frame(tid: str, *docs: dict[str, Any]) -> str:
    return proto.encode(proto.event("s", tid, list(docs)))


Frame = str | bytes
"""A text frame (bytes: sent as a text frame as they are, valid UTF-8 or not)."""


def _nested(depth: int) -> Any:
    v: Any = 0
    for _ in range(depth):
        v = [v]
    return v


def _poison() -> list[tuple[Frame, str, str]]:
    """(frame, fragment its quarantine reason must hold, transaction id answered 400)."""
    deep = _doc(10)
    deep[EXTENSION_KEY]["call"]["summary"] = _nested(100)
    infinite = _doc(12)
    infinite["incidentComponent"]["incidentCommonPriorityNumber"] = "@INF@"
    surrogate = _doc(13)
    surrogate[EXTENSION_KEY]["call"]["summary"] = "broken \ud800 text"
    y9999 = _doc(14)
    for comp in (y9999, y9999["incidentComponent"]):
        comp["lastUpdateTimeStamp"] = "9999-12-31T23:00:00-05:00"
    big_doc = _doc(16, summary="x" * (20 * 1024))
    big_frame = _doc(17, summary="y" * (100 * 1024))
    very_deep = (
        '{"event": {"subscriptionId": "s", "transactionId": "t-very-deep", "notification": ['
        + "[" * 5000
        + "]" * 5000
        + "]}}"
    )
    bad_utf8 = (
        b'{"event": {"subscriptionId": "s", "transactionId": "t-utf8", "notification": '
        b'[{"summary": "caf\xe9 \xff"}]}}'
    )
    return [
        # one bad document beside a good one: the good one is stored all the same
        (_frame("t-deep", deep, _doc(11)), "nesting deeper than 64 levels", "t-deep"),
        (very_deep, "nesting deeper than 64 levels", "t-very-deep"),
        (
            _frame("t-inf", infinite).replace('"@INF@"', "Infinity"),
            "non-finite number Infinity",
            "t-inf",
        ),
        (
            _frame("t-nan", _doc(15)).replace('"version":1', '"version":NaN'),
            "non-finite number NaN",
            "t-nan",
        ),
        (
            json.dumps(proto.event("s", "t-surrogate", [surrogate])),  # \ud800 as an escape
            "lone surrogate U+D800",
            "t-surrogate",
        ),
        (_frame("t-9999", y9999), "timestamp", "t-9999"),
        (_frame("t-big-doc", big_doc), "16384-byte document limit", "t-big-doc"),
        (_frame("t-big-frame", big_frame), "65536-byte frame limit", "t-big-frame"),
        (bad_utf8, "invalid UTF-8", "t-utf8"),
    ]


class HostileDispatch:
    """A notifier on loopback speaking the protocol, sending exactly the frames it is given."""

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames
        self.answers: dict[str, tuple[int, str]] = {}
        self.connections = 0
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handler(self, conn: ServerConnection) -> None:
        self.connections += 1
        async for raw in conn:
            msg = json.loads(raw)
            if "subscribe" in msg:
                await conn.send(
                    proto.encode(proto.subscribe_response(msg["subscribe"]["requestId"], "s"))
                )
                for f in self.frames:
                    await conn.send(f, text=True)
            elif "eventResponse" in msg:
                b = msg["eventResponse"]
                self.answers[b["transactionId"]] = (b["statusCode"], b["statusText"])

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", 0, max_size=None) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def start(self) -> HostileDispatch:
        self.thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


def _run(
    sqlite_url: str, frames: list[Frame], last: str, batch_frames: int = 16
) -> tuple[Store, SyncService, Any]:
    peer = HostileDispatch(frames).start()
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, f"ws://127.0.0.1:{peer.port}", limits=LIMITS)
    svc.client.max_batch_frames = batch_frames
    svc.start()
    try:
        wait_until(lambda: last in peer.answers, 20, f"the answer to {last}")
        tids = [json.loads(f)["event"]["transactionId"] for f in frames if _readable(f)]
        wait_until(lambda: all(t in peer.answers for t in tids), 10, "every answer")
    finally:
        svc.stop()
        peer.stop()
    return store, svc, peer


def _readable(f: Frame) -> bool:
    try:
        return "event" in json.loads(f)
    except (ValueError, RecursionError):
        return False


def test_every_poison_is_quarantined_with_its_reason_and_the_feed_goes_on(
    sqlite_url: str,
) -> None:
    poison = _poison()
    frames: list[Frame] = [_frame("t-good-1", _doc(1))]
    for f, _, _ in poison:
        frames += [f, _frame(f"t-after-{len(frames)}", _doc(100 + len(frames)))]
    frames.append(_frame("t-good-2", _doc(2)))
    store, svc, peer = _run(sqlite_url, frames, "t-good-2")

    # the link never dropped over it: one connection, one session
    assert peer.connections == 1
    assert svc.client.connects == 1
    # every notification answered: the poisoned ones refused with their reason, the rest OK
    for _, fragment, tid in poison:
        code, text = peer.answers[tid]
        assert code == 400, (tid, text)
        assert fragment in text, (tid, text)
    good = [t for t in peer.answers if t.startswith(("t-good", "t-after"))]
    assert len(good) == len(poison) + 2
    assert all(peer.answers[t][0] == 200 for t in good), peer.answers
    # the valid documents are stored, beside and after the poison; the poisoned ones are not
    calls = store.load_state().calls
    wanted = {"HCR-000001", "HCR-000002", "HCR-000011"}
    wanted |= {f"HCR-{100 + i:06d}" for i in range(1, 2 * len(poison), 2)}
    assert wanted <= set(calls), wanted - set(calls)
    for i in (10, 12, 13, 14, 15, 16, 17):
        assert f"HCR-{i:06d}" not in calls
    # each quarantined, with a reason naming the problem
    reasons = [q.reason for q in store.quarantined(100)]
    assert len(reasons) == len(poison), reasons
    for _, fragment, _ in poison:
        assert any(fragment in r for r in reasons), (fragment, reasons)
    assert svc.health.quarantined == len(poison)
    raws = [q.raw for q in store.quarantined(100)]
    assert any("caf\\xe9 \\xff" in r for r in raws), "the bytes that are not UTF-8 are kept"
    store.close()


def test_a_far_future_update_cannot_freeze_a_call(sqlite_url: str) -> None:
    future = datetime.now(UTC) + timedelta(days=365 * 60)
    frames: list[Frame] = [
        _frame("t-1", _doc(50)),
        _frame("t-future", _doc(50, updated_at=future, version=2, priority=1)),
        _frame("t-genuine", _doc(50, updated_at=T0 + timedelta(hours=1), version=3, priority=3)),
    ]
    store, svc, peer = _run(sqlite_url, frames, "t-genuine")
    assert svc.client.connects == 1
    assert peer.answers["t-future"][0] == 400
    assert "in the future" in peer.answers["t-future"][1]
    assert peer.answers["t-genuine"] == (200, "OK")
    call = store.load_state().calls["HCR-000050"]
    assert (call.version, call.priority) == (3, 3)
    (q,) = store.quarantined(10)
    assert "timestamp" in q.reason and "in the future" in q.reason
    store.close()


@pytest.mark.parametrize("batch_frames", [1, 16])
def test_a_conflicting_document_of_the_same_version_is_quarantined_and_alerted(
    sqlite_url: str, batch_frames: int
) -> None:
    """Refused with the same reason whether its retransmission arrives in the same batch or
    a later one (one frame per batch: the retransmission meets the service's memory)."""
    first = _doc(60)
    second = _doc(60, priority=1, summary="a different story")
    assert first["$id"] == second["$id"]
    assert first["lastUpdateTimeStamp"] == second["lastUpdateTimeStamp"]
    frames: list[Frame] = [
        _frame("t-first", first),
        _frame("t-second", second),
        _frame("t-again", second),  # retransmitted: refused again, quarantined once
        _frame("t-other", _doc(61)),
    ]
    store, svc, peer = _run(sqlite_url, frames, "t-other", batch_frames)
    assert svc.client.connects == 1
    assert peer.answers["t-first"] == (200, "OK")
    for tid in ("t-second", "t-again"):
        code, text = peer.answers[tid]
        assert code == 400 and "conflict" in text, (tid, text)
    assert peer.answers["t-other"] == (200, "OK")
    st = store.load_state()
    assert st.calls["HCR-000060"].priority == 2  # the first stands
    alerts = [a for a in st.alerts.values() if a.kind is AlertKind.FEED_CONFLICT]
    assert len(alerts) == 1 and alerts[0].subject == "HCR-000060", alerts
    (q,) = store.quarantined(10)
    assert q.reason.startswith("conflict: ") and "HCR-000060" in q.reason
    assert "a different story" in q.raw
    store.close()


# -- storing: a document the database refuses vs. a database that fails -------------------------


def _inbound(*calls: Call) -> Inbound:
    batch = Inbound()
    for i, c in enumerate(calls):
        e = CallUpdated(
            source=Source.DISPATCH,
            source_id=f"call:{c.id}:v{c.version}:{c.updated_at.isoformat()}",
            occurred_at=c.updated_at,
            recorded_at=c.updated_at,
            call=c,
        )
        tid = f"t-{i}"
        batch.transactions[tid] = {e.source_id}
        batch.events.append(e)
        batch.docs.append(Doc(tid, {"call": c.id}, [e]))
    return batch


def test_a_document_the_store_cannot_take_is_quarantined_alone(db_url: str) -> None:
    store = Store.open(db_url, create=True)
    svc = SyncService(store, "ws://127.0.0.1:9")
    # got past the client's checks somehow: no database encodes a lone surrogate
    bad = _call(71, summary="bad \udc80")
    batch = _inbound(_call(70), bad, _call(72))
    assert svc._commit_sync(batch) == set()
    assert set(store.load_state().calls) == {"HCR-000070", "HCR-000072"}
    assert set(batch.refused) == {"t-1"}
    assert "cannot be stored" in batch.refused["t-1"]
    (q,) = store.quarantined(10)
    assert "cannot be stored" in q.reason and "HCR-000071" in q.raw
    assert svc.quarantined == 1 and len(batch.bad) == 1
    store.close()


def test_a_failing_database_is_not_blamed_on_a_document(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(sqlite_url, create=True)
    svc = SyncService(store, "ws://127.0.0.1:9")

    def full(*_: Any, **__: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(store, "append", full)
    with pytest.raises(OperationalError):
        svc._commit_sync(_inbound(_call(80), _call(81)))
    assert store.quarantine_count() == 0
    store.close()


def test_what_counts_as_one_documents_fault() -> None:
    assert document_fault(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    assert document_fault(OverflowError("date value out of range"))
    assert not document_fault(OperationalError("INSERT", {}, Exception("disk I/O error")))
    assert not document_fault(OSError(28, "No space left on device"))
