"""The console's side of the dispatch WebSocket: subscribe, receive, acknowledge, reconnect.

One connection at a time. On loss it reconnects with exponential backoff and full jitter,
re-subscribes (offering its previous subscription id) and lets dispatch's reconciliation bring
the picture back. Frames are decoded and their EIDOs parsed here; what to do with the result is
the sink's business (the sync service commits it), and only after the sink returns does the
client acknowledge: an acknowledged notification is a committed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.uri import parse_uri

from console.domain.clock import Clock, SystemClock
from console.domain.events import Event
from console.wire import protocol as proto
from console.wire.eido import EidoError, document_key, parse_eido
from console.wire.registry import UnknownCode

log = logging.getLogger("console.sync.client")


SEEN_DOCS = 20_000


class LinkState:
    CONNECTING = "connecting"
    UP = "up"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class LinkHealth:
    """What the UI shows about the dispatch link."""

    state: str
    since: datetime
    """When the link entered ``state`` (for "reconnecting since ...")."""
    url: str
    last_message_at: datetime | None = None
    attempts: int = 0
    """Failed connection attempts since the link was last up."""
    retry_in_s: float | None = None
    last_error: str = ""
    quarantined: int = 0
    """Messages quarantined by this service since it started."""

    def message_age_s(self, now: datetime) -> float | None:
        return (
            None if self.last_message_at is None else (now - self.last_message_at).total_seconds()
        )

    @property
    def up(self) -> bool:
        return self.state == LinkState.UP


@dataclass
class Bad:
    """Input to quarantine: the raw text and why."""

    raw: str
    reason: str


@dataclass
class Inbound:
    """One batch of frames, decoded: what the sink commits before anything is acknowledged."""

    events: list[Event] = field(default_factory=list)
    persons: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    answers: list[proto.Answer] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)
    transactions: dict[str, set[str]] = field(default_factory=dict)
    """transactionId -> source ids of its events (a rejected one makes the ack a refusal)."""
    refused: dict[str, str] = field(default_factory=dict)
    """transactionId -> why it is answered 400 (it carried bad input)."""
    eidos: int = 0
    doc_keys: dict[str, list[str]] = field(default_factory=dict)
    """transactionId -> keys of its documents, remembered once the transaction is committed."""
    skipped: int = 0
    """Documents already committed earlier (retransmitted or reconciled), not parsed again."""


class Sink(Protocol):
    async def commit(self, batch: Inbound) -> set[str]:
        """Store a batch in one go; returns the source ids the store rejected."""
        ...

    async def on_connected(self, client: DispatchClient) -> None: ...


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter (uniform in [base/2, min(cap, base * 2**attempt)])."""
    top = min(cap, base * (2 ** min(attempt, 20)))
    return rng.uniform(min(base / 2, top), top)


