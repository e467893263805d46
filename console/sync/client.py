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
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidMessage,
    InvalidURI,
)
from websockets.uri import parse_uri

from console.domain.clock import Clock, SystemClock
from console.domain.events import Event
from console.store.db import StoreWriteError
from console.sync.transport import (
    LinkSecurity,
    client_ssl_context,
    describe_tls_error,
    link_encrypted,
)
from console.wire import protocol as proto
from console.wire.eido import EidoError, parse_eido
from console.wire.limits import (
    FeedLimits,
    InputRefused,
    check_document_size,
    check_time,
    check_times,
    check_value,
    dumps_raw,
)
from console.wire.registry import UnknownCode

log = logging.getLogger("console.sync.client")


SEEN_DOCS = 20_000
SUBSCRIBE_TIMEOUT_S = 10.0
"""How long dispatch has to answer a subscribe before the connection is given up."""
SUBSCRIBE_EXPIRES_S = 3600
MIN_RATE_S = 20
"""Asked of dispatch: at least one notification (a keep-alive when idle) every this many s."""
RENEW_AT = 0.8
"""A subscription is renewed when this fraction of its ``expires`` has passed."""
SILENCE_FACTOR = 3
SETTLE_S = 1.0
"""After a subscription, the reconciliation is over once nothing arrives for this long."""
"""No message for this many ``minRate`` periods: the link is dead."""
_SUBSCRIBE_ANSWER = re.compile(r'\s*\{\s*"subscribeResponse"')


@dataclass(frozen=True, slots=True)
class _Pending:
    """A subscribe sent and not yet answered."""

    request_id: str
    subscription_id: str | None
    deadline: float


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
    encrypted: bool = True
    """False for a plain ws:// link (shown as "unencrypted link"); loopback counts as encrypted."""

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
class Doc:
    """One document of a notification, parsed: stored on its own if its batch cannot be."""

    transaction_id: str
    doc: dict[str, Any]
    events: list[Event]

    def raw(self) -> str:
        return dumps_raw(self.doc)


