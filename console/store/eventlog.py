"""The event log: append a batch (and fold it into the projection rows), read it back."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
    text,
)

from console.domain.changes import Snapshot, Touched, touched
from console.domain.codec import (
    call_to_dict,
    event_body,
    event_from_parts,
    event_to_dict,
    team_from_dict,
    team_to_dict,
)
from console.domain.events import (
    CallReceived,
    CallUpdated,
    Event,
    TeamStatusChanged,
)
from console.domain.lifecycle import TransitionError
from console.domain.model import Call
from console.domain.projection import RecordConflict, State, apply
from console.domain.unserved import is_eligible_unserved

from . import notify
from . import schema as S
from .chain import last_event_hash, link_event
from .records import AppendResult
from .sqlutil import _advisory_lock, _dumps, _rows_in
from .timetext import BatchTimes, json_time

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger("console.store")


_APPEND_LOCK = "rc:events"
"""PostgreSQL advisory lock key serialising appends: seqs commit in order, so a listener can
tell a missed notification from a late one, and two writers never insert one event twice."""


def _insert_events(
    conn: Connection, events: Sequence[Event], cache: dict[int, str], times: BatchTimes
) -> None:
    """The events of a batch, as tuples built in one pass (no intermediate dicts)."""
    dialect = conn.dialect
    # Events of a batch share many time objects (a record's time is its event's): ``times``
    # converts each once, for its column and for the chain.
    texts = times.texts
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        "INSERT INTO events (source, source_id, kind, entity_id, occurred_at, recorded_at,"
        f" payload, chain) VALUES ({', '.join([mark] * 8)})"
    )
    # Each row's hash chains to the one before (console.store.chain); the append lock held
    # by the caller makes the last stored row this batch's predecessor.
    prev = last_event_hash(conn)
    rows = []
    for e in events:
        occ_t, rec_t = e.occurred_at, e.recorded_at
        occ, occ_c = texts(occ_t)
        rec, rec_c = (occ, occ_c) if rec_t is occ_t else texts(rec_t)
        payload = _payload(e, cache)
        prev = link_event(prev, e.source, e.source_id, e.kind, e.entity_id, occ_c, rec_c, payload)
        rows.append((e.source, e.source_id, e.kind, e.entity_id, occ, rec, payload, prev))
    conn.exec_driver_sql(sql, rows)


def _insert_through_function(
    conn: Connection, events: Sequence[Event], cache: dict[int, str]
) -> None:
    """A supervisor's login on PostgreSQL: its command's event through the function that checks
    it and chains it (console.store.grants)."""
    q = text("SELECT rc_append_console_event(:sid, :kind, :ent, :occ, :rec, :payload)")
    for e in events:
        conn.execute(
            q,
            {
                "sid": e.source_id,
                "kind": e.kind,
                "ent": e.entity_id,
                "occ": e.occurred_at,
                "rec": e.recorded_at,
                "payload": _payload(e, cache),
            },
        )


_CALL_EVENTS = (CallReceived, CallUpdated)


def _payload(e: Event, cache: dict[int, str]) -> str:
    """The event's stored body; a call or team record's JSON is kept for its projection row."""
    if isinstance(e, _CALL_EVENTS):
        rec = _dumps(call_to_dict(e.call, json_time))
        cache[id(e.call)] = rec
        return '{"call":' + rec + "}"
    if isinstance(e, TeamStatusChanged):
        rec = _dumps(team_to_dict(e.team, json_time))
        cache[id(e.team)] = rec
        return '{"team":' + rec + "}"
    return _dumps(event_body(e))


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


CloseHook = Callable[[Call, State], "Event | None"]
"""Given a call this batch closed and a state holding every team and the call's assignments,
the event the writer records with it (None: nothing), in the same transaction."""


def append_batch(
    store: Store, conn: Connection, events: Sequence[Event], on_close: CloseHook | None = None
) -> AppendResult:
    after = store._lock_appends(conn)
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
        for (sid,) in _rows_in(conn, "events", "source_id", ("source_id",), sids, ("source", src)):
            if (src, sid) in fresh:
                del fresh[(src, sid)]
                dups += 1
    if not fresh:
        return AppendResult(duplicates=dups, last_seq=store._last_seq(conn))

    new = list(fresh.values())
    t = touched(new)
    state = store._load_partial(conn, t)
    before = t.snapshot(state)
    accepted: list[Event] = []
    rejected: list[tuple[Event, str]] = []
    conflicts: list[tuple[Event, str]] = []
    for e in new:
        try:
            apply(state, e, strict=True)
        except TransitionError as exc:
            rejected.append((e, str(exc)))
            continue
        except RecordConflict as exc:
            rejected.append((e, f"conflict: {exc}"))
            conflicts.append((e, str(exc)))
            continue
        accepted.append(e)
    if on_close is not None and accepted:
        accepted.extend(_closing(conn, state, before, t, on_close))
    now = store.clock.now()
    if rejected:
        conn.execute(
            insert(S.quarantine),
            [
                {
                    "received_at": now,
                    "source": e.source,
                    "reason": why
                    if why.startswith("conflict: ")
                    else f"impossible transition: {why}",
                    "raw": _dumps(event_to_dict(e)),
                }
                for e, why in rejected
            ],
        )
        for e, why in rejected:
            log.warning("quarantined %s %s: %s", e.kind, e.source_id, why)
    record_json: dict[int, str] = {}
    times = BatchTimes(conn.dialect.name == "sqlite")
    if accepted:
        if store._direct(conn)[0]:
            _insert_events(conn, accepted, record_json, times)
        else:
            _insert_through_function(conn, accepted, record_json)
    changed = store._write_back(conn, state, before, t, accepted, record_json, times)
    if store._rows is not None:
        store._folded.append((t, state))
    seq = store._last_seq(conn)
    result = AppendResult(accepted, dups, rejected, changed.changes(seq), seq, conflicts)
    if accepted:
        notify.publish(conn, result.changes, after, seq)
    return result


def _closing(
    conn: Connection, state: State, before: Snapshot, t: Touched, hook: CloseHook
) -> list[Event]:
    """The events ``hook`` gives for the eligible calls this batch closed that have no
    unserved reason yet, applied to ``state`` (and counted in ``t``) like the batch's own.

    Cheap: nothing is read unless the batch closed a call no team was sent to."""
    closed = [
        state.calls[cid]
        for cid in sorted(t.calls)
        if cid in state.calls
        and not state.calls[cid].is_open
        and (before.calls.get(cid) is None or before.calls[cid].is_open)
        and is_eligible_unserved(state.calls[cid])
    ]
    if not closed:
        return []
    ids = [c.id for c in closed]
    q = select(S.program_records.c.key).where(
        S.program_records.c.kind == "unserved", S.program_records.c.key.in_(ids)
    )
    known = {k for (k,) in conn.execute(q)}
    closed = [c for c in closed if c.id not in known and c.id not in state.unserved]
    if not closed:
        return []
    ctx = State()
    for data, ksid in conn.execute(select(S.teams.c.data, S.teams.c.k_source_id)):
        ctx.keep_team(team_from_dict(json.loads(data)), ksid)
    for tid, tm in state.teams.items():  # this batch's team records, not yet written
        ctx.keep_team(tm, state.team_source_id(tid))
    for r in conn.execute(
        select(S.assignments.c.call_id, S.assignments.c.team_id, S.assignments.c.at).where(
            S.assignments.c.call_id.in_(ids)
        )
    ):
        ctx.assignments[(r.call_id, r.team_id)] = r.at
    ctx.assignments.update({k: v for k, v in state.assignments.items() if k[0] in ids})
    out: list[Event] = []
    for c in closed:
        ctx.calls[c.id] = c
        e = hook(c, ctx)
        if e is None:
            continue
        key = ("unserved", c.id)
        t.program.add(key)
        before.program[key] = None
        apply(state, e, strict=True)
        out.append(e)
    return out


def lock_appends(store: Store, conn: Connection) -> int:
    """On PostgreSQL, wait for the append lock; returns the last seq before this batch.

    SQLite needs nothing: every write transaction there starts with ``BEGIN IMMEDIATE``.
    """
    if conn.dialect.name != "postgresql":
        return 0
    _advisory_lock(conn, _APPEND_LOCK)
    return store._last_seq(conn)


def last_seq(conn: Connection) -> int:
    # Straight on the driver: asked a few times per batch on the ingest path.
    return int(conn.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM events").scalar_one())


def events(
    store: Store,
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
        with store.engine.connect() as conn:
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


def event_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(S.events)).scalar_one())
