"""Personal data about the people on a call, kept apart from the event log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    delete,
    insert,
    select,
)

from . import schema as S
from .sqlutil import _dumps

if TYPE_CHECKING:
    from .store import Store


def record(store: Store, call_id: str, persons: list[dict[str, Any]]) -> None:
    """Replace the people recorded for a call. Never in the event log, never exported raw."""
    with store.engine.begin() as conn:
        conn.execute(delete(S.persons).where(S.persons.c.call_id == call_id))
        if persons:
            now = store.clock.now()
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


def of(store: Store, call_id: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(S.persons.c.data).where(S.persons.c.call_id == call_id).order_by(S.persons.c.id)
        ).all()
    return [json.loads(r.data) for r in rows]
