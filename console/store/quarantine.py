"""Quarantine: bad input kept with the reason it was refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    func,
    insert,
    select,
)

from console.domain.events import (
    Source,
)

from . import schema as S
from .records import QuarantineItem

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
    return [QuarantineItem(r.id, r.received_at, r.source, r.reason, r.raw) for r in rows]


def count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(S.quarantine)).scalar_one())
