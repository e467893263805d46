"""The store: append events and update the projection in one transaction; the outbox and audit.

Writers never cache the projection in memory: each batch loads the rows it touches, folds the
new events onto them with the domain's own ``apply`` (strict lifecycles), and writes back only
what changed. So several processes (one sync service, many consoles inserting commands) can
share one PostgreSQL database, and a crash at any instant leaves either the whole batch or none.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from console.domain.changes import Changes, Snapshot, Touched, touched
from console.domain.clock import Clock, SystemClock
from console.domain.codec import (
    call_from_dict,
    call_to_dict,
    command_from_dict,
    command_to_dict,
    event_body,
    event_from_parts,
    event_to_dict,
    team_from_dict,
    team_to_dict,
)
from console.domain.commands import (
    AcknowledgeAlert,
    Command,
    CommandRecord,
    CommandRejected,
    CommandStatus,
)
from console.domain.events import (
    Alert,
    AlertAcknowledged,
    AlertKind,
    CallReceived,
    CallUpdated,
    CommandConfirmed,
    CommandRefused,
    CommandRequested,
    Event,
    Note,
    Severity,
    Source,
    TeamStatusChanged,
)
from console.domain.lifecycle import TransitionError
from console.domain.model import Call, EscalationTarget, Position
from console.domain.projection import Ack, State, apply, fold
from console.domain.rules import ServiceHours, validate_command

from . import notify
from . import schema as S
from .db import check_revision, make_engine, upgrade
from .rowcache import RowCache

log = logging.getLogger("console.store")

_CHUNK = 400  # keeps IN (...) lists well under every backend's bound-parameter limit

_CONFLICTING = frozenset({"assign", "reassign", "escalate", "change_priority"})
"""Command kinds that change who handles a call or how urgent it is: two of them pending on
the same call at once means two supervisors acted on the same picture."""
_APPEND_LOCK = "rc:events"
"""PostgreSQL advisory lock key serialising appends: seqs commit in order, so a listener can
tell a missed notification from a late one, and two writers never insert one event twice."""


class CommandConflict(CommandRejected):
    """Someone else acted on the same call first: the message says what it is now.

    ``call`` is the call as it stands (None if unknown); ``pending_command_id`` and
    ``pending_operator`` name the other supervisor's command still awaiting dispatch, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        call: Call | None = None,
        pending_command_id: str | None = None,
        pending_operator: str | None = None,
    ) -> None:
        super().__init__(message)
        self.call = call
        self.pending_command_id = pending_command_id
        self.pending_operator = pending_operator


@dataclass(frozen=True, slots=True)
class AppendResult:
    appended: list[Event] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[tuple[Event, str]] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    last_seq: int = 0


@dataclass(frozen=True, slots=True)
class Submitted:
    command_id: str
    event: Event
    changes: Changes


@dataclass(frozen=True, slots=True)
class OutboxItem:
    command_id: str
    idempotency_key: str
    command: Command
    operator: str
    attempts: int
    created_at: datetime
    status: str
    claimed_until: datetime | None = None
    """When this sender's claim ends (claim_outbox only): send before then, or claim again."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    operator: str
    role: str
    action: str
    call_id: str | None
    team_id: str | None
    reason: str
    detail: str
    command_id: str | None
    answer_status: str
    answer: str
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkReport:
    """A sync service's last word on the dispatch link (wall-clock times)."""

    service: str
    state: str
    since: datetime
    url: str
    last_message_at: datetime | None
    attempts: int
    last_error: str
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    id: int
    received_at: datetime
    source: str
    reason: str
    raw: str


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _rows_in(
    conn: Connection,
    table: str,
    key: str,
    cols: Sequence[str],
    ids: Iterable[str],
    also: tuple[str, str] | None = None,
) -> list[Any]:
    """``SELECT cols FROM table WHERE key IN ids`` with the ids as ONE parameter.

    A JSON array on SQLite (``json_each``), an array on PostgreSQL (``= ANY``): no statement
    grows with the batch, so nothing is recompiled per batch.
    """
    ids = list(ids)
    if not ids:
        return []
    if conn.dialect.name == "sqlite":
        sql = (
            f"SELECT {', '.join(cols)} FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))"
        )
        params: list[Any] = [orjson.dumps(ids).decode()]
        if also:
            sql += f" AND {also[0]} = ?"
            params.append(also[1])
    else:
        sql = f"SELECT {', '.join(cols)} FROM {table} WHERE {key} = ANY(%s)"
        params = [ids]
        if also:
            sql += f" AND {also[0]} = %s"
            params.append(also[1])
    return list(conn.exec_driver_sql(sql, tuple(params)).all())


