"""Hash chains over the event log and the audit: a row edited, deleted or slipped in shows.

Each row carries ``chain`` = SHA-256 (hex) over the previous row's ``chain`` and the row's
canonical content (``GENESIS`` before the first row). The value is computed in the append
transaction, under the lock that already orders the appends (``rc:events``; ``rc:audit`` for the
audit on PostgreSQL, the single writer on SQLite), so it costs one hash per row.

An audit row of a command sent to dispatch is answered later (its answer columns are filled
when dispatch replies): its chain covers what is fixed when it is written, and dispatch's answer
is an event, covered by the event log's chain. A row decided on the spot (refused, or done
locally) is covered whole.

:func:`verify` walks both chains and names the first row that does not match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from . import schema as S
from .sqlutil import _advisory_lock
from .timetext import canon_time

GENESIS = "0" * 64

_sha256 = hashlib.sha256

AUDIT_LOCK = "rc:audit"
"""PostgreSQL advisory lock key serialising audit inserts, so each sees its predecessor."""


EVENT_COLUMNS = (
    "seq",
    "source",
    "source_id",
    "kind",
    "entity_id",
    "occurred_at",
    "recorded_at",
    "payload",
    "chain",
)
AUDIT_COLUMNS = (
    "id",
    "at",
    "operator",
    "role",
    "action",
    "call_id",
    "team_id",
    "reason",
    "detail",
    "command_id",
    "answer_status",
    "answer",
    "answered_at",
    "chain",
)
"""The columns read to check a chain, named (a later column added to a table changes nothing)."""


def link(prev: str, fields: Iterable[str | None]) -> str:
    """SHA-256 over the previous hash and the fields, each length-prefixed (no two row
    contents give the same input)."""
    body = "".join(f"{-1 if f is None else len(f)}:{f or ''}" for f in fields)
    return hashlib.sha256((prev + body).encode()).hexdigest()


def link_event(
    prev: str, source: str, source_id: str, kind: str, entity_id: str, occ: str, rec: str, body: str
) -> str:
    """:func:`link` over an event's fields, spelled out: the ingest path calls it per row."""
    return _sha256(
        f"{prev}{len(source)}:{source}{len(source_id)}:{source_id}{len(kind)}:{kind}"
        f"{len(entity_id)}:{entity_id}{len(occ)}:{occ}{len(rec)}:{rec}{len(body)}:{body}".encode()
    ).hexdigest()


def event_fields(
    source: str,
    source_id: str,
    kind: str,
    entity_id: str,
    occurred_at: str,
    recorded_at: str,
    payload: str,
) -> tuple[str, ...]:
    return (source, source_id, kind, entity_id, occurred_at, recorded_at, payload)


def audit_fields(v: dict[str, Any]) -> tuple[str | None, ...]:
    """The audit row's content the chain covers (see the module's note on answers)."""
    settled = v.get("command_id") is None
    return (
        canon_time(v["at"]),
        v["operator"],
        v["role"],
        v["action"],
        v.get("call_id"),
        v.get("team_id"),
        v.get("reason") or "",
        v.get("detail") or "{}",
        v.get("command_id"),
        v.get("answer_status") if settled else None,
        (v.get("answer") or "") if settled else None,
        canon_time(v.get("answered_at")) if settled else None,
    )


def last_event_hash(conn: Connection) -> str:
    h = conn.exec_driver_sql("SELECT chain FROM events ORDER BY seq DESC LIMIT 1").scalar()
    return h or GENESIS


def chain_audit(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with its ``chain``; call inside the inserting transaction (takes the lock)."""
    if conn.dialect.name == "postgresql":
        _advisory_lock(conn, AUDIT_LOCK)
    prev = conn.exec_driver_sql("SELECT chain FROM audit ORDER BY id DESC LIMIT 1").scalar()
    return {**values, "chain": link(prev or GENESIS, audit_fields(values))}


# -- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    events: int
    audit_rows: int
    broken: str | None
    """The first row that breaks a chain, in words; None when both hold."""

    @property
    def ok(self) -> bool:
        return self.broken is None


def _walk(
    conn: Connection,
    table: Any,
    cols: Sequence[str],
    key: Any,
    fields: Callable[[Any], Sequence[str | None]],
    what: str,
    latest: int | None,
    batch: int = 2000,
) -> tuple[int, str | None]:
    """Walk one chain in key order; (rows checked, first break or None)."""
    prev: str | None = None
    start = None
    if latest is not None:
        # Start from the row before the latest ones: its stored hash is taken on trust.
        q = select(key).order_by(key.desc()).offset(latest).limit(1)
        start = conn.execute(q).scalar()
        if start is not None:
            prev = conn.execute(select(table.c.chain).where(key == start)).scalar()
            if prev is None:
                return 0, f"{what} {start} has no chain hash"
    if prev is None:
        prev = GENESIS
    last = start if start is not None else -1
    n = 0
    while True:
        rows = conn.execute(
            select(*(table.c[c] for c in cols)).where(key > last).order_by(key).limit(batch)
        ).all()
        if not rows:
            return n, None
        for r in rows:
            k = r._mapping[key.name]
            stored = r.chain
            if stored is None:
                return n, f"{what} {k} has no chain hash"
            expect = link(prev, fields(r))
            if stored != expect:
                return n, (
                    f"{what} {k} does not follow from the row before it "
                    "(altered, or a row before it was deleted or inserted)"
                )
            prev = stored
            n += 1
        last = rows[-1]._mapping[key.name]


def _event_row_fields(r: Any) -> tuple[str, ...]:
    return event_fields(
        r.source,
        r.source_id,
        r.kind,
        r.entity_id,
        canon_time(r.occurred_at),
        canon_time(r.recorded_at),
        r.payload,
    )


def _audit_row_fields(r: Any) -> tuple[str | None, ...]:
    return audit_fields(dict(r._mapping))


def verify(engine: Engine, *, latest: int | None = None) -> Verdict:
    """Check both chains (only the ``latest`` rows of each when given)."""
    with engine.connect() as conn:
        n_ev, broken = _walk(
            conn, S.events, EVENT_COLUMNS, S.events.c.seq, _event_row_fields, "event seq", latest
        )
        n_au = 0
        if broken is None:
            n_au, broken = _walk(
                conn, S.audit, AUDIT_COLUMNS, S.audit.c.id, _audit_row_fields, "audit row", latest
            )
    return Verdict(n_ev, n_au, broken)


def backfill(conn: Connection) -> None:
    """Compute the chains of rows written before the chains existed (the migration)."""
    _backfill(conn, S.events, "seq", EVENT_COLUMNS, _event_row_fields)
    _backfill(conn, S.audit, "id", AUDIT_COLUMNS, _audit_row_fields)


def _backfill(
    conn: Connection,
    table: Any,
    key: str,
    columns: Sequence[str],
    fields: Callable[[Any], Any],
) -> None:
    """One table's chain, in key order, a few thousand rows at a time."""
    prev = GENESIS
    last = -1
    while True:
        rows = conn.execute(
            select(*(table.c[c] for c in columns))
            .where(table.c[key] > last)
            .order_by(table.c[key])
            .limit(2000)
        ).all()
        if not rows:
            break
        values = []
        for r in rows:
            prev = link(prev, fields(r))
            values.append({"k": getattr(r, key), "h": prev})
        _update_chain(conn, table.name, key, values)
        last = getattr(rows[-1], key)


def _update_chain(conn: Connection, table: str, key: str, values: list[dict[str, Any]]) -> None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"UPDATE {table} SET chain = {mark} WHERE {key} = {mark}",
        [(v["h"], v["k"]) for v in values],
    )
