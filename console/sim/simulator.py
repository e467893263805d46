"""The dispatch simulator: a real WebSocket notifier speaking the console's dispatch protocol.

It serves NENA-STA-024 subscribe/notify with one EIDO per change, retransmits every notification
until the subscriber acknowledges it, sends the current state of every unit and incident when a
subscriber (re)subscribes, applies the console's commands as a CAD would, and can inject faults
(drop, duplicate, reorder, malformed, periodic disconnect). At the end of the shift it waits for
every subscriber to acknowledge everything (at most 30 s) and writes its ground truth.

``responder-console dispatch-sim`` runs it (console/cli/sim.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import math
import random
import socket
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from ssl import CERT_REQUIRED, SSLContext
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from console.domain.model import CallStatus, TeamStatus
from console.domain.projection import State
from console.files import write_private
from console.sim.world import (
    DEFAULT_RATE_PER_HOUR,
    GeneratedShift,
    World,
    load_roster,
    roster_of_size,
)
from console.wire import protocol as proto
from console.wire.eido import EidoError, build_incident_eido, build_unit_eido, escalation_request_of
from console.wire.registry import UnknownCode

log = logging.getLogger("console.sim.simulator")

BATCH = 64
"""EIDOs per notification frame at most."""
ACK_TIMEOUT_S = 1.0
MAX_NACKS = 4
DRAIN_LIMIT_S = 30.0
TICK_S = 0.05
STEP_TASKS = 400


# -- faults ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Faults:
    drop: float = 0.0
    dup: float = 0.0
    reorder: float = 0.0
    malformed: float = 0.0
    disconnect: float = 0.0
    """Close every subscriber's connection every this many wall seconds (0: never)."""

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """``drop=0.02,dup=0.05,reorder=0.05,malformed=0.01,disconnect=30``."""
        if not spec:
            return cls()
        vals: dict[str, float] = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, raw = part.partition("=")
            name = name.strip()
            if not sep or name not in cls.__dataclass_fields__:
                known = ", ".join(cls.__dataclass_fields__)
                raise ValueError(f"--faults: {part!r} is not NAME=VALUE with NAME one of {known}")
            try:
                v = float(raw)
            except ValueError:
                raise ValueError(f"--faults: {name}={raw!r} is not a number") from None
            if not math.isfinite(v) or v < 0 or (name != "disconnect" and v > 1):
                raise ValueError(f"--faults: {name}={raw} is out of range")
            vals[name] = v
        return cls(**vals)

    @property
    def any(self) -> bool:
        return bool(self.drop or self.dup or self.reorder or self.malformed or self.disconnect)