def _db_time(sqlite: bool) -> Callable[[datetime | None], Any]:
    """Convert an aware time the way :class:`~console.store.schema.UtcDateTime` stores it."""

    def conv(v: datetime | None) -> Any:
        if v is None:
            return None
        if v.tzinfo is not UTC:
            v = v.astimezone(UTC)
        # "YYYY-MM-DD HH:MM:SS.ffffff", the text SQLAlchemy's SQLite DateTime reads and sorts.
        return v.isoformat(" ", "microseconds")[:26] if sqlite else v

    return conv


def _bulk_insert(
    conn: Connection, table: Any, rows: list[dict[str, Any]], verb: str = "INSERT"
) -> None:
    """executemany straight on the driver: the hot path of ingest.

    SQLAlchemy's per-value type processing costs more than SQLite itself here, so times are
    converted once, the way :class:`~console.store.schema.UtcDateTime` stores them.
    """
    if not rows:
        return
    cols = list(rows[0])
    dialect = conn.dialect
    conv = _db_time(dialect.name == "sqlite")
    times = [isinstance(table.c[c].type, S.UtcDateTime) for c in cols]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"{verb} INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(mark for _ in cols)})"
    pairs = list(zip(cols, times, strict=True))
    params = [tuple(conv(r[c]) if t else r[c] for c, t in pairs) for r in rows]
    conn.exec_driver_sql(sql, params)


def _insert_events(conn: Connection, events: Sequence[Event], cache: dict[int, str]) -> None:
    """The events of a batch, as tuples built in one pass (no intermediate dicts)."""
    dialect = conn.dialect
    conv = _db_time(dialect.name == "sqlite")
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        "INSERT INTO events (source, source_id, kind, entity_id, occurred_at, recorded_at,"
        f" payload) VALUES ({', '.join([mark] * 7)})"
    )
    conn.exec_driver_sql(
        sql,
        [
            (
                e.source,
                e.source_id,
                e.kind,
                e.entity_id,
                conv(e.occurred_at),
                conv(e.recorded_at),
                _payload(e, cache),
            )
            for e in events
        ],
    )


def _payload(e: Event, cache: dict[int, str]) -> str:
    """The event's stored body; a call or team record's JSON is kept for its projection row."""
    if isinstance(e, CallReceived | CallUpdated):
        rec = _dumps(call_to_dict(e.call))
        cache[id(e.call)] = rec
        return '{"call":' + rec + "}"
    if isinstance(e, TeamStatusChanged):
        rec = _dumps(team_to_dict(e.team))
        cache[id(e.team)] = rec
        return '{"team":' + rec + "}"
    return _dumps(event_body(e))


