"""A notifier that behaves on the wire like an independent public STA-024 server (a CAD's).

What it does, as that server does (tests/fixtures/wire/ holds its sample messages):

- serves the WebSocket only on a path containing ``/IncidentData/ent`` (case-insensitive);
- one subscription per socket, forgotten with the socket: a subscribe naming any other id gets
  ``404 "Not Found"``; a subscribe without an id while one exists ends the old one (terminate)
  and answers a new GUID; a subscribe with the socket's own id is a renewal (200, same id, the
  expiry clock restarted, the original ``expires``/``minRate`` kept);
- ``expires`` (min ``min_expires_s``) ends the subscription: ``terminate``, a wait of at most
  1 s for ``terminateResponse``, then the socket is closed;
- every ``minRate`` seconds an empty notification (``"notification": []``) is sent and an
  ``eventResponse`` awaited for 1 s; three missed in a row close the socket;
- notifications are sent once and never retransmitted (an ``eventResponse`` is awaited 5 s and
  only logged); frames are classified by substring as that server does;
- bad JSON is answered ``{"subscribeResponse": {"statusCode": 400, "statusText": "Bad Request"}}``
  without a requestId.

As the application around that server would, it sends the current documents of every incident
to a new subscription (its picture of now), then live documents as they are published.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl as ssl_mod
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

PATH = "/IncidentData/ent"


@dataclass
class _Sub:
    id: str
    expires: int
    min_rate: int
    deadline: float = 0.0
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    term_ack: asyncio.Event = field(default_factory=asyncio.Event)


class PeerServer:
    def __init__(
        self,
        *,
        min_expires_s: int = 15,
        min_rate_floor_s: int = 5,
        ssl: ssl_mod.SSLContext | None = None,
        path: str = PATH,
    ) -> None:
        self.min_expires_s = min_expires_s
        self.min_rate_floor_s = min_rate_floor_s
        self.ssl = ssl
        self.path = path
        self.received: list[dict[str, Any]] = []
        """Every well-formed message received, in order, from every socket."""
        self.sent: list[dict[str, Any]] = []
        self.refused_paths: list[str] = []
        self.current: dict[str, dict[str, Any]] = {}
        """Incident $id -> its latest document (what a new subscription is sent first)."""
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._socks: dict[ServerConnection, _Sub | None] = {}
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    # -- thread-safe controls ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl else 'ws'}://127.0.0.1:{self.port}{self.path}"

    def start(self) -> PeerServer:
        self._thread.start()
        assert self._ready.wait(10), "peer server did not start"
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def publish(self, docs: list[dict[str, Any]]) -> None:
        """Send documents to every subscription now (once: no retransmission)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self._publish, docs)

    def forget(self, doc_id: str) -> None:
        """The application stops sending this incident to new subscriptions."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.current.pop, doc_id, None)

    def drop_connections(self) -> None:
        """Cut every socket without a close handshake (a network failure)."""
        assert self.loop is not None

        def cut() -> None:
            for conn in list(self._socks):
                conn.transport.abort()

        self.loop.call_soon_threadsafe(cut)

    def messages(self, kind: str) -> list[dict[str, Any]]:
        return [next(iter(m.values())) for m in list(self.received) if kind in m]

    def subscriptions(self) -> int:
        return sum(1 for s in list(self._socks.values()) if s is not None)

    # -- the server ---------------------------------------------------------------------------------

    def _publish(self, docs: list[dict[str, Any]]) -> None:
        for d in docs:
            self.current[str(d.get("$id"))] = d
        for conn, sub in list(self._socks.items()):
            if sub is not None:
                asyncio.get_running_loop().create_task(self._notify(conn, sub, docs))

    async def _send(self, conn: ServerConnection, msg: dict[str, Any]) -> None:
        self.sent.append(msg)
        with contextlib.suppress(ConnectionClosed):
            await conn.send(json.dumps(msg))

    async def _notify(self, conn: ServerConnection, sub: _Sub, docs: list[dict[str, Any]]) -> None:
        sub.acked.clear()
        await self._send(
            conn,
            {
                "event": {
                    "subscriptionId": sub.id,
                    "transactionId": str(uuid.uuid4()),
                    "notification": docs,
                }
            },
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sub.acked.wait(), 5)  # a timeout is only logged there

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if self.path.lower() in request.path.lower():
            return None
        self.refused_paths.append(request.path)
        return Response(404, "Not Found", Headers(), b"Not Found")

    async def _handler(self, conn: ServerConnection) -> None:
        self._socks[conn] = None
        tasks: list[asyncio.Task[None]] = []
        try:
            async for raw in conn:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                try:
                    msg = json.loads(text)
                    body = next(iter(msg.values()))
                    assert isinstance(body, dict)
                except Exception:
                    await self._send(
                        conn,
                        {"subscribeResponse": {"statusCode": 400, "statusText": "Bad Request"}},
                    )
                    continue
                self.received.append(msg)
                if "unsubscribe" in text:
                    sub = self._socks.get(conn)
                    ok = sub is not None and body.get("subscriptionId") == sub.id
                    await self._send(
                        conn,
                        {
                            "unsubscribeResponse": {
                                "requestId": body.get("requestId"),
                                "subscriptionId": body.get("subscriptionId"),
                                "statusCode": 200 if ok else 481,
                                "statusText": "OK" if ok else "Subscription does not exist",
                            }
                        },
                    )
                    await conn.close()
                    return
                if "subscribe" in text and "subscribeResponse" not in text:
                    tasks += await self._subscribe(conn, body)
                elif "eventResponse" in text:
                    sub = self._socks.get(conn)
                    if sub is not None:
                        sub.acked.set()
                elif "terminateResponse" in text:
                    sub = self._socks.get(conn)
                    if sub is not None:
                        sub.term_ack.set()
        except ConnectionClosed:
            pass
        finally:
            self._socks.pop(conn, None)  # the subscription is forgotten with its socket
            for t in tasks:
                t.cancel()

    async def _subscribe(self, conn: ServerConnection, body: dict[str, Any]) -> list[Any]:
        rid = body.get("requestId")
        loop = asyncio.get_running_loop()
        cur = self._socks.get(conn)
        sid = body.get("subscriptionId")
        if sid:
            if cur is None or sid != cur.id:
                await self._send(
                    conn,
                    {
                        "subscribeResponse": {
                            "requestId": rid,
                            "subscriptionId": sid,
                            "statusCode": 404,
                            "statusText": "Not Found",
                        }
                    },
                )
                return []
            # A renewal: the clock restarts, the original expires/minRate stay.
            cur.deadline = loop.time() + cur.expires if cur.expires else 0.0
            await self._send(conn, self._answer(rid, cur))
            return []
        if cur is not None:
            await self._send(
                conn, {"terminate": {"requestId": str(uuid.uuid4()), "subscriptionId": cur.id}}
            )
        exp = int(body.get("expires") or 0)
        rate = int(body.get("minRate") or 0)
        sub = _Sub(
            str(uuid.uuid4()),
            max(self.min_expires_s, exp) if exp else 0,
            max(self.min_rate_floor_s, rate) if rate else 0,
        )
        sub.deadline = loop.time() + sub.expires if sub.expires else 0.0
        self._socks[conn] = sub
        await self._send(conn, self._answer(rid, sub))
        tasks = []
        if self.current:
            tasks.append(loop.create_task(self._notify(conn, sub, list(self.current.values()))))
        if sub.expires:
            tasks.append(loop.create_task(self._expiry(conn, sub)))
        if sub.min_rate:
            tasks.append(loop.create_task(self._keepalive(conn, sub)))
        return tasks

    @staticmethod
    def _answer(rid: Any, sub: _Sub) -> dict[str, Any]:
        body: dict[str, Any] = {"requestId": rid, "subscriptionId": sub.id}
        if sub.expires:
            body["expires"] = sub.expires
        if sub.min_rate:
            body["minRate"] = sub.min_rate
        body.update(statusCode=200, statusText="OK")
        return {"subscribeResponse": body}

    async def _expiry(self, conn: ServerConnection, sub: _Sub) -> None:
        loop = asyncio.get_running_loop()
        while self._socks.get(conn) is sub:
            left = sub.deadline - loop.time()
            if left > 0:
                await asyncio.sleep(left)
                continue
            await self._send(
                conn, {"terminate": {"requestId": str(uuid.uuid4()), "subscriptionId": sub.id}}
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.term_ack.wait(), 1)
            self._socks[conn] = None
            await conn.close()
            return

    async def _keepalive(self, conn: ServerConnection, sub: _Sub) -> None:
        missed = 0
        while self._socks.get(conn) is sub:
            await asyncio.sleep(sub.min_rate)
            if self._socks.get(conn) is not sub:
                return
            sub.acked.clear()
            await self._send(
                conn,
                {
                    "event": {
                        "subscriptionId": sub.id,
                        "transactionId": str(uuid.uuid4()),
                        "notification": [],
                    }
                },
            )
            try:
                await asyncio.wait_for(sub.acked.wait(), 1)
                missed = 0
            except TimeoutError:
                missed += 1
                if missed >= 3:
                    self._socks[conn] = None
                    await conn.close()
                    return

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(
            self._handler,
            "127.0.0.1",
            0,
            ssl=self.ssl,
            process_request=self._process_request,
            ping_interval=10,
            max_size=2**24,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()
