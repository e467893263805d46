"""The store: one door to the database, a thin facade over one module per concern.

- :mod:`~console.store.eventlog` appends batches (folding them into the projection rows in
  the same transaction) and reads the log back;
- :mod:`~console.store.rows` loads, writes back and rebuilds the projection rows
  (:mod:`~console.store.rowcache`: what SQLite's single writer keeps between batches);
- :mod:`~console.store.submission` checks and records commands;
- :mod:`~console.store.outbox`, :mod:`~console.store.audit`, :mod:`~console.store.quarantine`,
  :mod:`~console.store.persons` and :mod:`~console.store.link` own their tables.

Every public method runs its own transaction; a crash at any instant leaves either the whole
batch or none. On PostgreSQL writers keep nothing in memory, so several processes (one sync
service, many consoles inserting commands) can share one database.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import URL, Connection, Engine

from console.domain.changes import Changes, Snapshot, Touched
from console.domain.clock import Clock, SystemClock
from console.domain.commands import (
    Command,
)
from console.domain.events import (
    Event,
    Source,
)
from console.domain.followup import FollowUpPolicy
from console.domain.projection import State
from console.domain.rules import ServiceHours
from console.files import create_private

from . import audit, eventlog, link, outbox, quarantine, rows, submission
from . import persons as person_data
from .db import check_revision, make_engine, quick_check, sqlite_path, upgrade
from .outbox import sender_identity
from .records import (
    AppendResult,
    AuditEntry,
    CommandConflict,
    LinkReport,
    OutboxItem,
    QuarantineItem,
    Submitted,
)
from .rowcache import RowCache
from .timetext import BatchTimes

__all__ = [
    "AppendResult",
    "AuditEntry",
    "Changes",
    "CommandConflict",
    "LinkReport",
    "OutboxItem",
    "QuarantineItem",
    "Store",
    "Submitted",
    "sender_identity",
]


class Store:
    """The one door to the database. Every method runs its own transaction."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._rows: RowCache | None = RowCache() if engine.dialect.name == "sqlite" else None
        """Projection rows kept between batches: SQLite's single writer only."""
        self._write_lock = threading.RLock()
        self._folded: list[tuple[Touched, State]] = []
        """(touched, folded state) of the write transaction under way, kept once it commits."""
        self._rights: tuple[bool, bool, bool] | None = None
        """PostgreSQL: (insert events, insert audit, update audit) allowed directly; see
        :func:`console.store.grants.rights`."""

    @classmethod
    def open(
        cls,
        url: str,
        *,
        create: bool = True,
        clock: Clock | None = None,
        synchronous: str = "NORMAL",
        check: bool = True,
    ) -> Store:
        """Open (and with ``create`` make or migrate) a database. ``check`` runs SQLite's
        ``quick_check`` first: a damaged file is refused (StoreCorrupt), never written.
        ``synchronous="FULL"`` makes each SQLite commit durable across a power cut."""
        engine = make_engine(url, synchronous=synchronous)
        path = sqlite_path(engine)
        if create and path is not None and not path.exists() and path.parent.is_dir():
            # A new database is 0600 from its first page; SQLite gives -wal/-shm its mode.
            create_private(path, truncate=False)
        try:
            if check:
                quick_check(engine)
            if create:
                upgrade(engine)
            else:
                check_revision(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def url(self) -> URL:
        """The database's URL (its password included: redact before showing it)."""
        return self.engine.url

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for the read models (:mod:`console.store.read`): one consistent read,
        never a write."""
        with self.engine.connect() as conn:
            yield conn

    def append(
        self, events: Sequence[Event], *, on_close: eventlog.CloseHook | None = None
    ) -> AppendResult:
        """Append new facts and fold them into the projection, all in one transaction.

        Duplicates (same source + source id) are counted and skipped; a newer record whose
        lifecycle step is impossible is quarantined with the reason and not appended.
        ``on_close`` gives, for an eligible call the batch closed with no team and no unserved
        reason yet, an event appended with the batch (the inferred reason).
        """
        if not events:
            return AppendResult()
        with self._write() as conn:
            return self._append(conn, events, on_close)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that may append events; keeps the rows it folded once it
        commits (see :mod:`console.store.rowcache`, SQLite only)."""
        rows = self._rows
        if rows is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock:
            self._folded.clear()
            try:
                with self.engine.begin() as conn:
                    rows.check(self._last_seq(conn))
                    yield conn
                    seq = self._last_seq(conn) if self._folded else 0
            except BaseException:
                self._folded.clear()
                raise
            for t, st in self._folded:
                rows.keep(t, st, seq)
            self._folded.clear()

    def _direct(self, conn: Connection) -> tuple[bool, bool, bool]:
        """Which writes this login makes directly (all, on SQLite); the others go through the
        database's functions (console.store.grants), which record the login themselves."""
        if conn.dialect.name != "postgresql":
            return (True, True, True)
        if self._rights is None:
            from .grants import rights

            self._rights = rights(conn)
        return self._rights

    def _append(
        self,
        conn: Connection,
        events: Sequence[Event],
        on_close: eventlog.CloseHook | None = None,
    ) -> AppendResult:
        return eventlog.append_batch(self, conn, events, on_close)

    def _lock_appends(self, conn: Connection) -> int:
        """On PostgreSQL, wait for the append lock; returns the last seq before this batch.

        SQLite needs nothing: every write transaction there starts with ``BEGIN IMMEDIATE``.
        """
        return eventlog.lock_appends(self, conn)

    @staticmethod
    def _last_seq(conn: Connection) -> int:
        return eventlog.last_seq(conn)

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            return self._last_seq(conn)

    def events(
        self,
        after_seq: int = 0,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        batch: int = 5000,
    ) -> Iterator[tuple[int, Event]]:
        """Stored events in log order (seq), optionally only those that occurred in [start, end)."""
        yield from eventlog.events(self, after_seq, start=start, end=end, batch=batch)

    def event_count(self) -> int:
        return eventlog.event_count(self)

    def _load_partial(self, conn: Connection, t: Touched) -> State:
        """The rows ``t`` names, as they stand, in a new State (only those: a partial state)."""
        return rows.load_partial(self, conn, t)

    def _write_back(
        self,
        conn: Connection,
        st: State,
        before: Snapshot,
        t: Touched,
        accepted: Sequence[Event],
        record_json: dict[int, str] | None = None,
        times: BatchTimes | None = None,
    ) -> Touched:
        """Write the changed rows; returns what changed."""
        return rows.write_back(self, conn, st, before, t, accepted, record_json, times)

    def load_state(self) -> State:
        """The whole current projection, read in one transaction."""
        with self.engine.connect() as conn:
            return self._load_all(conn)

    def _load_all(self, conn: Connection) -> State:
        return rows.load_all(self, conn)

    def rebuild_projections(self) -> int:
        """Recompute every projection table from the event log (e.g. after a fold fix)."""
        return rows.rebuild(self)

    def quarantine(self, raw: str, reason: str, source: str = Source.DISPATCH) -> int:
        """Keep bad input with the reason it was refused; returns its quarantine id."""
        return quarantine.put(self, raw, reason, source)

    def quarantined(self, limit: int = 100) -> list[QuarantineItem]:
        return quarantine.items(self, limit)

    def quarantine_count(self) -> int:
        return quarantine.count(self)

    def reprocess_quarantine(
        self,
        read: Callable[[str], tuple[Sequence[Event], dict[str, list[dict[str, Any]]]]],
        source: str = Source.DISPATCH,
    ) -> list[tuple[int, str]]:
        """Read quarantined messages again; what reads enters the log once (see quarantine)."""
        return quarantine.reprocess(self, read, source)

    def record_persons(self, call_id: str, persons: list[dict[str, Any]]) -> None:
        """Replace the people recorded for a call. Never in the event log, never exported raw."""
        return person_data.record(self, call_id, persons)

    def persons(self, call_id: str) -> list[dict[str, Any]]:
        return person_data.of(self, call_id)

    def submit(
        self,
        command: Command,
        *,
        operator: str,
        role: str = "supervisor",
        mobile_crisis_hours: ServiceHours | None = None,
        followups: FollowUpPolicy | None = None,
    ) -> Submitted:
        """Check a supervisor command against the rules and queue it for dispatch.

        The ``requested`` event, the outbox row and the audit row are written in one transaction;
        nothing takes effect until dispatch confirms. A refusal by the rules raises
        :class:`CommandRejected` and is audited too; when another supervisor acted on the same
        call first (its version moved on, or their command still awaits dispatch) the refusal
        is a :class:`CommandConflict` carrying the call as it stands. Race-safe across
        processes: on PostgreSQL the check and the insert run under a lock on the call (and
        team), on SQLite under the database's single-writer lock.
        """
        return submission.submit(
            self,
            command,
            operator=operator,
            role=role,
            mobile_crisis_hours=mobile_crisis_hours,
            followups=followups,
        )

    def open_followups(
        self, call_ids: Iterable[str], policy: FollowUpPolicy, at: datetime
    ) -> AppendResult:
        """Open the follow-ups the site's rules call for on these (closed) calls, once each."""
        from .followups import open_on_close

        return open_on_close(self, call_ids, policy, at)

    def _validate(
        self,
        conn: Connection,
        command: Command,
        hours: ServiceHours | None,
        now: datetime,
    ) -> None:
        return submission.validate(self, conn, command, hours, now)

    def _audit_refusal(
        self, command: Command, operator: str, role: str, now: datetime, why: str
    ) -> None:
        return audit.record_refusal(self, command, operator, role, now, why)

    def audit_refused(self, command: Command, *, operator: str, role: str, why: str) -> None:
        """Audit an attempt the console refused before it reached :meth:`submit` (a dialog
        found the call changed meanwhile, or the rules refuse it on the supervisor's
        picture): every attempt is in the audit, with the reason."""
        self._audit_refusal(command, operator, role, self.clock.now(), why)

    def outbox_due(self, limit: int = 50) -> list[OutboxItem]:
        """Commands not yet answered by dispatch, oldest first."""
        return outbox.due(self, limit)

    def claim_outbox(
        self, limit: int = 50, *, owner: str, lease_s: float = 30.0
    ) -> list[OutboxItem]:
        """Take up to ``limit`` unanswered commands for the sender ``owner``, oldest first.

        For several sync services on one database: each row claimed is this sender's until
        ``lease_s`` after the claim, and no other sender gets it meanwhile, so no command goes
        out twice at once. Claiming again renews the lease on the sender's own rows; rows of a
        sender that stopped are taken over once their lease has run out and resent under the
        same idempotency key. PostgreSQL: ``FOR UPDATE SKIP LOCKED`` (claimers never wait for
        each other); SQLite: the single-writer lock of the transaction.
        """
        return outbox.claim(self, limit, owner=owner, lease_s=lease_s)

    def release_outbox(self, owner: str) -> int:
        """Give back every unanswered row ``owner`` holds (a sender stopping cleanly)."""
        return outbox.release(self, owner)

    def mark_sent(self, command_id: str) -> None:
        return outbox.mark_sent(self, command_id)

    def record_answer(
        self, command_id: str, *, accepted: bool, detail: str, at: datetime, source_id: str
    ) -> Changes:
        """Dispatch answered a command: record the fact, close the outbox row, fill the audit."""
        return outbox.record_answer(
            self, command_id, accepted=accepted, detail=detail, at=at, source_id=source_id
        )

    def report_link(
        self,
        service: str,
        *,
        state: str,
        since: datetime,
        url: str,
        last_message_at: datetime | None,
        attempts: int = 0,
        last_error: str = "",
    ) -> None:
        """Record a sync service's view of the dispatch link (one row per service)."""
        return link.report(
            self,
            service,
            state=state,
            since=since,
            url=url,
            last_message_at=last_message_at,
            attempts=attempts,
            last_error=last_error,
        )

    def link_reports(self) -> list[LinkReport]:
        """Every sync service's last report, freshest first."""
        return link.reports(self)

    def record_action(
        self,
        action: str,
        *,
        operator: str,
        role: str = "supervisor",
        call_id: str | None = None,
        team_id: str | None = None,
        reason: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Audit an action the console took that is no command (a missed check-in ladder step)."""
        audit.record_action(
            self,
            action,
            operator=operator,
            role=role,
            now=self.clock.now(),
            call_id=call_id,
            team_id=team_id,
            reason=reason,
            detail=detail,
        )

    def audit(self, limit: int = 200, *, call_id: str | None = None) -> list[AuditEntry]:
        return audit.entries(self, limit, call_id=call_id)
