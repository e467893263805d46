"""Quarantine: bad input kept with the reason it was refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    func,
    insert,
    select,
    update,
)

from console.domain.events import (
    Source,
)

from . import schema as S
from .records import QuarantineItem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from console.domain.events import Event

if TYPE_CHECKING:
    from .store import Store


def put(store: Store, raw: str, reason: str, source: str = Source.DISPATCH) -> int:
    """Keep bad input with the reason it was refused; returns its quarantine id."""
    with store.engine.begin() as conn:
        res = conn.execute(
            insert(S.quarantine).values(
                received_at=store.clock.now(), source=source, reason=reason, raw=raw
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])


def items(store: Store, limit: int = 100) -> list[QuarantineItem]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(S.quarantine).order_by(S.quarantine.c.id.desc()).limit(limit)
        ).all()
    return [
        QuarantineItem(r.id, r.received_at, r.source, r.reason, r.raw, r.reprocessed_at)
        for r in rows
    ]


def count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(S.quarantine)).scalar_one())


def unprocessed(store: Store, source: str = Source.DISPATCH) -> list[QuarantineItem]:
    """Quarantined messages from ``source`` not yet read again successfully, oldest first."""
    q = S.quarantine
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(q).where(q.c.source == source, q.c.reprocessed_at.is_(None)).order_by(q.c.id)
        ).all()
    return [QuarantineItem(r.id, r.received_at, r.source, r.reason, r.raw) for r in rows]


def reprocess(
    store: Store,
    read: Callable[[str], tuple[Sequence[Event], dict[str, list[dict[str, Any]]]]],
    source: str = Source.DISPATCH,
) -> list[tuple[int, str]]:
    """Read each unprocessed quarantined message again with ``read`` (raw -> events and persons
    per call; raises ValueError when it still cannot be read). What reads enters the log as new
    input would (duplicates by source id are skipped, so it enters exactly once) and the item is
    marked reprocessed, keeping its raw text. Returns (id, outcome) per item looked at."""
    out: list[tuple[int, str]] = []
    for item in unprocessed(store, source):
        try:
            events, persons = read(item.raw)
        except ValueError as exc:
            out.append((item.id, f"still refused: {exc}"))
            continue
        result = store.append(list(events))
        for call_id, rows in persons.items():
            store.record_persons(call_id, rows)
        note = f"{len(events)} fact(s) read, {len(result.appended)} new"
        if result.rejected:
            note += f", {len(result.rejected)} refused by the lifecycle (quarantined again)"
        with store.engine.begin() as conn:
            conn.execute(
                update(S.quarantine)
                .where(S.quarantine.c.id == item.id)
                .values(reprocessed_at=store.clock.now(), reprocess_note=note)
            )
        out.append((item.id, note))
    return out