def _dumps(obj: Any) -> str:
    # orjson: compact UTF-8 JSON, several times faster than the stdlib on the ingest hot path.
    return orjson.dumps(obj).decode()


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

    @classmethod
    def open(cls, url: str, *, create: bool = True, clock: Clock | None = None) -> Store:
        engine = make_engine(url)
        if create:
            upgrade(engine)
        else:
            check_revision(engine)
        return cls(engine, clock=clock)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- the event log ---------------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> AppendResult:
        """Append new facts and fold them into the projection, all in one transaction.

        Duplicates (same source + source id) are counted and skipped; a newer record whose
        lifecycle step is impossible is quarantined with the reason and not appended.
        """
        if not events:
            return AppendResult()
        with self._write() as conn:
            return self._append(conn, events)

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

    def _append(self, conn: Connection, events: Sequence[Event]) -> AppendResult:
        after = self._lock_appends(conn)
        fresh: dict[tuple[str, str], Event] = {}
        dups = 0
        for e in events:
            if e.key in fresh:
                dups += 1
            else:
                fresh[e.key] = e
        by_source: dict[str, list[str]] = {}
        for src, sid in fresh:
            by_source.setdefault(src, []).append(sid)
        for src, sids in by_source.items():
            for (sid,) in _rows_in(
                conn, "events", "source_id", ("source_id",), sids, ("source", src)
            ):
                if (src, sid) in fresh:
                    del fresh[(src, sid)]
                    dups += 1
        if not fresh:
            return AppendResult(duplicates=dups, last_seq=self._last_seq(conn))

        new = list(fresh.values())
        t = touched(new)
        state = self._load_partial(conn, t)
        before = t.snapshot(state)
        accepted: list[Event] = []
        rejected: list[tuple[Event, str]] = []
        for e in new:
            try:
                apply(state, e, strict=True)
            except TransitionError as exc:
                rejected.append((e, str(exc)))
                continue
            accepted.append(e)
        now = self.clock.now()
        if rejected:
            conn.execute(
                insert(S.quarantine),
                [
                    {
                        "received_at": now,
                        "source": e.source,
                        "reason": f"impossible transition: {why}",
                        "raw": _dumps(event_to_dict(e)),
                    }
                    for e, why in rejected
                ],
            )
            for e, why in rejected:
                log.warning("quarantined %s %s: %s", e.kind, e.source_id, why)
        record_json: dict[int, str] = {}
        if accepted:
            _insert_events(conn, accepted, record_json)
        changed = self._write_back(conn, state, before, t, accepted, record_json)
        if self._rows is not None:
            self._folded.append((t, state))
        seq = self._last_seq(conn)
        result = AppendResult(accepted, dups, rejected, changed.changes(seq), seq)
        if accepted:
            notify.publish(conn, result.changes, after, seq)
        return result

    def _lock_appends(self, conn: Connection) -> int:
        """On PostgreSQL, wait for the append lock; returns the last seq before this batch.

        SQLite needs nothing: every write transaction there starts with ``BEGIN IMMEDIATE``.
        """
        if conn.dialect.name != "postgresql":
            return 0
        _advisory_lock(conn, _APPEND_LOCK)
        return self._last_seq(conn)

    @staticmethod
    def _last_seq(conn: Connection) -> int:
        return int(conn.execute(select(func.coalesce(func.max(S.events.c.seq), 0))).scalar_one())

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
        last = after_seq
        while True:
            q = select(S.events).where(S.events.c.seq > last).order_by(S.events.c.seq).limit(batch)
            if start is not None:
                q = q.where(S.events.c.occurred_at >= start)
            if end is not None:
                q = q.where(S.events.c.occurred_at < end)
            with self.engine.connect() as conn:
                rows = conn.execute(q).all()
            if not rows:
                return
            for r in rows:
                yield (
                    r.seq,
                    event_from_parts(
                        r.kind,
                        r.source,
                        r.source_id,
                        r.occurred_at,
                        r.recorded_at,
                        json.loads(r.payload),
                    ),
                )
            last = rows[-1].seq

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(S.events)).scalar_one())

    # -- the projection --------------------------------------------------------------------------

    def _load_partial(self, conn: Connection, t: Touched) -> State:
        """The rows ``t`` names, as they stand, in a new State (only those: a partial state)."""
        st = State()
        if self._rows is not None:
            t = self._rows.fill(t, st)
        for data, ksid in _rows_in(conn, "calls", "id", ("data", "k_source_id"), t.calls):
            c = call_from_dict(orjson.loads(data))
            st.keep_call(c, ksid)
        for data, ksid in _rows_in(conn, "teams", "id", ("data", "k_source_id"), t.teams):
            tm = team_from_dict(orjson.loads(data))
            st.keep_team(tm, ksid)
        for part in _chunks(sorted(t.positions)):
            for r in conn.execute(select(S.positions).where(S.positions.c.team_id.in_(part))):
                st.positions[r.team_id] = Position(r.lat, r.lon, r.at)
        for part in _chunks(sorted(t.commands)):
            for r in conn.execute(select(S.commands).where(S.commands.c.command_id.in_(part))):
                st.commands[r.command_id] = _command_record(r)
        for part in _chunks(sorted(t.alerts)):
            for r in conn.execute(select(S.alerts).where(S.alerts.c.id.in_(part))):
                st.alerts[r.id] = _alert(r)
        for part in _chunks(sorted(t.acks)):
            for r in conn.execute(select(S.acks).where(S.acks.c.alert_id.in_(part))):
                st.acks[r.alert_id] = Ack(r.alert_id, r.operator, r.at, r.note)
        for part in _chunks(sorted(t.escalations)):
            for r in conn.execute(select(S.escalations).where(S.escalations.c.call_id.in_(part))):
                st.escalations[r.call_id] = (EscalationTarget(r.target), r.at)
        pairs = sorted(t.assignments)
        for part in _chunks(sorted({c for c, _ in pairs})):
            for r in conn.execute(select(S.assignments).where(S.assignments.c.call_id.in_(part))):
                st.assignments[(r.call_id, r.team_id)] = r.at
        return st

    def _write_back(
        self,
        conn: Connection,
        st: State,
        before: Snapshot,
        t: Touched,
        accepted: Sequence[Event],
        record_json: dict[int, str] | None = None,
    ) -> Touched:
        """Write the changed rows; returns what changed."""
        ch = t.changed(before, st)
        changed_calls = list(ch.calls)
        changed_teams = list(ch.teams)
        changed_pos = list(ch.positions)
        changed_cmds = list(ch.commands)
        changed_alerts = list(ch.alerts)
        changed_acks = list(ch.acks)
        changed_esc = list(ch.escalations)
        changed_asg = list(ch.assignments)

        sqlite = conn.dialect.name == "sqlite"

        def replace(
            table: Any,
            key_col: Any,
            ids: Sequence[Any],
            rows: list[dict[str, Any]],
            known: dict[Any, Any],
        ) -> None:
            if not ids:
                return
            # Rows new to this batch need no delete: most of a live feed's rows are updates of
            # a few open calls, and a shift's first batch is all inserts.
            if sqlite:
                # One statement: REPLACE deletes the row with the same key, then inserts.
                _bulk_insert(conn, table, rows, verb="INSERT OR REPLACE")
                return
            existing = [i for i in ids if i in known]
            for part in _chunks(existing):
                conn.execute(delete(table).where(key_col.in_(part)))
            _bulk_insert(conn, table, rows)

        replace(
            S.calls,
            S.calls.c.id,
            changed_calls,
            [_call_row(st, i, record_json) for i in changed_calls],
            before.calls,
        )
        replace(
            S.teams,
            S.teams.c.id,
            changed_teams,
            [_team_row(st, i, record_json) for i in changed_teams],
            before.teams,
        )
        replace(
            S.positions,
            S.positions.c.team_id,
            changed_pos,
            [
                {"team_id": i, "lat": p.lat, "lon": p.lon, "at": p.at}
                for i in changed_pos
                if (p := st.positions[i])
            ],
            before.positions,
        )
        replace(
            S.commands,
            S.commands.c.command_id,
            changed_cmds,
            [_command_row(st.commands[i]) for i in changed_cmds],
            before.commands,
        )
        replace(
            S.alerts,
            S.alerts.c.id,
            changed_alerts,
            [_alert_row(st.alerts[i]) for i in changed_alerts],
            before.alerts,
        )
        replace(
            S.acks,
            S.acks.c.alert_id,
            changed_acks,
            [
                {"alert_id": a.alert_id, "operator": a.operator, "at": a.at, "note": a.note}
                for i in changed_acks
                if (a := st.acks[i])
            ],
            before.acks,
        )
        replace(
            S.escalations,
            S.escalations.c.call_id,
            changed_esc,
            [
                {"call_id": i, "target": st.escalations[i][0].value, "at": st.escalations[i][1]}
                for i in changed_esc
            ],
            before.escalations,
        )
        stale_asg = [k for k in changed_asg if k in before.assignments]
        if stale_asg:
            conn.execute(
                delete(S.assignments).where(
                    S.assignments.c.call_id == bindparam("c"),
                    S.assignments.c.team_id == bindparam("t"),
                ),
                [{"c": c, "t": tm} for c, tm in stale_asg],
            )
        if changed_asg:
            conn.execute(
                insert(S.assignments),
                [
                    {"call_id": c, "team_id": tm, "at": st.assignments[(c, tm)]}
                    for c, tm in changed_asg
                ],
            )
        note_rows = [
            {
                "source": e.source,
                "source_id": e.source_id,
                "call_id": n.call_id,
                "text": n.text,
                "author": n.author,
                "at": n.at,
            }
            for e in accepted
            if e.kind == "note" and (n := _note_of(e)) is not None
        ]
        if note_rows:
            conn.execute(insert(S.notes), note_rows)
        ch.notes = {str(r["call_id"]) for r in note_rows}
        return ch

    def load_state(self) -> State:
        """The whole current projection, read in one transaction."""
        with self.engine.connect() as conn:
            return self._load_all(conn)

    def _load_all(self, conn: Connection) -> State:
        st = State()
        for r in conn.execute(select(S.calls)):
            c = call_from_dict(json.loads(r.data))
            st.keep_call(c, r.k_source_id)
        for r in conn.execute(select(S.teams)):
            tm = team_from_dict(json.loads(r.data))
            st.keep_team(tm, r.k_source_id)
        for r in conn.execute(select(S.positions)):
            st.positions[r.team_id] = Position(r.lat, r.lon, r.at)
        for r in conn.execute(select(S.commands)):
            st.commands[r.command_id] = _command_record(r)
        for r in conn.execute(select(S.alerts)):
            st.alerts[r.id] = _alert(r)
        for r in conn.execute(select(S.acks)):
            st.acks[r.alert_id] = Ack(r.alert_id, r.operator, r.at, r.note)
        for r in conn.execute(select(S.notes)):
            st.notes[(r.source, r.source_id)] = Note(r.call_id, r.text, r.author, r.at)
        for r in conn.execute(select(S.assignments)):
            st.assignments[(r.call_id, r.team_id)] = r.at
        for r in conn.execute(select(S.escalations)):
            st.escalations[r.call_id] = (EscalationTarget(r.target), r.at)
        st.as_of = conn.execute(select(func.max(S.events.c.occurred_at))).scalar_one()
        return st

    def rebuild_projections(self) -> int:
        """Recompute every projection table from the event log (e.g. after a fold fix)."""
        if self._rows is not None:
            self._rows.clear()
        with self._write() as conn:
            # Fold inside the write transaction (and, on PostgreSQL, under the append lock):
            # no batch can land between the read and the write-back.
            seq = self._lock_appends(conn)
            state = fold(_stored_events(conn))
            for table in S.PROJECTION_TABLES:
                conn.execute(delete(table))
            everything = Touched.everything(state)
            notes = [_NoteFact(src, sid, n) for (src, sid), n in state.notes.items()]
            self._write_back(conn, state, Snapshot(), everything, notes)  # type: ignore[arg-type]
            notify.publish(conn, None, seq, seq)
        return len(state.seen)

    # -- quarantine ------------------------------------------------------------------------------

    def quarantine(self, raw: str, reason: str, source: str = Source.DISPATCH) -> int:
        """Keep bad input with the reason it was refused; returns its quarantine id."""
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(S.quarantine).values(
                    received_at=self.clock.now(), source=source, reason=reason, raw=raw
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def quarantined(self, limit: int = 100) -> list[QuarantineItem]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(S.quarantine).order_by(S.quarantine.c.id.desc()).limit(limit)
            ).all()
        return [QuarantineItem(r.id, r.received_at, r.source, r.reason, r.raw) for r in rows]

    def quarantine_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(S.quarantine)).scalar_one())

    # -- persons (personal data, apart from the log) --------------------------------------------

    def record_persons(self, call_id: str, persons: list[dict[str, Any]]) -> None:
        """Replace the people recorded for a call. Never in the event log, never exported raw."""
        with self.engine.begin() as conn:
            conn.execute(delete(S.persons).where(S.persons.c.call_id == call_id))
            if persons:
                now = self.clock.now()
                conn.execute(
                    insert(S.persons),
                    [
                        {
                            "call_id": call_id,
                            "role": str(p.get("role", "")),
                            "data": _dumps(p),
                            "recorded_at": now,
                        }
                        for p in persons
                    ],
                )

    def persons(self, call_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(S.persons.c.data)
                .where(S.persons.c.call_id == call_id)
                .order_by(S.persons.c.id)
            ).all()
        return [json.loads(r.data) for r in rows]

    # -- commands: outbox and audit --------------------------------------------------------------

    def submit(
        self,
        command: Command,
        *,
        operator: str,
        role: str = "supervisor",
        mobile_crisis_hours: ServiceHours | None = None,
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
        now = self.clock.now()
        if role != "supervisor":
            self._audit_refusal(command, operator, role, now, f"the {role} role cannot act")
            raise CommandRejected(f"the {role} role cannot act; only a supervisor can")
        command_id = uuid.uuid4().hex
        refused: CommandRejected | None = None
        with self._write() as conn:
            try:
                self._validate(conn, command, mobile_crisis_hours, now)
            except CommandRejected as exc:
                refused = exc
            else:
                ev: Event
                if isinstance(command, AcknowledgeAlert):
                    ev = AlertAcknowledged(
                        source=Source.CONSOLE,
                        source_id=f"ack-{command_id}",
                        occurred_at=now,
                        recorded_at=now,
                        alert_id=command.alert_id,
                        operator=operator,
                        note=command.reason,
                    )
                else:
                    ev = CommandRequested(
                        source=Source.CONSOLE,
                        source_id=f"cmd-{command_id}",
                        occurred_at=now,
                        recorded_at=now,
                        command_id=command_id,
                        command=command,
                        operator=operator,
                    )
                result = self._append(conn, [ev])
                if command.sent_to_dispatch:
                    conn.execute(
                        insert(S.outbox).values(
                            command_id=command_id,
                            idempotency_key=command_id,
                            kind=command.kind,
                            payload=_dumps(command_to_dict(command)),
                            call_id=command.call_id,
                            team_id=command.team_id,
                            operator=operator,
                            status="queued",
                            attempts=0,
                            created_at=now,
                            answer="",
                        )
                    )
                conn.execute(
                    insert(S.audit).values(
                        **_audit_values(command, operator, role, now),
                        command_id=command_id if command.sent_to_dispatch else None,
                        answer_status="pending" if command.sent_to_dispatch else "done",
                        answer="",
                    )
                )
        if refused is not None:
            # Audited after the transaction: a refusal leaves nothing else behind.
            self._audit_refusal(command, operator, role, now, str(refused))
            raise refused
        return Submitted(command_id, ev, result.changes)

    def _validate(
        self,
        conn: Connection,
        command: Command,
        hours: ServiceHours | None,
        now: datetime,
    ) -> None:
        if isinstance(command, AcknowledgeAlert):
            return
        if conn.dialect.name == "postgresql":
            # Serialise commands on the same call or team across every console: the second
            # waits here, then reads the first one's outbox row (READ COMMITTED) and is refused.
            # Locks are taken in one order (calls before teams, by id), so two never deadlock.
            keys = sorted(
                ([f"rc:call:{command.call_id}"] if command.call_id else [])
                + ([f"rc:team:{command.team_id}"] if command.team_id else [])
            )
            for key in keys:
                _advisory_lock(conn, key)
        t = Touched()
        if command.call_id:
            t.calls.add(command.call_id)
        if command.team_id:
            t.teams.add(command.team_id)
        st = self._load_partial(conn, t)
        call = st.calls.get(command.call_id) if command.call_id else None
        if call is not None and command.expected_version not in (None, call.version):
            raise CommandConflict(
                f"{call.id} changed meanwhile (now {_call_state(call)}); review it and try again",
                call=call,
            )
        pending = conn.execute(
            select(S.outbox.c.kind, S.outbox.c.command_id, S.outbox.c.operator)
            .where(
                S.outbox.c.status.in_(("queued", "sent")),
                S.outbox.c.call_id == command.call_id
                if command.call_id
                else S.outbox.c.team_id == command.team_id,
            )
            .order_by(S.outbox.c.created_at)
        ).all()
        clash = None
        if command.kind in ("assign", "reassign", "escalate"):
            clash = pending[0] if pending else None
        elif command.kind in _CONFLICTING:
            clash = next((p for p in pending if p.kind in _CONFLICTING), None)
        if clash is not None:
            subject = command.call_id or command.team_id
            now_is = f" (now {_call_state(call)})" if call is not None else ""
            raise CommandConflict(
                f"a {clash.kind} for {subject} by {clash.operator or 'another console'} is still "
                f"awaiting dispatch's answer{now_is}",
                call=call,
                pending_command_id=clash.command_id,
                pending_operator=clash.operator,
            )
        validate_command(command, st.calls, st.teams, mobile_crisis_hours=hours, now=now)

    def _audit_refusal(
        self, command: Command, operator: str, role: str, now: datetime, why: str
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(S.audit).values(
                    **_audit_values(command, operator, role, now),
                    command_id=None,
                    answer_status="rejected",
                    answer=why,
                    answered_at=now,
                )
            )

    def outbox_due(self, limit: int = 50) -> list[OutboxItem]:
        """Commands not yet answered by dispatch, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(S.outbox)
                .where(S.outbox.c.status.in_(("queued", "sent")))
                .order_by(S.outbox.c.created_at, S.outbox.c.command_id)
                .limit(limit)
            ).all()
        return [_outbox_item(r) for r in rows]

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
        if not owner:
            raise ValueError("claim_outbox needs a non-empty owner (the sender's identity)")
        if not lease_s > 0:
            raise ValueError(f"lease_s must be positive, not {lease_s!r}")
        now = self.clock.now()
        until = now + timedelta(seconds=lease_s)
        o = S.outbox.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(S.outbox)
                .where(
                    o.status.in_(("queued", "sent")),
                    or_(o.claimed_by.is_(None), o.claimed_by == owner, o.claimed_until <= now),
                )
                .order_by(o.created_at, o.command_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            ids = [r.command_id for r in rows]
            for part in _chunks(ids):
                conn.execute(
                    update(S.outbox)
                    .where(o.command_id.in_(part))
                    .values(claimed_by=owner, claimed_until=until)
                )
        return [_outbox_item(r, until) for r in rows]

    def release_outbox(self, owner: str) -> int:
        """Give back every unanswered row ``owner`` holds (a sender stopping cleanly)."""
        o = S.outbox.c
        with self.engine.begin() as conn:
            res = conn.execute(
                update(S.outbox)
                .where(o.claimed_by == owner, o.status.in_(("queued", "sent")))
                .values(claimed_by=None, claimed_until=None)
            )
        return int(res.rowcount or 0)

    def mark_sent(self, command_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(S.outbox)
                .where(S.outbox.c.command_id == command_id)
                .values(status="sent", attempts=S.outbox.c.attempts + 1, sent_at=self.clock.now())
            )

    def record_answer(
        self, command_id: str, *, accepted: bool, detail: str, at: datetime, source_id: str
    ) -> Changes:
        """Dispatch answered a command: record the fact, close the outbox row, fill the audit."""
        now = self.clock.now()
        ev: Event
        if accepted:
            ev = CommandConfirmed(
                source=Source.DISPATCH,
                source_id=source_id,
                occurred_at=at,
                recorded_at=now,
                command_id=command_id,
                detail=detail,
            )
        else:
            ev = CommandRefused(
                source=Source.DISPATCH,
                source_id=source_id,
                occurred_at=at,
                recorded_at=now,
                command_id=command_id,
                reason=detail or "refused by dispatch",
            )
        status = CommandStatus.CONFIRMED if accepted else CommandStatus.REFUSED
        with self._write() as conn:
            result = self._append(conn, [ev])
            conn.execute(
                update(S.outbox)
                .where(S.outbox.c.command_id == command_id, S.outbox.c.answered_at.is_(None))
                .values(status=status, answered_at=at, answer=detail)
            )
            conn.execute(
                update(S.audit)
                .where(S.audit.c.command_id == command_id, S.audit.c.answered_at.is_(None))
                .values(answer_status=status, answer=detail, answered_at=at)
            )
        return result.changes

    # -- the dispatch link's health, for consoles that do not hold the link ----------------------

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
        with self.engine.begin() as conn:
            conn.execute(delete(S.link_status).where(S.link_status.c.service == service))
            conn.execute(
                insert(S.link_status).values(
                    service=service,
                    state=state,
                    since=since,
                    url=url,
                    last_message_at=last_message_at,
                    attempts=attempts,
                    last_error=last_error,
                    reported_at=datetime.now(UTC),
                )
            )

    def link_reports(self) -> list[LinkReport]:
        """Every sync service's last report, freshest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(S.link_status).order_by(S.link_status.c.reported_at.desc())
            ).all()
        return [
            LinkReport(
                r.service,
                r.state,
                r.since,
                r.url,
                r.last_message_at,
                r.attempts,
                r.last_error,
                r.reported_at,
            )
            for r in rows
        ]

    def audit(self, limit: int = 200, *, call_id: str | None = None) -> list[AuditEntry]:
        q = select(S.audit).order_by(S.audit.c.id.desc()).limit(limit)
        if call_id is not None:
            q = q.where(S.audit.c.call_id == call_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            AuditEntry(
                r.id,
                r.at,
                r.operator,
                r.role,
                r.action,
                r.call_id,
                r.team_id,
                r.reason,
                r.detail,
                r.command_id,
                r.answer_status,
                r.answer,
                r.answered_at,
            )
            for r in rows
        ]


