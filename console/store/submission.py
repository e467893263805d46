"""Command submission: the checks against the rules and the other supervisors' pending
commands, then the event, outbox row and audit row in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Connection,
    insert,
    select,
    text,
)

from console.domain.changes import Touched
from console.domain.codec import (
    command_to_dict,
)
from console.domain.commands import (
    AcknowledgeAlert,
    Command,
    CommandRejected,
    RecordOutcome,
)
from console.domain.events import (
    CommandRequested,
    Event,
    Source,
)
from console.domain.followup import FollowUpPolicy
from console.domain.local import check_local, local_event
from console.domain.model import Call
from console.domain.rules import ServiceHours, validate_command

from . import schema as S
from .audit import _audit_values, insert_audit
from .records import CommandConflict, Submitted
from .sqlutil import _advisory_lock, _dumps

if TYPE_CHECKING:
    from .store import Store


_CONFLICTING = frozenset({"assign", "reassign", "escalate", "change_priority"})
"""Command kinds that change who handles a call or how urgent it is: two of them pending on
the same call at once means two supervisors acted on the same picture."""


def _call_state(c: Call) -> str:
    """A call's state in a few words, for a refusal the supervisor reads."""
    team = c.team or "no team"
    return f"{c.status.value.replace('_', ' ')}, priority {c.priority}, {team}, version {c.version}"


def submit(
    store: Store,
    command: Command,
    *,
    operator: str,
    role: str = "supervisor",
    mobile_crisis_hours: ServiceHours | None = None,
    followups: FollowUpPolicy | None = None,
) -> Submitted:
    """:meth:`Store.submit <console.store.store.Store.submit>`, in its one transaction.

    ``followups``: the site's follow-up rules; when they open follow-ups automatically, an
    outcome that needs a follow-up the call lacks opens it in the same transaction (its own
    event and audit row).
    """
    now = store.clock.now()
    if role != "supervisor":
        store._audit_refusal(command, operator, role, now, f"the {role} role cannot act")
        raise CommandRejected(f"the {role} role cannot act; only a supervisor can")
    command_id = uuid.uuid4().hex
    refused: CommandRejected | None = None
    with store._write() as conn:
        try:
            store._validate(conn, command, mobile_crisis_hours, now)
        except CommandRejected as exc:
            refused = exc
        else:
            ev: Event
            if not command.sent_to_dispatch:
                ev = local_event(command, command_id, operator, now)
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
            result = store._append(conn, [ev])
            changes = result.changes
            if command.sent_to_dispatch and not store._direct(conn)[0]:
                conn.execute(
                    text("SELECT rc_queue_command(:cid, :kind, :payload, :call_id, :team_id, :at)"),
                    {
                        "cid": command_id,
                        "kind": command.kind,
                        "payload": _dumps(command_to_dict(command)),
                        "call_id": command.call_id,
                        "team_id": command.team_id,
                        "at": now,
                    },
                )
            elif command.sent_to_dispatch:
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
            values = {
                **_audit_values(command, operator, role, now),
                "command_id": command_id if command.sent_to_dispatch else None,
                "answer_status": "pending" if command.sent_to_dispatch else "done",
                "answer": "",
            }
            insert_audit(store, conn, values)
            if followups is not None and followups.automatic and isinstance(command, RecordOutcome):
                from .followups import for_outcome

                opening = for_outcome(store, conn, command, followups, now)
                if opening is not None:
                    fid = uuid.uuid4().hex
                    more = store._append(conn, [local_event(opening, fid, operator, now)])
                    changes = changes.merge(more.changes)
                    insert_audit(
                        store,
                        conn,
                        {
                            **_audit_values(opening, operator, role, now),
                            "command_id": None,
                            "answer_status": "done",
                            "answer": "",
                        },
                    )
    if refused is not None:
        # Audited after the transaction: a refusal leaves nothing else behind.
        store._audit_refusal(command, operator, role, now, str(refused))
        raise refused
    return Submitted(command_id, ev, changes)


def validate(
    store: Store,
    conn: Connection,
    command: Command,
    hours: ServiceHours | None,
    now: datetime,
) -> None:
    if isinstance(command, AcknowledgeAlert):
        return
    if not command.sent_to_dispatch:
        t = Touched()
        if command.call_id:
            t.calls.add(command.call_id)
        fid = getattr(command, "followup_id", "")
        if fid:
            t.program.add(("followup", fid))
        check_local(command, store._load_partial(conn, t), now)
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
    st = store._load_partial(conn, t)
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