class DispatchClient:
    def __init__(
        self,
        url: str,
        sink: Sink,
        *,
        clock: Clock | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 15.0,
        seed: int | None = None,
        on_health: Callable[[LinkHealth], None] | None = None,
        max_batch_frames: int = 16,
    ) -> None:
        try:
            parse_uri(url)
        except (InvalidURI, ValueError) as exc:
            raise ValueError(f"bad dispatch URL {url!r}: {exc}") from None
        self.url = url
        self.sink = sink
        self.clock = clock or SystemClock()
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.rng = random.Random(seed)
        self.on_health = on_health
        self.max_batch_frames = max_batch_frames
        self.subscription_id: str | None = None
        self.conn: ClientConnection | None = None
        self.health = LinkHealth(LinkState.CONNECTING, self.clock.now(), url)
        self.frames_received = 0
        self.last_frame_monotonic = time.monotonic()
        """When the last frame arrived (for "idle" decisions, independent of commit time)."""
        self.busy = False
        """True while a batch is being decoded or committed."""
        self.eidos_received = 0
        self.connects = 0
        self._seen_docs: dict[str, None] = {}
        """Keys ($id|lastUpdateTimeStamp) of documents committed, oldest first (bounded)."""

    # -- health ----------------------------------------------------------------------------------

    def _set_health(self, **kw: Any) -> None:
        if "state" in kw and kw["state"] != self.health.state:
            kw.setdefault("since", self.clock.now())
        self.health = replace(self.health, **kw)
        if self.on_health is not None:
            try:
                self.on_health(self.health)
            except Exception:  # a UI callback must never take the link down
                log.exception("link health callback failed")

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, msg: dict[str, Any]) -> bool:
        conn = self.conn
        if conn is None:
            return False
        try:
            await conn.send(proto.encode(msg))
        except ConnectionClosed:
            return False
        return True

    # -- the loop --------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                async with connect(
                    self.url,
                    open_timeout=5,
                    ping_interval=5,
                    ping_timeout=10,
                    close_timeout=1,
                    max_size=2**24,
                    subprotocols=None,
                ) as conn:
                    self.conn = conn
                    self.connects += 1
                    attempt = 0
                    await self._session(conn, stop)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                self._set_health(last_error=_describe(exc))
            except InvalidURI as exc:
                self._set_health(state=LinkState.STOPPED, last_error=f"bad dispatch URL: {exc}")
                raise
            except Exception as exc:  # e.g. the database is locked or full: retry, never die
                log.exception("dispatch session failed; reconnecting")
                self._set_health(last_error=f"{type(exc).__name__}: {exc}")
            finally:
                self.conn = None
            if stop.is_set():
                break
            delay = backoff_delay(attempt, self.backoff_base_s, self.backoff_cap_s, self.rng)
            attempt += 1
            self._set_health(state=LinkState.RECONNECTING, attempts=attempt, retry_in_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        self._set_health(state=LinkState.STOPPED, retry_in_s=None)

    async def _session(self, conn: ClientConnection, stop: asyncio.Event) -> None:
        rid = uuid.uuid4().hex
        await conn.send(proto.encode(proto.subscribe(rid, subscription_id=self.subscription_id)))
        inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()

        async def reader() -> None:
            try:
                async for raw in conn:
                    self.last_frame_monotonic = time.monotonic()
                    inbox.put_nowait(raw)
            except ConnectionClosed as exc:
                self._set_health(last_error=_describe(exc))
            finally:
                inbox.put_nowait(None)

        reader_task = asyncio.create_task(reader())
        stopper = asyncio.create_task(stop.wait())
        committing: asyncio.Task[None] | None = None
        try:
            while True:
                getter = asyncio.create_task(inbox.get())
                done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    getter.cancel()
                    return
                first = getter.result()
                if first is None:
                    return
                frames = [first]
                while len(frames) < self.max_batch_frames and not inbox.empty():
                    nxt = inbox.get_nowait()
                    if nxt is None:
                        inbox.put_nowait(None)
                        break
                    frames.append(nxt)
                # Decode this batch while the previous one commits; commits stay in order and
                # each batch is acknowledged only after its own commit.
                self.busy = True
                batch, keep_going = await self._prepare(conn, frames)
                if committing is not None:
                    await committing
                committing = asyncio.create_task(self._finish(conn, batch))
                if not keep_going:
                    return
        finally:
            if committing is not None:
                with contextlib.suppress(ConnectionClosed):
                    await committing
            self.busy = False
            stopper.cancel()
            reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader_task
            with contextlib.suppress(Exception):
                await conn.close()

    async def _prepare(
        self, conn: ClientConnection, frames: list[str | bytes]
    ) -> tuple[Inbound, bool]:
        """Decode a batch of frames; False as second item ends the session (reconnect)."""
        now = self.clock.now()
        batch = Inbound()
        keep_going = True
        for raw in frames:
            self.frames_received += 1
            text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
            try:
                msg = proto.decode(raw)
            except proto.ProtocolError as exc:
                batch.bad.append(Bad(text, f"protocol: {exc}"))
                if exc.transaction_id:
                    batch.refused[exc.transaction_id] = str(exc)
                continue
            if msg.kind == "subscribeResponse":
                b = msg.body
                if b["statusCode"] != proto.STATUS_OK or not b.get("subscriptionId"):
                    self._set_health(
                        last_error=f"subscribe refused: {b['statusCode']} {b['statusText']}"
                    )
                    keep_going = False
                    continue
                self.subscription_id = b["subscriptionId"]
                self._set_health(state=LinkState.UP, attempts=0, retry_in_s=None, last_error="")
                await self.sink.on_connected(self)
            elif msg.kind == "event":
                self._event(msg.body, batch, now)
            elif msg.kind in ("commandResponse", "response"):
                try:
                    batch.answers.append(proto.answer_of(msg))
                except proto.ProtocolError as exc:
                    batch.bad.append(Bad(text, f"protocol: {exc}"))
            elif msg.kind == "terminate":
                b = msg.body
                await conn.send(
                    proto.encode(proto.terminate_response(b["requestId"], b["subscriptionId"]))
                )
                self.subscription_id = None
                self._set_health(last_error="dispatch ended the subscription")
                keep_going = False
            else:
                log.debug("ignoring %s", msg.kind)
        self._set_health(last_message_at=now)
        return batch, keep_going

    async def _finish(self, conn: ClientConnection, batch: Inbound) -> None:
        """Commit, then acknowledge: an acknowledged notification is a committed one."""
        rejected = await self.sink.commit(batch)
        if batch.bad:
            self._set_health(quarantined=self.health.quarantined + len(batch.bad))
        acks = []
        for tid, sids in batch.transactions.items():
            if tid in batch.refused:
                acks.append(
                    proto.event_response(tid, proto.STATUS_BAD_REQUEST, batch.refused[tid][:200])
                )
            elif sids & rejected:
                acks.append(
                    proto.event_response(tid, proto.STATUS_BAD_REQUEST, "lifecycle: out of order")
                )
            else:
                acks.append(proto.event_response(tid, proto.STATUS_OK, "OK"))
        for tid, why in batch.refused.items():
            if tid not in batch.transactions:
                acks.append(proto.event_response(tid, proto.STATUS_BAD_REQUEST, why[:200]))
        for a in acks:
            await conn.send(proto.encode(a))
        self.busy = False

    def _event(self, body: dict[str, Any], batch: Inbound, now: datetime) -> None:
        tid = body["transactionId"]
        sids = batch.transactions.setdefault(tid, set())
        keys = batch.doc_keys.setdefault(tid, [])
        for doc in body.get("notification") or []:
            batch.eidos += 1
            self.eidos_received += 1
            key = document_key(doc)
            if key in self._seen_docs:
                batch.skipped += 1
                continue
            try:
                parsed = parse_eido(doc, recorded_at=now)
            except (EidoError, UnknownCode) as exc:
                kind = "unknown code" if isinstance(exc, UnknownCode) else "schema"
                raw = json.dumps(doc, sort_keys=True)
                batch.bad.append(Bad(raw, f"{kind}: {exc}"))
                batch.refused[tid] = f"{kind}: {exc}"
                continue
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raw = json.dumps(doc, sort_keys=True, default=str)
                batch.bad.append(Bad(raw, f"schema: {type(exc).__name__}: {exc}"))
                batch.refused[tid] = f"schema: {exc}"
                continue
            keys.append(key)
            batch.events.extend(parsed.events)
            sids.update(e.source_id for e in parsed.events)
            if parsed.call is not None and parsed.persons:
                batch.persons[parsed.call.id] = parsed.persons


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


AsyncFn = Callable[[], Awaitable[None]]