def corrupt(frame: str, rng: random.Random) -> tuple[str, str]:
    """A malformed variant of a frame and what kind of malformation it is."""
    # Unknown codes are kept by the reader, not refused: every variant here is one it must refuse.
    kind = rng.choice(["not_json", "schema", "unreadable_field", "not_a_message"])
    if kind == "not_json":
        return frame[: max(1, len(frame) // 2)], kind
    if kind == "not_a_message":
        return json.dumps({"notAMessage": {"x": 1}}), kind
    msg = json.loads(frame)
    docs = msg.get("event", {}).get("notification") or []
    if not docs:
        return frame[: max(1, len(frame) // 2)], "not_json"
    doc = docs[0]
    if kind == "schema":
        doc.pop("agencyComponent", None)
        doc["eidoVersion"] = 2
    elif "incidentComponent" in doc:
        doc["incidentComponent"]["lastUpdateTimeStamp"] = "XYZZY"
    else:
        for u in doc.get("emergencyResourceComponent", []):
            u["primaryUnitStatusRegistryText"] = ["Snoozing", 7]
    return json.dumps(msg), kind


# -- subscriptions -------------------------------------------------------------------------------


@dataclass
class _Pending:
    frame: str
    count: int
    sent_at: float = 0.0
    nacks: int = 0
    seq: int = 0
    """Send order on this subscription (renewed on each retransmission)."""


@dataclass
class Subscription:
    id: str
    conn: ServerConnection | None = None
    pending: OrderedDict[str, _Pending] = field(default_factory=OrderedDict)
    queue: asyncio.Queue[str | None] | None = None
    acked: int = 0
    reconciled: bool = False
    send_seq: int = 0
    max_acked_seq: int = 0
    last_ack: float = 0.0
    min_rate: float | None = None
    """Keep-alive period the subscriber asked for (an empty notification when idle)."""
    renewals: int = 0

    def stamp(self, p: _Pending, now: float) -> None:
        self.send_seq += 1
        p.seq = self.send_seq
        p.sent_at = now

    def overdue(self, p: _Pending, now: float, timeout: float) -> bool:
        """Lost, as far as the notifier can tell.

        The link is ordered, so a notification sent before one already acknowledged was lost
        (dropped, or refused); otherwise only a subscriber silent for a good while means loss —
        a busy one committing a large backlog is not retransmitted to.
        """
        if now - p.sent_at <= timeout:
            return False
        if p.seq < self.max_acked_seq:
            return True
        return now - max(p.sent_at, self.last_ack) > 5 * timeout


@dataclass
class Stats:
    notifications: int = 0
    eidos: int = 0
    frames_sent: int = 0
    retransmits: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    malformed: int = 0
    disconnects: int = 0
    commands: int = 0
    acks: int = 0
    nacks: int = 0
    keepalives: int = 0


# -- the server ----------------------------------------------------------------------------------


class ExposureError(ValueError):
    """The simulator was asked to listen beyond this machine without mutual TLS."""


def is_loopback(host: str | None) -> bool:
    """True when every address ``host`` stands for is this machine's loopback (127.0.0.0/8,
    ::1). All interfaces (``""``, ``0.0.0.0``, ``::``), or a name that does not resolve, is not."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(
        ipaddress.ip_address(str(a).split("%", 1)[0]).is_loopback for a in addrs
    )


def _resolves(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        return bool(socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP))
    except (OSError, UnicodeError):
        return False


def exposure_problem(host: str | None, ssl: SSLContext | None) -> str | None:
    """Why the simulator may not listen on ``host`` with ``ssl``, or None.

    Its feed is a dispatch center's (names, places, health details in realistic form) and it
    obeys whoever subscribes: on loopback anyone on this machine may connect; beyond it, only a
    client holding a certificate of the CA it is given (mutual TLS)."""
    if is_loopback(host):
        return None
    if host and not _resolves(host):
        return f"cannot listen on {host}: the name does not resolve"
    if ssl is not None and ssl.verify_mode == CERT_REQUIRED:
        return None
    where = host or "all interfaces"
    need = "a client CA" if ssl is not None else "TLS and a client CA"
    return (
        f"refusing to listen on {where} without {need} (mutual TLS): give --tls-cert, "
        "--tls-key and --client-ca, or listen on 127.0.0.1"
    )


class DispatchSimulator:
    """World + notifier. Run with ``await sim.serve(host, port)``; ``sim.port`` once listening."""

    def __init__(
        self,
        world: World,
        *,
        speed: float = 1.0,
        faults: Faults = Faults(),
        seed: int = 1,
        state_out: str | Path | None = None,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        batch: int = BATCH,
    ) -> None:
        self.world = world
        self.speed = speed
        self.faults = faults
        self.rng = random.Random(seed ^ 0x5EED)
        self.state_out = Path(state_out) if state_out else None
        self.ack_timeout_s = ack_timeout_s
        self.batch = batch
        self.subs: dict[str, Subscription] = {}
        self.stats = Stats()
        self.deliveries: dict[str, int] = {}
        """Times each command (by idempotency key) reached dispatch: resends included."""
        self.port: int | None = None
        self._server: Server | None = None
        self._stop = asyncio.Event()
        self._draining = False
        self._chains: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        self._t0 = time.monotonic()
        self._sim0 = world.now
        self.ever_subscribed = False
        self.last_ack_at = 0.0
        self.exit_reason = ""

    # -- simulated time ------------------------------------------------------------------------

    def sim_now(self) -> datetime:
        return self._sim0 + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    # -- turning changes into EIDOs --------------------------------------------------------------

    def _doc(self, kind: str, snap: Any) -> tuple[str, dict[str, Any]]:
        if kind == "team":
            return snap.team.status.value, build_unit_eido(snap)
        return snap["call"].status.value, build_incident_eido(**snap)

    def _collect(self) -> list[dict[str, Any]]:
        return [doc for _, _, _, doc in self.collect_items()]

    def collect_items(self) -> list[tuple[str, str, Any, dict[str, Any]]]:
        """(kind, id, snapshot, EIDO) for the changes since the last tick, in order.

        Each status step of an entity is kept (a subscriber must be able to walk a legal path);
        consecutive same-status changes (a team moving, a note added) are coalesced to the last.
        """
        snaps = self.world.take_snapshots()
        if not snaps:
            return []
        kept: list[tuple[str, str, Any] | None] = []
        last: dict[tuple[str, str], tuple[int, str]] = {}
        for kind, eid, snap in snaps:
            status = snap.team.status.value if kind == "team" else snap["call"].status.value
            k = (kind, eid)
            prev = last.get(k)
            if prev is not None and prev[1] == status:
                kept[prev[0]] = None
            last[k] = (len(kept), status)
            kept.append((kind, eid, snap))
        out: list[tuple[str, str, Any, dict[str, Any]]] = []
        for item in kept:
            if item is None:
                continue
            kind, eid, snap = item
            status, doc = self._doc(kind, snap)
            self._chain(kind, eid, status, doc)
            out.append((kind, eid, snap, doc))
        return out

    def _chain(self, kind: str, eid: str, status: str, doc: dict[str, Any]) -> None:
        """Per entity, the documents a late subscriber needs to walk a legal path to now.

        A team's chain starts at its last ``available``; an open call's at its creation, a
        closed call's is its final document. Same-status updates replace the chain's tail.
        """
        chain = self._chains.setdefault((kind, eid), [])
        rest = (kind == "team" and status == TeamStatus.AVAILABLE.value) or (
            kind == "call" and not CallStatus(status).is_open
        )
        if rest:
            chain.clear()
        elif chain and chain[-1][0] == status:
            chain.pop()
        chain.append((status, doc))

    def reconciliation(self) -> list[dict[str, Any]]:
        teams = [d for (k, _), c in sorted(self._chains.items()) if k == "team" for _, d in c]
        calls = [d for (k, _), c in sorted(self._chains.items()) if k == "call" for _, d in c]
        return teams + calls

    # -- publishing ----------------------------------------------------------------------------

    def _frames(self, sub: Subscription, docs: list[dict[str, Any]]) -> None:
        assert sub.queue is not None
        for i in range(0, len(docs), self.batch):
            part = docs[i : i + self.batch]
            tid = uuid.uuid4().hex
            frame = proto.encode(proto.event(sub.id, tid, part))
            pend = _Pending(frame, len(part))
            sub.stamp(pend, time.monotonic())
            sub.pending[tid] = pend
            self.stats.notifications += 1
            self.stats.eidos += len(part)
            sub.queue.put_nowait(frame)

    def publish(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        for sub in self.subs.values():
            if sub.conn is not None and sub.queue is not None:
                self._frames(sub, docs)

    def step(self) -> None:
        """Advance the world towards now and publish what changed.

        At most STEP_TASKS world steps per tick, so a fast replay never holds the event loop
        long enough to starve connections and acknowledgements (simulated time catches up over
        the following ticks).
        """
        if not self.world.finished:
            self.world.advance_to(self.sim_now(), max_tasks=STEP_TASKS)
        self.publish(self._collect())

    # -- connections ---------------------------------------------------------------------------

    async def _handler(self, conn: ServerConnection) -> None:
        sub: Subscription | None = None
        writer: asyncio.Task[None] | None = None
        try:
            async for raw in conn:
                try:
                    msg = proto.decode(raw)
                except proto.ProtocolError as exc:
                    log.warning("bad frame from subscriber: %s", exc)
                    continue
                if msg.kind == "subscribe":
                    sub, writer = self._subscribe(conn, msg.body, sub, writer)
                elif msg.kind == "eventResponse" and sub is not None:
                    self._ack(sub, msg.body)
                elif msg.kind == "unsubscribe" and sub is not None:
                    await conn.send(
                        proto.encode(proto.unsubscribe_response(msg.body["requestId"], sub.id))
                    )
                    self._detach(sub)
                    self.subs.pop(sub.id, None)
                    sub = None
                elif msg.kind == "terminateResponse":
                    pass
                elif msg.kind in ("command", "requestForService"):
                    self._command(conn, sub, msg)
                else:
                    await conn.send(
                        proto.encode(
                            {
                                "response": {
                                    "requestId": str(msg.body.get("requestId", "")),
                                    "statusCode": 501,
                                    "statusText": "Not implemented",
                                }
                            }
                        )
                    )
        except ConnectionClosed:
            pass
        finally:
            if sub is not None:
                self._detach(sub)
            if writer is not None:
                writer.cancel()

    def _subscribe(
        self,
        conn: ServerConnection,
        body: dict[str, Any],
        old: Subscription | None,
        old_writer: asyncio.Task[None] | None,
    ) -> tuple[Subscription | None, asyncio.Task[None] | None]:
        rid = body["requestId"]
        rtype = body.get("requestType", "EIDO")
        if not isinstance(rtype, str) or rtype.upper() != "EIDO":
            conn_send_nowait(
                conn, proto.subscribe_response(rid, None, 400, "requestType must be EIDO")
            )
            return old, old_writer
        rate = body.get("minRate")
        min_rate = max(1, rate) if isinstance(rate, int) and not isinstance(rate, bool) else None
        if old is not None and old.conn is conn and body.get("subscriptionId") == old.id:
            # A renewal on the same connection: the subscription goes on, nothing is resent.
            old.renewals += 1
            old.min_rate = min_rate or old.min_rate
            assert old.queue is not None
            old.queue.put_nowait(
                proto.encode(proto.subscribe_response(rid, old.id, min_rate=min_rate))
            )
            return old, old_writer
        if old is not None:
            self._detach(old)
        if old_writer is not None:
            old_writer.cancel()
        sid = body.get("subscriptionId")
        sub = self.subs.get(sid) if isinstance(sid, str) else None
        if sub is None:
            sub = Subscription(uuid.uuid4().hex)
            self.subs[sub.id] = sub
        # Everything unacknowledged is superseded by the reconciliation that follows.
        sub.pending.clear()
        sub.conn = conn
        sub.queue = asyncio.Queue()
        sub.reconciled = False
        sub.min_rate = min_rate
        self.ever_subscribed = True
        sub.queue.put_nowait(proto.encode(proto.subscribe_response(rid, sub.id, min_rate=rate)))
        self.publish(self._collect())  # flush live changes to others before the snapshot
        self._frames(sub, self.reconciliation())
        sub.reconciled = True
        writer = asyncio.get_running_loop().create_task(self._writer(sub, conn))
        return sub, writer

    def _detach(self, sub: Subscription) -> None:
        if sub.queue is not None:
            sub.queue.put_nowait(None)
        sub.conn = None
        sub.queue = None

    def _ack(self, sub: Subscription, body: dict[str, Any]) -> None:
        tid = body["transactionId"]
        p = sub.pending.get(tid)
        if p is None:
            return
        sub.last_ack = time.monotonic()
        sub.max_acked_seq = max(sub.max_acked_seq, p.seq)
        if body["statusCode"] == proto.STATUS_OK:
            del sub.pending[tid]
            sub.acked += p.count
            self.stats.acks += 1
            self.last_ack_at = time.monotonic()
            return
        # Refused (e.g. it arrived malformed or ahead of its predecessor): send it again.
        self.stats.nacks += 1
        p.nacks += 1
        if p.nacks > MAX_NACKS:
            log.warning(
                "giving up on %s after %d refusals: %s", tid, p.nacks, body.get("statusText")
            )
            del sub.pending[tid]
            return
        sub.stamp(p, time.monotonic())
        if sub.queue is not None:
            self.stats.retransmits += 1
            sub.queue.put_nowait(p.frame)

    async def _writer(self, sub: Subscription, conn: ServerConnection) -> None:
        q = sub.queue
        assert q is not None
        held: str | None = None
        f = self.faults
        rng = self.rng
        try:
            while True:
                idle = 0.2 if held else sub.min_rate
                try:
                    frame = await asyncio.wait_for(q.get(), timeout=idle) if idle else await q.get()
                except TimeoutError:
                    frame, held = held, None
                    if frame is not None:
                        await conn.send(frame)
                    else:  # nothing to say for minRate seconds: an empty notification
                        keep = proto.event(sub.id, uuid.uuid4().hex, [])
                        await conn.send(proto.encode(keep))
                        self.stats.keepalives += 1
                    continue
                if frame is None:
                    return
                is_event = frame.startswith('{"event"')
                if is_event and f.drop and rng.random() < f.drop:
                    self.stats.dropped += 1
                    continue
                out = frame
                if is_event and f.malformed and rng.random() < f.malformed:
                    out, _ = corrupt(frame, rng)
                    self.stats.malformed += 1
                if is_event and f.reorder and held is None and rng.random() < f.reorder:
                    held = out
                    self.stats.reordered += 1
                    continue
                await conn.send(out)
                self.stats.frames_sent += 1
                if is_event and f.dup and rng.random() < f.dup:
                    await conn.send(out)
                    self.stats.duplicated += 1
                if held is not None:
                    await conn.send(held)
                    held = None
        except (ConnectionClosed, asyncio.CancelledError):
            return

    def _command(
        self, conn: ServerConnection, sub: Subscription | None, msg: proto.Message
    ) -> None:
        self.stats.commands += 1
        b = msg.body
        self.step()  # the command lands in the world as of now
        if msg.kind == "requestForService":
            key = b["requestId"]
            self.deliveries[key] = self.deliveries.get(key, 0) + 1
            try:
                call_id, target, _urgency, reason = escalation_request_of(b["eido"])
            except (EidoError, UnknownCode) as exc:
                conn_send_nowait(conn, proto.response_to_request(key, 400, str(exc)))
                return
            out = self.world.apply_command(
                key, "escalate", {"call_id": call_id, "target": target.value, "reason": reason}
            )
            code = 200 if out.accepted else proto.RESPONSE_DECLINED
            reply = proto.response_to_request(key, code, out.text, answered_at=out.answered_at)
        else:
            key = b["idempotencyKey"]
            self.deliveries[key] = self.deliveries.get(key, 0) + 1
            args = dict(b.get("args") or {})
            args.setdefault("operator", b.get("operator"))
            out = self.world.apply_command(key, str(b["kind"]), args)
            reply = proto.command_response(
                key,
                accepted=out.accepted,
                text=out.text,
                answered_at=out.answered_at,
                incident_id=out.call_id,
                version=out.version,
            )
        frame = proto.encode(reply)
        if sub is not None and sub.conn is conn and sub.queue is not None:
            sub.queue.put_nowait(frame)
        else:
            conn_send_nowait(conn, reply)
        self.publish(self._collect())  # then the resulting EIDO update

    # -- loops ---------------------------------------------------------------------------------

    async def _ticker(self) -> None:
        drain_started: float | None = None
        while not self._stop.is_set():
            self.step()
            now = time.monotonic()
            for sub in self.subs.values():
                if sub.conn is None or sub.queue is None:
                    continue
                for p in sub.pending.values():
                    if sub.overdue(p, now, self.ack_timeout_s):
                        sub.stamp(p, now)
                        self.stats.retransmits += 1
                        sub.queue.put_nowait(p.frame)
            if self.world.finished:
                if drain_started is None:
                    drain_started = now
                    self._draining = True
                    log.info("shift over at %s; waiting for acknowledgements", self.world.now)
                if self.all_acknowledged():
                    self.exit_reason = "all acknowledged"
                    break
                if now - drain_started > DRAIN_LIMIT_S:
                    self.exit_reason = "drain limit reached"
                    log.warning("not every notification was acknowledged within %ss", DRAIN_LIMIT_S)
                    break
            await asyncio.sleep(TICK_S)
        self._stop.set()

    def all_acknowledged(self) -> bool:
        live = [s for s in self.subs.values() if s.conn is not None]
        if not live:
            return False
        return all(s.reconciled and not s.pending for s in live)

    async def _disconnector(self) -> None:
        every = self.faults.disconnect
        while not self._stop.is_set():
            await asyncio.sleep(every)
            if self._draining:
                continue
            for sub in list(self.subs.values()):
                if sub.conn is not None:
                    self.stats.disconnects += 1
                    transport = sub.conn.transport
                    self._detach(sub)
                    with contextlib.suppress(Exception):
                        transport.abort()

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ready: asyncio.Event | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        """Serve until stopped; with ``ssl`` (see console.sync.transport.server_ssl_context) wss.

        Off loopback only with mutual TLS (:func:`exposure_problem`): :class:`ExposureError`."""
        problem = exposure_problem(host, ssl)
        if problem is not None:
            raise ExposureError(problem)
        self._t0 = time.monotonic()
        async with serve(
            self._handler, host, port, max_size=2**24, ping_interval=20, ssl=ssl
        ) as server:
            self._server = server
            sock = next(iter(server.sockets))
            self.port = sock.getsockname()[1]
            if ready is not None:
                ready.set()
            tasks = [asyncio.create_task(self._ticker())]
            if self.faults.disconnect:
                tasks.append(asyncio.create_task(self._disconnector()))
            await self._stop.wait()
            for t in tasks:
                t.cancel()
            for sub in self.subs.values():
                if sub.conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(
                            sub.conn.send(proto.encode(proto.terminate(uuid.uuid4().hex, sub.id))),
                            1.0,
                        )
        self.write_state()

    def stop(self) -> None:
        self.exit_reason = self.exit_reason or "stopped"
        self._stop.set()

    # -- ground truth --------------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        from console.store.read.views import state_json

        w = self.world
        st = State(calls=dict(w.calls), teams=dict(w.teams), positions=dict(w.positions))
        out = state_json(st, as_of=w.now)
        out["commands"] = [
            {
                "key": k,
                "kind": w.command_kinds.get(k, ""),
                "accepted": a.accepted,
                "answer": a.text,
                "applied": w.applied.get(k, 0),
                "delivered": self.deliveries.get(k, 0),
            }
            for k, a in sorted(w.answers.items())
        ]
        out["stats"] = {
            **self.stats.__dict__,
            "exit": self.exit_reason,
            "shift_start": w.start.isoformat(),
            "shift_end": w.now.isoformat(),
        }
        return out

    def write_state(self) -> None:
        if self.state_out is None:
            return
        write_private(self.state_out, json.dumps(self.truth(), indent=1))


def conn_send_nowait(conn: ServerConnection, msg: dict[str, Any]) -> None:
    asyncio.get_running_loop().create_task(_send_quiet(conn, proto.encode(msg)))


async def _send_quiet(conn: ServerConnection, frame: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await conn.send(frame)


# -- building a simulator from options -------------------------------------------------------------


def build(
    *,
    seed: int = 1,
    start: datetime | None = None,
    duration_h: float | None = None,
    rate_per_hour: float | None = None,
    teams: int | None = None,
    roster: str | None = None,
    from_csv: str | None = None,
    surge: float = 1.0,
) -> World:
    if from_csv:
        from console.sim.csv_replay import CsvReplay, read_csv

        shift = read_csv(from_csv)
        if not shift.calls:
            raise ValueError(f"{from_csv}: no rows with a receive time")
        t0 = shift.calls[0].received
        world = World(t0, seed=seed, id_prefix="CAD")
        CsvReplay(world, shift)
        if start is not None:
            log.info("--start is ignored with --from-csv: the export's own times are replayed")
        return world
    t0 = start or datetime.now(UTC).replace(microsecond=0)
    world = World(t0, seed=seed)
    specs = roster_of_size(load_roster(roster), teams)
    GeneratedShift(
        world,
        specs,
        rate_per_hour=rate_per_hour if rate_per_hour is not None else DEFAULT_RATE_PER_HOUR,
        surge=surge,
        duration_h=duration_h,
    )
    return world
