"""The outbox: commands waiting for dispatch, claimed by senders, closed by the answer."""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    or_,
    select,
    text,
    update,
)

from console.domain.changes import Changes
from console.domain.codec import (
    command_from_dict,
)
from console.domain.commands import (
    CommandStatus,
)
from console.domain.events import (
    CommandConfirmed,
    CommandRefused,
    Event,
    Source,
)

from . import schema as S
from .records import OutboxItem
from .sqlutil import _chunks

if TYPE_CHECKING:
    from .store import Store


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


def _gone(owner: str) -> bool:
    """Whether ``owner`` (a :func:`sender_identity`) was a process on this host that has
    ended: its claims can be taken over at once, not after their lease (a sync service
    killed and restarted resends at once). Another host's senders are never judged."""
    host, _, rest = owner.partition(":")
    pid, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def due(store: Store, limit: int = 50) -> list[OutboxItem]:
    """Commands not yet answered by dispatch, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(S.outbox)
            .where(S.outbox.c.status.in_(("queued", "sent")))
            .order_by(S.outbox.c.created_at, S.outbox.c.command_id)
            .limit(limit)
        ).all()
    return [_outbox_item(r) for r in rows]


def claim(store: Store, limit: int = 50, *, owner: str, lease_s: float = 30.0) -> list[OutboxItem]:
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
    now = store.clock.now()
    until = now + timedelta(seconds=lease_s)
    o = S.outbox.c
    with store.engine.begin() as conn:
        holders = conn.execute(
            select(o.claimed_by)
            .where(o.status.in_(("queued", "sent")), o.claimed_until > now)
            .distinct()
        ).scalars()
        dead = sorted(h for h in holders if h and h != owner and _gone(h))
        rows = conn.execute(
            select(S.outbox)
            .where(
                o.status.in_(("queued", "sent")),
                or_(
                    o.claimed_by.is_(None),
                    o.claimed_by == owner,
                    o.claimed_until <= now,
                    o.claimed_by.in_(dead),
                ),
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


def release(store: Store, owner: str) -> int:
    """Give back every unanswered row ``owner`` holds (a sender stopping cleanly)."""
    o = S.outbox.c
    with store.engine.begin() as conn:
        res = conn.execute(
            update(S.outbox)
            .where(o.claimed_by == owner, o.status.in_(("queued", "sent")))
            .values(claimed_by=None, claimed_until=None)
        )
    return int(res.rowcount or 0)


def mark_sent(store: Store, command_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(S.outbox)
            .where(S.outbox.c.command_id == command_id)
            .values(status="sent", attempts=S.outbox.c.attempts + 1, sent_at=store.clock.now())
        )


def record_answer(
    store: Store, command_id: str, *, accepted: bool, detail: str, at: datetime, source_id: str
) -> Changes:
    """Dispatch answered a command: record the fact, close the outbox row, fill the audit."""
    now = store.clock.now()
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
    with store._write() as conn:
        result = store._append(conn, [ev])
        conn.execute(
            update(S.outbox)
            .where(S.outbox.c.command_id == command_id, S.outbox.c.answered_at.is_(None))
            .values(status=status, answered_at=at, answer=detail)
        )
        if store._direct(conn)[2]:
            conn.execute(
                update(S.audit)
                .where(S.audit.c.command_id == command_id, S.audit.c.answered_at.is_(None))
                .values(answer_status=status, answer=detail, answered_at=at)
            )
        else:  # the sync service's login: through the function that fills answers only
            conn.execute(
                text("SELECT rc_audit_answer(:cid, :status, :answer, :at)"),
                {"cid": command_id, "status": str(status), "answer": detail, "at": at},
            )
    return result.changes
