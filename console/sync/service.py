"""The sync service: dispatch feed -> event log, outbox -> dispatch.

Runs headless (``responder-console sync``) or inside the desktop console on a worker thread
(:meth:`SyncService.start` / :meth:`SyncService.stop`, both thread-safe; the GUI thread never
waits on the network). It reports link health and "what changed" through plain callbacks and a
queue; the UI marshals them onto its own thread.

Guarantees, and where they come from:

* no acknowledged notification is lost: the client acknowledges a batch only after
  :meth:`commit` has returned, i.e. after the store's transaction committed;
* no duplicate fact: every event carries a source id derived from its content, and the store
  deduplicates on it (a re-delivered or reconciled EIDO appends nothing);
* no regression: the projection is last-writer-wins on the record's own timestamp and version;
* bad input never stops the stream: it is quarantined with the reason and counted;
* a write the database refuses (read-only, disk full, locked too long) acknowledges nothing: the
  link reports "database cannot be written: <reason>" and reconnects, and after
  ``max_write_failures`` failures in a row the service stops with :attr:`write_failure` set;
* a command is applied once in effect: it is re-sent with the same idempotency key until dispatch
  answers, and dispatch answers a key it has seen with its first answer.

All database work runs on one dedicated thread (one writer), off the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from console.config import redact_url
from console.domain.clock import Clock, SystemClock
from console.domain.commands import EscalateCall
from console.domain.events import (
    Alert,
    AlertKind,
    AlertRaised,
    CallReceived,
    CallUpdated,
    Event,
    Severity,
    Source,
    UnservedReasonGiven,
)
from console.domain.followup import FollowUpPolicy
from console.domain.model import Call
from console.domain.projection import State
from console.domain.rules import ServiceHours
from console.domain.unserved import closed_at, infer_unserved_reason
from console.store.db import StoreWriteError, write_failure_reason
from console.store.records import AppendResult
from console.store.store import sender_identity
from console.sync.client import (
    MIN_RATE_S,
    SUBSCRIBE_EXPIRES_S,
    SUBSCRIBE_TIMEOUT_S,
    Bad,
    DispatchClient,
    Inbound,
    LinkHealth,
)
from console.sync.retrieval import IncidentRetrieval, RetrievalError
from console.sync.transport import LinkSecurity
from console.wire import protocol as proto
from console.wire.eido import build_incident_eido, iso
from console.wire.limits import FeedLimits

log = logging.getLogger("console.sync.service")

T = TypeVar("T")

OUTBOX_POLL_S = 0.25
RETRIEVAL_POLL_S = 0.5
RETRIEVAL_RETRY_S = 60.0
"""Calls still unconfirmed after a round are asked for again this long after it."""
RETRIEVAL_MAX_PER_ROUND = 500
OUTBOX_LEASE_S = 10.0
"""A claim outlives many polls, so a live sender always renews before it runs out."""
LINK_REPORT_S = 5.0
"""How often the link's health is recorded for consoles that share the database."""
RESEND_AFTER_S = 2.0
RESEND_CAP_S = 30.0
COMMITTED_MEMORY = 50_000