@dataclass
class Inbound:
    """One batch of frames, decoded: what the sink commits before anything is acknowledged."""

    events: list[Event] = field(default_factory=list)
    docs: list[Doc] = field(default_factory=list)
    """The documents ``events`` came from, in order (each document's events in ``events``)."""
    persons: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    answers: list[proto.Answer] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)
    transactions: dict[str, set[str]] = field(default_factory=dict)
    """transactionId -> source ids of its events (a rejected one makes the ack a refusal)."""
    refused: dict[str, str] = field(default_factory=dict)
    """transactionId -> why it is answered 400 (it carried bad input)."""
    eidos: int = 0
    rejected_why: dict[str, str] = field(default_factory=dict)
    """source id -> why the store refused it (filled by the sink, for the answer's text)."""

    def refuse(self, transaction_id: str, why: str) -> None:
        """Answer the notification 400 (the first reason given stands)."""
        self.refused.setdefault(transaction_id, why)


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
        security: LinkSecurity | None = None,
        subscribe_timeout_s: float = SUBSCRIBE_TIMEOUT_S,
        silence_timeout_s: float | None = None,
        expires_s: int = SUBSCRIBE_EXPIRES_S,
        min_rate_s: int | None = MIN_RATE_S,
        limits: FeedLimits | None = None,
        data_clock: Clock | None = None,
    ) -> None:
        try:
            parse_uri(url)
        except (InvalidURI, ValueError) as exc:
            raise ValueError(f"bad dispatch URL {url!r}: {exc}") from None
        self.security = security or LinkSecurity()
        self.ssl = client_ssl_context(url, self.security)  # TransportError is a ValueError
        self.subscribe_timeout_s = subscribe_timeout_s
        self.silence_timeout_s = silence_timeout_s
        """Without ``minRate`` agreed: give the link up after this long without a message."""
        self.expires_s = expires_s
        self.min_rate_s = min_rate_s
        self.agreed_expires_s: float | None = None
        self.agreed_min_rate_s: float | None = None
        self.subscribed_at: datetime | None = None
        """When the current subscription was accepted (a new one or a resumed one)."""
        self.renewals = 0
        self.fresh_after_refusal = 0
        """Times a resumed subscription was refused and a fresh one taken on the same socket."""
        self._accepted = False
        self.call_seen_at: dict[str, datetime] = {}
        """Call id -> when dispatch last sent a document about it (re-sent ones included)."""
        self.reconciled_at: datetime | None = None
        """When the reconciliation after the current subscription was over (None: not yet)."""
        self.url = url
        self.sink = sink
        self.clock = clock or SystemClock()
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.rng = random.Random(seed)
        self.on_health = on_health
        self.max_batch_frames = max_batch_frames
        self.limits = limits or FeedLimits()
        self.data_clock = data_clock or self.clock
        """What the feed's times are judged against (a simulator's clock runs ahead of ours)."""
        self.subscription_id: str | None = None
        self.conn: ClientConnection | None = None
        self.health = LinkHealth(
            LinkState.CONNECTING,
            self.clock.now(),
            url,
            encrypted=link_encrypted(url),
        )
        self.frames_received = 0
        self.last_frame_monotonic = time.monotonic()
        """When the last frame arrived (keep-alives included; for the silence limit)."""
        self.last_content_monotonic = time.monotonic()
        """When the last frame other than a keep-alive arrived (for "idle" decisions)."""
        self.busy = False
        """True while a batch is being decoded or committed."""
        self.eidos_received = 0
        self.connects = 0
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
        extra: dict[str, Any] = {} if self.ssl is None else {"ssl": self.ssl}
        while not stop.is_set():
            self._accepted = False
            try:
                async with connect(
                    self.url,
                    open_timeout=5,
                    ping_interval=5,
                    ping_timeout=10,
                    close_timeout=1,
                    max_size=self.limits.transport_max_bytes,
                    subprotocols=None,
                    **extra,
                ) as conn:
                    self.conn = conn
                    self.connects += 1
                    await self._session(conn, stop)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                self._set_health(last_error=self._describe_failure(exc))
            except InvalidURI as exc:
                self._set_health(state=LinkState.STOPPED, last_error=f"bad dispatch URL: {exc}")
                raise
            except StoreWriteError as exc:  # read-only, full or locked: nothing acknowledged
                log.error("%s; reconnecting", exc)
                self._set_health(last_error=str(exc))
            except Exception as exc:  # e.g. the database is locked or full: retry, never die
                log.exception("dispatch session failed; reconnecting")
                self._set_health(last_error=f"{type(exc).__name__}: {exc}")
            finally:
                self.conn = None
            if stop.is_set():
                break
            # Only a subscription dispatch accepted resets the backoff: a notifier that takes the
            # connection and then refuses (or never answers) is not reconnected to in a storm.
            if self._accepted:
                attempt = 0
            delay = backoff_delay(attempt, self.backoff_base_s, self.backoff_cap_s, self.rng)
            attempt += 1
            self._set_health(state=LinkState.RECONNECTING, attempts=attempt, retry_in_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        self._set_health(state=LinkState.STOPPED, retry_in_s=None)

    def _describe_failure(self, exc: BaseException) -> str:
        if (
            self.ssl is not None
            and isinstance(exc, InvalidMessage)
            and isinstance(exc.__cause__, EOFError)
        ):
            # TLS 1.3: a server that wants a client certificate (or not ours) says so in an
            # alert after the handshake, which reaches us only as a connection closed unanswered.
            if self.security.cert_file is None:
                return (
                    "TLS: dispatch closed the connection unanswered; it requires a client "
                    "certificate (set cert_file and key_file)"
                )
            return (
                "TLS: dispatch closed the connection unanswered; it may not accept our client "
                f"certificate ({self.security.cert_file})"
            )
        return _describe(exc)

    async def _subscribe(self, conn: ClientConnection, *, resume: bool) -> _Pending:
        rid = uuid.uuid4().hex
        sid = self.subscription_id if resume else None
        await conn.send(
            proto.encode(
                proto.subscribe(
                    rid, subscription_id=sid, expires=self.expires_s, min_rate=self.min_rate_s
                )
            )
        )
        return _Pending(rid, sid, time.monotonic() + self.subscribe_timeout_s)

    def read_documents(self, transaction_id: str, docs: list[Any]) -> Inbound:
        """Documents that did not come in a notification (the retrieval service's answers),
        read and checked as a notification's are: what cannot be used is in ``bad``."""
        batch = Inbound()
        self._event(
            {"transactionId": transaction_id, "notification": docs}, batch, self.clock.now()
        )
        return batch

    def note_calls(self, events: list[Event]) -> None:
        """Dispatch has just confirmed the calls these events are about."""
        self._note_calls(events)

    def _note_calls(self, events: list[Event]) -> None:
        now = self.clock.now()
        for e in events:
            cid = getattr(e, "call_id", None)
            if cid is None:
                call = getattr(e, "call", None)
                cid = getattr(call, "id", None)
            if isinstance(cid, str):
                self.call_seen_at[cid] = now

    def _silence_limit(self) -> float | None:
        if self.agreed_min_rate_s:
            return SILENCE_FACTOR * self.agreed_min_rate_s
        return self.silence_timeout_s

    async def _session(self, conn: ClientConnection, stop: asyncio.Event) -> None:
        self.agreed_expires_s = self.agreed_min_rate_s = None
        pending: _Pending | None = await self._subscribe(
            conn, resume=self.subscription_id is not None
        )
        renew_at: float | None = None
        self.last_frame_monotonic = time.monotonic()
        inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()

        async def reader() -> None:
            try:
                while True:
                    # Raw bytes: a text frame that is not UTF-8 is quarantined by _prepare
                    # (websockets itself would close the link on it, and dispatch resend it).
                    raw = await conn.recv(decode=False)
                    self.last_frame_monotonic = time.monotonic()
                    inbox.put_nowait(raw)
            except ConnectionClosedOK:
                pass
            except ConnectionClosed as exc:
                self._set_health(last_error=_describe(exc))
            finally:
                inbox.put_nowait(None)

        async def answered(body: dict[str, Any]) -> bool:
            """Handle a subscribeResponse; False ends the session."""
            nonlocal pending, renew_at
            rid = body.get("requestId")
            if pending is None or (rid is not None and rid != pending.request_id):
                log.debug("ignoring an unexpected subscribeResponse %s", rid)
                return True
            asked, pending = pending, None
            code, text = body["statusCode"], body["statusText"]
            sid = body.get("subscriptionId")
            if code != proto.STATUS_OK or not sid:
                if asked.subscription_id is not None:
                    # The notifier no longer knows the old subscription (a new socket, or it
                    # expired): take a new one at once, here, rather than reconnecting.
                    log.info("subscription %s refused (%s %s)", asked.subscription_id, code, text)
                    self.subscription_id = None
                    self.fresh_after_refusal += 1
                    pending = await self._subscribe(conn, resume=False)
                    return True
                self._set_health(last_error=f"subscribe refused: {code} {text}")
                return False
            renewal = self._accepted and sid == self.subscription_id
            self.subscription_id = sid
            exp, rate = body.get("expires"), body.get("minRate")
            self.agreed_expires_s = float(exp) if isinstance(exp, int) and exp > 0 else None
            self.agreed_min_rate_s = float(rate) if isinstance(rate, int) and rate > 0 else None
            now_m = time.monotonic()
            renew_at = now_m + RENEW_AT * self.agreed_expires_s if self.agreed_expires_s else None
            if renewal:
                self.renewals += 1
                return True
            self._accepted = True
            self.subscribed_at = self.clock.now()
            self.reconciled_at = None
            self._set_health(state=LinkState.UP, attempts=0, retry_in_s=None, last_error="")
            await self.sink.on_connected(self)
            return True

        reader_task = asyncio.create_task(reader())
        stopper = asyncio.create_task(stop.wait())
        committing: asyncio.Task[None] | None = None
        try:
            while True:
                now_m = time.monotonic()
                deadlines: list[tuple[float, str]] = []
                if pending is not None:
                    deadlines.append((pending.deadline, "subscribe"))
                elif renew_at is not None:
                    deadlines.append((renew_at, "renew"))
                limit = self._silence_limit()
                if self._accepted and limit is not None:
                    deadlines.append((self.last_frame_monotonic + limit, "silence"))
                if self._accepted and self.reconciled_at is None:
                    settled = inbox.empty() and (committing is None or committing.done())
                    quiet = now_m - self.last_frame_monotonic
                    if settled and quiet >= SETTLE_S:
                        self.reconciled_at = self.clock.now()
                    else:
                        deadlines.append((now_m + max(0.05, SETTLE_S - quiet), "settle"))
                wake = min(deadlines) if deadlines else None
                getter = asyncio.create_task(inbox.get())
                done, _ = await asyncio.wait(
                    {getter, stopper},
                    timeout=None if wake is None else max(0.0, wake[0] - now_m),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if stopper in done:
                    getter.cancel()
                    return
                if getter not in done:
                    getter.cancel()
                    assert wake is not None
                    if wake[1] == "subscribe":
                        self._set_health(
                            last_error="no answer to subscribe within "
                            f"{_secs(self.subscribe_timeout_s)} s"
                        )
                        return
                    if wake[1] == "silence":
                        if time.monotonic() - self.last_frame_monotonic < (limit or 0):
                            continue  # a frame arrived meanwhile
                        self._set_health(
                            last_error=f"no message or keep-alive for {_secs(limit or 0)} s"
                        )
                        return
                    if wake[1] == "settle":
                        continue
                    pending = await self._subscribe(conn, resume=True)  # renew before expiry
                    renew_at = None
                    continue
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
                # Answers to subscribe are the link's business (here); the rest is the feed.
                rest: list[str | bytes] = []
                for raw in frames:
                    body = _subscribe_answer(raw)
                    if body is None:
                        rest.append(raw)
                        continue
                    self.frames_received += 1
                    self.last_content_monotonic = time.monotonic()
                    self._set_health(last_message_at=self.clock.now())
                    if not await answered(body):
                        return
                if not rest:
                    continue
                # Decode this batch while the previous one commits; commits stay in order and
                # each batch is acknowledged only after its own commit.
                self.busy = True
                batch, keep_going = await self._prepare(conn, rest)
                self._note_calls(batch.events)
                if batch.eidos or batch.answers or batch.bad or not batch.transactions:
                    self.last_content_monotonic = time.monotonic()  # more than keep-alives
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
            try:
                msg = proto.decode(raw, self.limits)
            except proto.ProtocolError as exc:
                batch.bad.append(Bad(_text_of(raw), f"protocol: {exc}"))
                if exc.transaction_id:
                    batch.refuse(exc.transaction_id, f"protocol: {exc}")
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
                self._event(
                    msg.body, batch, now, len(raw) if isinstance(raw, bytes) else 4 * len(raw)
                )
            elif msg.kind in ("commandResponse", "response"):
                try:
                    answer = proto.answer_of(msg)
                    if answer.answered_at is not None:
                        check_time(
                            f"{msg.kind}.answeredAt",
                            answer.answered_at,
                            self.data_clock.now(),
                            self.limits,
                        )
                except proto.ProtocolError as exc:
                    batch.bad.append(Bad(_text_of(raw), f"protocol: {exc}"))
                except InputRefused as exc:
                    batch.bad.append(Bad(_text_of(raw), f"limit: {exc}"))
                else:
                    batch.answers.append(answer)
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
                why = next(
                    (
                        batch.rejected_why[s]
                        for s in sorted(sids & rejected)
                        if s in batch.rejected_why
                    ),
                    "lifecycle: out of order",
                )
                acks.append(proto.event_response(tid, proto.STATUS_BAD_REQUEST, why[:200]))
            else:
                acks.append(proto.event_response(tid, proto.STATUS_OK, "OK"))
        for tid, why in batch.refused.items():
            if tid not in batch.transactions:
                acks.append(proto.event_response(tid, proto.STATUS_BAD_REQUEST, why[:200]))
        for a in acks:
            await conn.send(proto.encode(a))
        self.busy = False

    def _event(
        self, body: dict[str, Any], batch: Inbound, now: datetime, frame_bytes: int = 0
    ) -> None:
        """Each document on its own: one that breaks a limit, fails the schema or cannot be
        read at all is quarantined with its reason and its notification answered 400; the
        others, in this notification and after it, go on."""
        tid = body["transactionId"]
        sids = batch.transactions.setdefault(tid, set())
        limits = self.limits
        docs = body.get("notification") or []
        # A document is no longer than its frame: only a large frame can hold a large one.
        sized = frame_bytes > limits.max_document_bytes
        data_now = self.data_clock.now() if self.data_clock is not self.clock else now
        for i, doc in enumerate(docs):
            batch.eidos += 1
            self.eidos_received += 1
            try:
                check_value(doc, limits, f"notification[{i}]", 4)
                if sized:
                    check_document_size(doc, limits)
                parsed = parse_eido(doc, recorded_at=now)
                check_times(parsed.events, data_now, limits)
            except InputRefused as exc:
                why = f"limit: {exc}"
            except (EidoError, UnknownCode) as exc:
                kind = "unknown code" if isinstance(exc, UnknownCode) else "schema"
                why = f"{kind}: {exc}"
            except OverflowError as exc:
                why = f"limit: a timestamp is out of range in UTC ({exc})"
            except RecursionError:
                why = f"limit: nesting deeper than {limits.max_depth} levels"
            except Exception as exc:  # whatever else a document does, it is this one's problem
                why = f"schema: {type(exc).__name__}: {exc}"
            else:
                batch.events.extend(parsed.events)
                batch.docs.append(Doc(tid, doc, parsed.events))
                sids.update(e.source_id for e in parsed.events)
                if parsed.call is not None and parsed.persons:
                    batch.persons[parsed.call.id] = parsed.persons
                continue
            batch.bad.append(Bad(dumps_raw(doc), why))
            batch.refuse(tid, why)


def _text_of(raw: str | bytes) -> str:
    """A frame as text for the quarantine: bytes that are not UTF-8 kept as ``\\xNN``."""
    return raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")


def _subscribe_answer(raw: str | bytes) -> dict[str, Any] | None:
    """The body of a well-formed subscribeResponse frame, else None (left to the feed)."""
    text = raw if isinstance(raw, str) else raw[:64].decode("utf-8", "replace")
    if not _SUBSCRIBE_ANSWER.match(text):
        return None
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    body = obj.get("subscribeResponse") if isinstance(obj, dict) and len(obj) == 1 else None
    code = body.get("statusCode") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    # A notifier answers a subscribe it cannot read with a 400 that has no requestId.
    assert isinstance(body, dict)
    rid, sid = body.get("requestId"), body.get("subscriptionId")
    return {
        **body,
        "requestId": rid if isinstance(rid, str) else None,
        "subscriptionId": sid if isinstance(sid, str) else None,
        "statusText": str(body.get("statusText", "")),
    }


def _secs(s: float) -> str:
    return f"{s:g}"


def _describe(exc: BaseException) -> str:
    for e in (exc, exc.__cause__, exc.__context__):
        tls = describe_tls_error(e) if e is not None else None
        if tls is not None:
            return tls
    if isinstance(exc, ConnectionClosed):
        return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


AsyncFn = Callable[[], Awaitable[None]]
