"""Follow-ups opened by the site's rules (console.domain.followup), in the writer's transaction:
by the sync service when dispatch closes a call that needs one, and with the outcome a
supervisor records when that outcome needs one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from console.domain.changes import Touched
from console.domain.commands import OpenFollowUp, RecordOutcome
from console.domain.followup import FollowUpPolicy, due_on_close, followup_id, open_for_outcome
from console.domain.projection import State

from .records import AppendResult

if TYPE_CHECKING:
    from .store import Store


def _load(store: Store, conn: Connection, call_ids: Iterable[str]) -> State:
    """The calls, their follow-ups and the teams they had, as stored."""
    t = Touched()
    for cid in call_ids:
        t.calls.add(cid)
        t.program.add(("followup", followup_id(cid)))
    st = store._load_partial(conn, t)
    teams = Touched()
    for c in st.calls.values():
        teams.teams.update(x for x in (c.team, *c.teams) if x)
    if teams.teams:
        st.teams.update(store._load_partial(conn, teams).teams)
    return st


def open_on_close(
    store: Store, call_ids: Iterable[str], policy: FollowUpPolicy, at: datetime
) -> AppendResult:
    """Open the follow-ups these calls need as they now stand (one each at most, ever: the
    event is named after the call, so a second writer's opening is a duplicate)."""
    ids = sorted(set(call_ids))
    if not ids:
        return AppendResult()
    with store._write() as conn:
        st = _load(store, conn, ids)
        events = due_on_close(
            (st.calls[c] for c in ids if c in st.calls), st.teams, st.followups, policy, at
        )
        if not events:
            return AppendResult()
        return store._append(conn, events)


def for_outcome(
    store: Store, conn: Connection, command: RecordOutcome, policy: FollowUpPolicy, now: datetime
) -> OpenFollowUp | None:
    """The follow-up a supervisor's recorded outcome opens, if it needs one the call lacks."""
    st = _load(store, conn, [command.call_id])
    call = st.calls.get(command.call_id)
    if call is None:
        return None
    return open_for_outcome(call, command.outcome, st.teams, st.followups, policy, now)