class SyncService:
    def __init__(
        self,
        store: Any,
        dispatch_url: str,
        *,
        clock: Clock | None = None,
        on_changes: Callable[[Any], None] | None = None,
        on_health: Callable[[LinkHealth], None] | None = None,
        exit_when_idle_s: float | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 15.0,
        seed: int | None = None,
        security: LinkSecurity | None = None,
        subscribe_timeout_s: float = SUBSCRIBE_TIMEOUT_S,
        silence_timeout_s: float | None = None,
        expires_s: int = SUBSCRIBE_EXPIRES_S,
        min_rate_s: int | None = MIN_RATE_S,
        max_write_failures: int | None = None,
        limits: FeedLimits | None = None,
        data_clock: Clock | None = None,
        retrieval_url: str | None = None,
        followups: FollowUpPolicy | None = None,
        program_hours: ServiceHours | None = None,
    ) -> None:
        if max_write_failures is not None and max_write_failures < 1:
            raise ValueError(f"max_write_failures must be at least 1, not {max_write_failures}")
        self.store = store
        self.followups = followups
        """The site's follow-up rules: a call dispatch closes that needs one gets it (None:
        the service opens none)."""
        self.data_clock = data_clock
        self.max_write_failures = max_write_failures
        """Failed writes in a row after which the service stops (None: never)."""
        self.write_failures = 0
        """Database writes failed in a row (0 once a commit succeeds)."""
        self.write_failure: StoreWriteError | None = None
        """Set when the service stopped because the database could not be written."""
        self.url = dispatch_url
        self.clock = clock or SystemClock()
        self.on_changes = on_changes
        self.on_health_cb = on_health
        self.exit_when_idle_s = exit_when_idle_s
        self.changes: queue.SimpleQueue[Any] = queue.SimpleQueue()
        """Every Changes record committed by this service, for a UI that polls."""
        self.client = DispatchClient(
            dispatch_url,
            self,
            clock=self.clock,
            backoff_base_s=backoff_base_s,
            backoff_cap_s=backoff_cap_s,
            seed=seed,
            on_health=self._health,
            security=security,
            subscribe_timeout_s=subscribe_timeout_s,
            silence_timeout_s=silence_timeout_s,
            expires_s=expires_s,
            min_rate_s=min_rate_s,
            limits=limits,
            data_clock=data_clock,
        )
        self.appended = 0
        self.duplicates = 0
        self.rejected = 0
        self.quarantined = 0
        self.answers = 0
        self.commands_sent = 0
        self._quarantine_seen: set[bytes] = set()
        self._persons_seen: dict[str, bytes] = {}
        self._conflicting: dict[str, str] = {}
        """Source ids refused as conflicting with a stored record -> why (bounded)."""
        self._committed: dict[str, None] = {}
        """Source ids known to be in the store, oldest first (bounded: memory stays flat)."""
        self._inflight: dict[str, str] = {}
        self._last_sent: dict[str, float] = {}
        self._db: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._last_activity = time.monotonic()
        self._health_lock = threading.Lock()
        self._health_now = self.client.health
        self.error: BaseException | None = None
        self.owner = sender_identity()
        """This sender's name in the outbox claims and the link reports."""
        self.retrieval = IncidentRetrieval(retrieval_url, security) if retrieval_url else None
        """The site's EIDO retrieval service, asked for open calls a reconnect did not re-send."""
        self.retrieved = 0
        self.retrieval_failures: dict[str, str] = {}
        """Call id -> why it could not be fetched (the last attempt); it stays unconfirmed."""
        self.not_at_dispatch: dict[str, datetime] = {}
        """Open calls the retrieval service does not know (404) -> when it said so."""
        self.program_hours = program_hours or ServiceHours()
        """The program's hours, to tell a call received outside them (``[program_hours]``)."""

    # -- state other threads may read ---------------------------------------------------------

    @property
    def health(self) -> LinkHealth:
        with self._health_lock:
            return self._health_now

    def unconfirmed_calls(self, state: Any = None) -> dict[str, datetime]:
        """Open calls dispatch has not re-sent since the link last came back, once the
        reconciliation after it is over: call id -> when dispatch last confirmed it (this run),
        or else the call's own last update. Empty while the link is down or reconciling.

        For "not confirmed since HH:MM" in the UI; reads the store's current state when
        ``state`` is not given (pass the picture's State from the GUI thread).
        """
        c = self.client
        since, done = c.subscribed_at, c.reconciled_at
        if since is None or done is None or not self.health.up:
            return {}
        st = state if state is not None else self.store.load_state()
        seen = dict(c.call_seen_at)
        out: dict[str, datetime] = {}
        for cid, call in st.calls.items():
            if not call.status.is_open:
                continue
            at = seen.get(cid)
            if at is None or at < since:
                out[cid] = at if at is not None else call.updated_at
        return out

    def _health(self, h: LinkHealth) -> None:
        with self._health_lock:
            self._health_now = h
        if self.on_health_cb is not None:
            self.on_health_cb(h)

    # -- the database thread -----------------------------------------------------------------

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._loop is not None and self._db is not None
        return await self._loop.run_in_executor(self._db, fn, *args)

    def _emit(self, changes: Any) -> None:
        if not changes:
            return
        self.changes.put(changes)
        if self.on_changes is not None:
            try:
                self.on_changes(changes)
            except Exception:
                log.exception("changes callback failed")

    # -- Sink: what the client hands over --------------------------------------------------------

    async def commit(self, batch: Inbound) -> set[str]:
        if batch.eidos or batch.answers or batch.bad or not batch.transactions:
            self._last_activity = time.monotonic()  # not for a keep-alive
        try:
            rejected = await self._in_db(self._commit_sync, batch)
        except Exception as exc:
            reason = write_failure_reason(exc)
            if reason is None:
                raise
            self.write_failures += 1
            err = StoreWriteError(reason)
            log.error(
                "%s (%d failed writes in a row); nothing acknowledged", err, self.write_failures
            )
            if (
                self.max_write_failures is not None
                and self.write_failures >= self.max_write_failures
            ):
                self.write_failure = err
                if self._stop is not None:
                    self._stop.set()
            raise err from None  # the driver's message may quote the rows: not passed on
        self.write_failures = 0
        return rejected

    def _commit_sync(self, batch: Inbound) -> set[str]:
        st = self.store
        for bad in batch.bad:
            self._quarantine(bad.raw, bad.reason)
        rejected: set[str] = set()
        # Facts already committed (a unit repeated in every incident document, a reconciled
        # entity, a retransmission) need not reach the store again; it would only count them.
        fresh = []
        for e in batch.events:
            why = self._conflicting.get(e.source_id)
            if why is not None:  # a retransmission of a conflicting record: refused again
                rejected.add(e.source_id)
                batch.rejected_why[e.source_id] = why
                continue
            if e.source_id in self._committed:
                self.duplicates += 1
                continue
            self._committed[e.source_id] = None
            fresh.append(e)
        if fresh:
            try:
                results = [st.append(fresh, on_close=self._unserved_reason)]
            except BaseException as exc:
                for e in fresh:
                    self._committed.pop(e.source_id, None)
                if not isinstance(exc, Exception) or not document_fault(exc) or not batch.docs:
                    raise  # the database itself failed: not one document's problem
                log.warning(
                    "a batch could not be stored (%s); storing its documents one by one",
                    _safe(f"{type(exc).__name__}: {exc}"),
                )
                results = self._append_each(batch)
            for res in results:
                self.appended += len(res.appended)
                self.duplicates += res.duplicates
                self.rejected += len(res.rejected)
                for e, why in res.rejected:
                    rejected.add(e.source_id)
                    batch.rejected_why[e.source_id] = (
                        why if why.startswith("conflict: ") else f"lifecycle: {why}"
                    )
                    self._committed.pop(e.source_id, None)  # refused for now: may come again
                for e, why in res.conflicts:
                    # A retransmission is refused with the same reason as the first time.
                    self._conflicting[e.source_id] = (
                        why if why.startswith("conflict: ") else f"conflict: {why}"
                    )
                    self._raise_conflict(e, why)
                self._emit(res.changes)
            if self.followups is not None and self.followups.automatic:
                self._open_followups(results)
            while len(self._committed) > COMMITTED_MEMORY:
                self._committed.pop(next(iter(self._committed)))
            while len(self._conflicting) > COMMITTED_MEMORY:
                self._conflicting.pop(next(iter(self._conflicting)))
        for call_id, persons in batch.persons.items():
            digest = hashlib.blake2b(repr(persons).encode(), digest_size=16).digest()
            if self._persons_seen.get(call_id) == digest:
                continue  # unchanged: every EIDO of a call repeats its people
            st.record_persons(call_id, persons)
            self._persons_seen[call_id] = digest
        for a in batch.answers:
            cid = self._inflight.pop(a.key, a.key)
            self._last_sent.pop(cid, None)
            at = a.answered_at or self.clock.now()
            changes = st.record_answer(
                cid, accepted=a.accepted, detail=a.detail, at=at, source_id=f"answer:{a.key}"
            )
            self.answers += 1
            self._emit(changes)
        return rejected

    def _open_followups(self, results: list[AppendResult]) -> None:
        """Open the follow-ups the site's rules call for on the calls this batch closed."""
        assert self.followups is not None
        closed = {
            e.call.id
            for res in results
            for e in res.appended
            if isinstance(e, CallReceived | CallUpdated) and not e.call.is_open
        }
        if closed:
            at = (self.data_clock or self.clock).now()
            res = self.store.open_followups(closed, self.followups, at)
            if res.appended:
                self._emit(res.changes)

    def _unserved_reason(self, call: Call, state: State) -> Event | None:
        """Why dispatch's feed closed an eligible call with no civilian team, recorded with the
        close when the records prove it (:mod:`console.domain.unserved`)."""
        reason = infer_unserved_reason(call, state, self.program_hours)
        if reason is None:
            return None
        return UnservedReasonGiven(
            source=Source.CONSOLE,
            source_id=f"unserved-inferred:{call.id}",
            occurred_at=closed_at(call),
            recorded_at=self.clock.now(),
            call_id=call.id,
            reason=reason,
            operator="console",
            inferred=True,
        )

    def _quarantine(self, raw: str, reason: str) -> None:
        raw, reason = _safe(raw), _safe(reason)
        digest = hashlib.blake2b(f"{reason}\0{raw}".encode(), digest_size=16).digest()
        if digest in self._quarantine_seen:
            return  # a retransmission of input already kept
        self._quarantine_seen.add(digest)
        if len(self._quarantine_seen) > COMMITTED_MEMORY:
            self._quarantine_seen.clear()  # only a guard against storing a repeat twice
        self.store.quarantine(raw, reason)
        self.quarantined += 1
        log.warning("quarantined: %s", reason)

    def _append_each(self, batch: Inbound) -> list[AppendResult]:
        """Store a batch document by document after it failed as a whole: a document the store
        cannot take is quarantined with the reason and its notification answered 400; a
        failure of the database itself still propagates."""
        out = []
        for doc in batch.docs:
            evs = [e for e in doc.events if e.source_id not in self._committed]
            if not evs:
                continue
            for e in evs:
                self._committed[e.source_id] = None
            try:
                out.append(self.store.append(evs, on_close=self._unserved_reason))
            except BaseException as exc:
                for e in evs:
                    self._committed.pop(e.source_id, None)
                if not isinstance(exc, Exception) or not document_fault(exc):
                    raise
                why = f"store: this document cannot be stored: {type(exc).__name__}: {exc}"
                self._quarantine(doc.raw(), why)
                batch.bad.append(Bad(doc.raw(), _safe(why)))
                batch.refuse(doc.transaction_id, _safe(why))
        return out

    def _raise_conflict(self, e: Event, why: str) -> None:
        """Two different descriptions of one record, same time and version: say so."""
        entity = e.entity_id
        at = e.occurred_at
        alert = Alert(
            f"feed_conflict:{entity}:{iso(at)}",
            AlertKind.FEED_CONFLICT,
            Severity.HIGH,
            entity,
            f"dispatch sent two different versions of {entity} as of "
            f"{at.astimezone(UTC):%H:%M:%S} UTC; the first is shown, the other is in quarantine",
            at,
        )
        now = self.clock.now()
        raised = AlertRaised(
            source=Source.CONSOLE,
            source_id=f"alert:{alert.id}",
            occurred_at=at,
            recorded_at=now,
            alert=alert,
        )
        res = self.store.append([raised])
        self._emit(res.changes)
        log.warning("dispatch conflict: %s", why)

    async def on_connected(self, client: DispatchClient) -> None:
        # Everything unanswered goes out again on a fresh link (same idempotency keys).
        self._last_sent.clear()
        if self._wake is not None:
            self._wake.set()

    # -- outbox sender -------------------------------------------------------------------------

    async def _outbox_loop(self, stop: asyncio.Event) -> None:
        assert self._wake is not None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), OUTBOX_POLL_S)
            self._wake.clear()
            if not self.client.health.up:
                continue
            try:
                await self._send_due()
            except Exception:
                log.exception("outbox sender failed; retrying")

    async def _send_due(self) -> None:
        # Claimed, not just read: several sync services may share one outbox, and a claimed
        # row is this sender's alone until the lease (renewed every poll) runs out.
        items = await self._in_db(
            functools.partial(
                self.store.claim_outbox, 100, owner=self.owner, lease_s=OUTBOX_LEASE_S
            )
        )
        now = time.monotonic()
        for item in items:
            last = self._last_sent.get(item.command_id)
            wait = min(RESEND_CAP_S, RESEND_AFTER_S * (2 ** min(item.attempts, 4)))
            if last is not None and now - last < wait:
                continue
            msg = await self._in_db(self._message, item)
            if msg is None:
                continue
            if not await self.client.send(msg):
                return
            self._inflight[item.idempotency_key] = item.command_id
            self._last_sent[item.command_id] = now
            self.commands_sent += 1
            await self._in_db(self.store.mark_sent, item.command_id)

    def _message(self, item: Any) -> dict[str, Any] | None:
        cmd = item.command
        issued = item.created_at
        if isinstance(cmd, EscalateCall):
            call = self.store.load_state().calls.get(cmd.call_id)
            eido = _escalation_eido(cmd, call, issued)
            return proto.request_for_service(item.idempotency_key, eido)
        return proto.command(
            item.idempotency_key,
            cmd,
            operator=item.operator,
            issued_at=issued,
            command_id=item.command_id,
        )

    # -- running ---------------------------------------------------------------------------------

    async def run_async(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set (or, with exit_when_idle_s, until the feed goes quiet)."""
        self._loop = asyncio.get_running_loop()
        self._stop = stop or asyncio.Event()
        self._wake = asyncio.Event()
        self._db = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sync-db")
        self._last_activity = time.monotonic()
        tasks = [
            asyncio.create_task(self.client.run(self._stop)),
            asyncio.create_task(self._outbox_loop(self._stop)),
            asyncio.create_task(self._report_loop(self._stop)),
        ]
        if self.retrieval is not None:
            tasks.append(asyncio.create_task(self._retrieval_loop(self._stop)))
        if self.exit_when_idle_s is not None:
            tasks.append(asyncio.create_task(self._idle_watch(self._stop, self.exit_when_idle_s)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        finally:
            self._stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                # Hand unanswered commands to another sender at once, not after the lease.
                await self._in_db(self.store.release_outbox, self.owner)
            self._db.shutdown(wait=True)

    async def _retrieval_loop(self, stop: asyncio.Event) -> None:
        """After each reconciliation (and every RETRIEVAL_RETRY_S while some remain), fetch
        the open calls dispatch did not re-send from the retrieval service."""
        assert self.retrieval is not None
        done_for: datetime | None = None
        next_retry = 0.0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRIEVAL_POLL_S)
            c = self.client
            reconciled = c.reconciled_at
            if reconciled is None or not self.health.up:
                continue
            if reconciled == done_for and time.monotonic() < next_retry:
                continue
            st = await self._in_db(self.store.load_state)
            todo = sorted(self.unconfirmed_calls(st))[:RETRIEVAL_MAX_PER_ROUND]
            done_for, next_retry = reconciled, time.monotonic() + RETRIEVAL_RETRY_S
            for cid in todo:
                if stop.is_set() or not self.health.up:
                    break
                await self._retrieve(cid)

    async def _retrieve(self, cid: str) -> None:
        assert self.retrieval is not None
        try:
            got = await asyncio.to_thread(self.retrieval.fetch, cid)
        except RetrievalError as exc:
            self.retrieval_failures[cid] = str(exc)
            log.warning("%s", exc)
            return
        if got.problem:
            try:
                await self._in_db(self._quarantine, got.raw, got.problem)
            finally:
                # Named a failure once its answer is kept: whoever sees the one finds the other.
                self.retrieval_failures[cid] = got.problem
            return
        if got.document is None:
            self.not_at_dispatch[cid] = self.clock.now()
            log.warning("%s is open here but dispatch's retrieval service does not know it", cid)
            return
        batch = self.client.read_documents(f"retrieval:{cid}", [got.document])
        await self.commit(batch)
        self.client.note_calls(batch.events)
        if batch.events:
            self.retrieved += 1
            self.retrieval_failures.pop(cid, None)
            self.not_at_dispatch.pop(cid, None)
        else:
            self.retrieval_failures[cid] = next((b.reason for b in batch.bad), "no usable record")

    async def _report_loop(self, stop: asyncio.Event) -> None:
        """Record the link's health in the database for consoles that do not hold the link."""
        while not stop.is_set():
            h = self.health
            try:
                await self._in_db(
                    functools.partial(
                        self.store.report_link,
                        self.owner,
                        state=h.state,
                        since=h.since,
                        url=redact_url(self.url),
                        last_message_at=h.last_message_at,
                        attempts=h.attempts,
                        last_error=h.last_error,
                    )
                )
            except Exception as exc:  # the feed matters more than the report: log, go on
                log.warning("cannot record the link's health: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LINK_REPORT_S)

    async def _idle_watch(self, stop: asyncio.Event, idle_s: float) -> None:
        while not stop.is_set():
            await asyncio.sleep(min(0.2, idle_s / 4))
            # Keep-alives are not activity: a quiet feed is idle even when dispatch says hello.
            last = max(self._last_activity, self.client.last_content_monotonic)
            # Until dispatch has answered once, allow for a slow start on either side.
            limit = idle_s if self.client.connects else max(idle_s, 30.0)
            if not self.client.busy and time.monotonic() - last >= limit:
                log.info("no message for %.1fs; stopping", idle_s)
                stop.set()

    def start(self) -> None:
        """Run on a daemon worker thread (for the desktop console). Thread-safe."""
        if self._thread is not None and self._thread.is_alive():
            return
        started = threading.Event()

        def main() -> None:
            async def go() -> None:
                self._stop = asyncio.Event()
                started.set()
                await self.run_async(self._stop)

            try:
                asyncio.run(go())
            except BaseException as exc:
                self.error = exc
                log.exception("sync service stopped on an error")
            finally:
                started.set()

        self._thread = threading.Thread(target=main, name="dispatch-sync", daemon=True)
        self._thread.start()
        started.wait(5)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop and wait for it (thread-safe; idempotent)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def wake_outbox(self) -> None:
        """Send a just-submitted command now rather than at the next poll (thread-safe)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)


def document_fault(exc: BaseException) -> bool:
    """True when a failed write is the data's fault (a string the database cannot encode, a
    value out of its range), False when the database itself failed (disk full, read-only,
    locked, gone): the first is one document's problem, the second everyone's."""
    from sqlalchemy import exc as sa

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, sa.DataError):
            return True
        if isinstance(cur, sa.DBAPIError | OSError | MemoryError):
            return False
        if isinstance(cur, UnicodeError | OverflowError | TypeError | ValueError):
            return True
        orig = getattr(cur, "orig", None)
        cur = orig if isinstance(orig, BaseException) else (cur.__cause__ or cur.__context__)
    return False


def _safe(text: str) -> str:
    """Text any database stores: lone surrogates and the like written as escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def _escalation_eido(cmd: EscalateCall, call: Any, issued: datetime) -> dict[str, Any]:
    """The EIDO a requestForService carries: the incident and the requested agency."""
    from console.domain.model import Call, CallStatus, CallType

    if call is None:
        call = Call(
            id=cmd.call_id,
            status=CallStatus.PENDING,
            priority=2,
            type=CallType.OTHER,
            received_at=issued,
            updated_at=issued,
        )
    return build_incident_eido(
        call,
        escalation_request={
            "target": cmd.target.value,
            "urgency": cmd.urgency,
            "reason": cmd.reason,
        },
    )
