"""SQL helpers shared by the store modules: bound-parameter chunks, driver-level bulk inserts, times."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    text,
)

from . import schema as S
from .timetext import BatchTimes

_CHUNK = 400  # keeps IN (...) lists well under every backend's bound-parameter limit


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


def _params(
    conn: Connection, table: Any, rows: list[dict[str, Any]], times: BatchTimes | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Dict rows as (columns, driver parameter tuples) for :func:`_insert_params`.

    SQLAlchemy's per-value type processing costs more than SQLite itself on the ingest path, so
    times are converted here once, the way :class:`~console.store.schema.UtcDateTime` stores
    them (through ``times``, the batch's, when given).
    """
    if not rows:
        return [], []
    cols = list(rows[0])
    conv = (times or BatchTimes(conn.dialect.name == "sqlite")).db
    is_time = [isinstance(table.c[c].type, S.UtcDateTime) for c in cols]
    pairs = list(zip(cols, is_time, strict=True))
    return cols, [tuple(conv(r[c]) if t else r[c] for c, t in pairs) for r in rows]


def _insert_params(
    conn: Connection,
    table: Any,
    cols: Sequence[str],
    params: list[tuple[Any, ...]],
    verb: str = "INSERT",
) -> None:
    """executemany of driver-ready tuples (times already converted) into ``cols``."""
    if not params:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"{verb} INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(mark for _ in cols)})"
    conn.exec_driver_sql(sql, params)


def _dumps(obj: Any) -> str:
    # orjson: compact UTF-8 JSON, several times faster than the stdlib on the ingest hot path.
    return orjson.dumps(obj).decode()


def _advisory_lock(conn: Connection, key: str) -> None:
    """A PostgreSQL transaction-scoped lock on a name (released at commit or rollback)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
