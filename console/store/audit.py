"""The audit trail: who asked for what, and what came of it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    text,
)

from console.domain.codec import (
    command_to_dict,
)
from console.domain.commands import (
    Command,
)

from . import schema as S
from .chain import chain_audit
from .records import AuditEntry
from .sqlutil import _dumps

if TYPE_CHECKING:
    from .store import Store


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


def insert_audit(store: Store, conn: Connection, values: dict[str, Any]) -> None:
    """One audit row, chained; through ``rc_audit`` (which records the login) when this
    PostgreSQL login may not insert audit rows itself."""
    if store._direct(conn)[1]:
        conn.execute(insert(S.audit).values(**chain_audit(conn, values)))
        return
    conn.execute(
        text(
            "SELECT rc_audit(:at, :role, :action, :call_id, :team_id, :reason, :detail,"
            " :command_id, :answer_status, :answer, :answered_at)"
        ),
        {"answered_at": None, **values},
    )


def record_refusal(
    store: Store, command: Command, operator: str, role: str, now: datetime, why: str
) -> None:
    with store.engine.begin() as conn:
        values = {
            **_audit_values(command, operator, role, now),
            "command_id": None,
            "answer_status": "rejected",
            "answer": why,
            "answered_at": now,
        }
        insert_audit(store, conn, values)


def record_action(
    store: Store,
    action: str,
    *,
    operator: str,
    role: str,
    now: datetime,
    call_id: str | None = None,
    team_id: str | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """An action the console took that is no command (a step of the missed check-in ladder),
    audited as done."""
    with store.engine.begin() as conn:
        insert_audit(
            store,
            conn,
            {
                "at": now,
                "operator": operator,
                "role": role,
                "action": action,
                "call_id": call_id,
                "team_id": team_id,
                "reason": reason,
                "detail": _dumps(detail or {}),
                "command_id": None,
                "answer_status": "done",
                "answer": "",
            },
        )


def entries(store: Store, limit: int = 200, *, call_id: str | None = None) -> list[AuditEntry]:
    q = select(S.audit).order_by(S.audit.c.id.desc()).limit(limit)
    if call_id is not None:
        q = q.where(S.audit.c.call_id == call_id)
    with store.engine.connect() as conn:
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
