"""The dispatch link's health as each sync service last reported it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    delete,
    insert,
    select,
)

from . import schema as S
from .records import LinkReport

if TYPE_CHECKING:
    from .store import Store


def report(
    store: Store,
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
    with store.engine.begin() as conn:
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


def reports(store: Store) -> list[LinkReport]:
    """Every sync service's last report, freshest first."""
    with store.engine.connect() as conn:
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