# -- row <-> record helpers -------------------------------------------------------------------


def _stored_events(conn: Connection, batch: int = 5000) -> Iterator[Event]:
    """Every stored event in log order, read on ``conn`` (inside its transaction)."""
    last = 0
    while True:
        rows = conn.execute(
            select(S.events).where(S.events.c.seq > last).order_by(S.events.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            yield event_from_parts(
                r.kind, r.source, r.source_id, r.occurred_at, r.recorded_at, json.loads(r.payload)
            )
        last = rows[-1].seq


def _outbox_item(r: Any, claimed_until: datetime | None = None) -> OutboxItem:
    return OutboxItem(
        r.command_id,
        r.idempotency_key,
        command_from_dict(json.loads(r.payload)),
        r.operator,
        r.attempts,
        r.created_at,
        r.status,
        claimed_until,
    )


def sender_identity() -> str:
    """A name for one outbox sender process (host, pid and a random part), for claim_outbox."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _call_state(c: Call) -> str:
    """A call's state in a few words, for a refusal the supervisor reads."""
    team = c.team or "no team"
    return f"{c.status.value.replace('_', ' ')}, priority {c.priority}, {team}, version {c.version}"


def _advisory_lock(conn: Connection, key: str) -> None:
    """A PostgreSQL transaction-scoped lock on a name (released at commit or rollback)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


@dataclass(frozen=True)
class _NoteFact:
    """A stored note as the write-back expects it (rebuild path)."""

    source: str
    source_id: str
    note: Note
    kind: str = "note"


def _note_of(e: Any) -> Note | None:
    n = getattr(e, "note", None)
    return n if isinstance(n, Note) else None


def _call_row(st: State, cid: str, cache: dict[int, str] | None) -> dict[str, Any]:
    c = st.calls[cid]
    data = cache.get(id(c)) if cache else None
    return {
        "id": c.id,
        "status": c.status.value,
        "priority": c.priority,
        "type": c.type.value,
        "received_at": c.received_at,
        "cleared_at": c.cleared_at,
        "team": c.team,
        "escalated_to": c.escalated_to.value if c.escalated_to else None,
        "unsafe": bool(c.safety_flags),
        "neighborhood": c.neighborhood,
        "updated_at": c.updated_at,
        "version": c.version,
        "k_source_id": st.call_source_id(cid),
        "data": data if data is not None else _dumps(call_to_dict(c)),
    }


def _team_row(st: State, tid: str, cache: dict[int, str] | None) -> dict[str, Any]:
    t = st.teams[tid]
    data = cache.get(id(t)) if cache else None
    return {
        "id": t.id,
        "status": t.status.value,
        "provider": t.provider,
        "call": t.call,
        "status_since": t.status_since,
        "updated_at": t.updated_at,
        "k_source_id": st.team_source_id(tid),
        "data": data if data is not None else _dumps(team_to_dict(t)),
    }


def _command_row(c: CommandRecord) -> dict[str, Any]:
    return {
        "command_id": c.command_id,
        "kind": c.command.kind if c.command else None,
        "status": c.status,
        "operator": c.operator,
        "requested_at": c.requested_at,
        "answered_at": c.answered_at,
        "answer": c.answer,
        "data": _dumps(command_to_dict(c.command)) if c.command else None,
    }


def _command_record(r: Any) -> CommandRecord:
    cmd = command_from_dict(json.loads(r.data)) if r.data else None
    return CommandRecord(
        r.command_id, cmd, r.status, r.operator, r.requested_at, r.answered_at, r.answer
    )


def _alert_row(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "severity": a.severity.value,
        "subject": a.subject,
        "message": a.message,
        "raised_at": a.raised_at,
    }


def _alert(r: Any) -> Alert:
    return Alert(r.id, AlertKind(r.kind), Severity(r.severity), r.subject, r.message, r.raised_at)


def _audit_values(command: Command, operator: str, role: str, now: datetime) -> dict[str, Any]:
    return {
        "at": now,
        "operator": operator,
        "role": role,
        "action": command.kind,
        "call_id": command.call_id,
        "team_id": command.team_id,
        "reason": command.reason,
        "detail": _dumps(command_to_dict(command)),
    }
