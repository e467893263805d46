"""The follow-up queue's table: one row per follow-up, due and overdue first.

Nothing about the person is shown: the call, the owner, when it is due, why it exists and what
the attempts gave.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain.program import FOLLOWUP_END_LABELS, FollowUp
from console.ui.tables.model import Cell, Column, RecordTableModel, StatusTextProxy, natural_key

CAUSE_LABELS = {
    "referred": "Referred",
    "refused_services": "Refused services",
    "unable_to_locate": "Unable to locate",
    "transported": "Transported",
    "transported_community": "Transported (community)",
    "transported_ed": "Transported (ED)",
    "outside_hours": "Outside program hours",
    "unserved": "Unserved",
    "manual": "Opened by hand",
}
RESULT_LABELS = {
    "reached": "Reached",
    "no_answer": "No answer",
    "left_message": "Left message",
    "wrong_number": "Wrong number",
    "declined": "Declined",
    "other": "Other",
}
CHANNEL_LABELS = {
    "phone": "Phone",
    "text": "Text message",
    "visit": "Visit",
    "agency": "Through an agency",
    "other": "Other",
}

CLOSED_SORT = 1e12
"""Closed follow-ups sort after every open one on the due column."""


def relative(seconds: float) -> str:
    """A duration in the largest sensible unit: ``45 min``, ``5 h``, ``3 d``."""
    s = abs(seconds)
    if s < 3600:
        return f"{max(int(s // 60), 1)} min"
    if s < 48 * 3600:
        return f"{int(s // 3600)} h"
    return f"{int(s // 86400)} d"


def status_key(open_: bool, owner: str) -> str:
    """The row's status for the proxy's filter: open or closed, and the owner."""
    return f"{'open' if open_ else 'closed'}|{owner}"


@dataclass(frozen=True, slots=True)
class _Row:
    fu: FollowUp


class FollowUpsModel(RecordTableModel):
    COLUMNS = (
        Column("call", "Call", "The call followed up"),
        Column("owner", "Owner", "The provider agency or team that owns the follow-up"),
        Column(
            "due",
            "Due",
            "When it is due; ! marks an overdue follow-up (closed ones show how they ended)",
            ticking=True,
        ),
        Column("cause", "Cause", "Why the follow-up exists"),
        Column("attempts", "Attempts", "Attempts made so far", align_right=True),
        Column("last", "Last result", "What the latest attempt gave"),
    )

    def set_picture(self, followups: Iterable[FollowUp], now: datetime) -> None:
        self._apply((_Row(f) for f in followups if f.opened_at is not None), now)

    def owners(self) -> list[str]:
        return sorted({r.fu.owner for r in self._records.values()}, key=str.casefold)

    def followup(self, fid: str) -> FollowUp | None:
        row = self._records.get(fid)
        return row.fu if row is not None else None

    def _record_id(self, record: Any) -> str:
        return str(record.fu.id)

    def _record_status(self, record: Any) -> str:
        return status_key(record.fu.is_open, record.fu.owner)

    def _static_cell(self, col: int, record: Any) -> Cell:
        f: FollowUp = record.fu
        key = self.COLUMNS[col].key
        if key == "call":
            return Cell(f.call_id, natural_key(f.call_id), f"follow-up {f.id}")
        if key == "owner":
            return Cell(f.owner, f.owner.casefold())
        if key == "cause":
            text = CAUSE_LABELS.get(f.cause, f.cause.replace("_", " "))
            return Cell(text, text.casefold())
        if key == "attempts":
            n = len(f.attempts)
            tip = "; ".join(
                f"{a.at.astimezone():%d %b %H:%M} {CHANNEL_LABELS.get(a.channel, a.channel)}: "
                f"{RESULT_LABELS.get(a.result, a.result)} ({a.operator})"
                for a in f.attempts
            )
            return Cell(str(n), n, tip or "no attempt yet")
        if key == "last":
            if not f.attempts:
                return Cell("—", "", "no attempt yet")
            a = f.attempts[-1]
            text = RESULT_LABELS.get(a.result, a.result)
            return Cell(
                text, text.casefold(), f"{CHANNEL_LABELS.get(a.channel, a.channel)}, {a.operator}"
            )
        raise AssertionError(key)

    def _ticking_cell(self, col: int, record: Any, now: datetime) -> Cell:
        f: FollowUp = record.fu
        if not f.is_open:
            end = FOLLOWUP_END_LABELS[f.end] if f.end is not None else "closed"
            when = f" {f.closed_at.astimezone():%d %b %H:%M}" if f.closed_at else ""
            return Cell(
                f"closed: {end}",
                CLOSED_SORT + (f.closed_at.timestamp() if f.closed_at else 0),
                f"closed{when} by {f.closed_by}: {end}",
                fg="muted_fg",
            )
        if f.due_at is None:
            return Cell("—", CLOSED_SORT - 1, "no due time")
        left = (f.due_at - now).total_seconds()
        due = f"{f.due_at.astimezone():%a %d %b %H:%M}"
        if left < 0:
            return Cell(
                f"! {relative(left)} overdue",
                f.due_at.timestamp(),
                f"was due {due}: overdue",
                fg="overdue_fg",
                bg="overdue_bg",
                bold=True,
                accessible=f"Overdue by {relative(left)}",
            )
        return Cell(f"in {relative(left)}", f.due_at.timestamp(), f"due {due}")


class FollowUpsProxy(StatusTextProxy):
    """Filters by owner and open/closed on top of the text filter."""

    def set_view(self, owners: Collection[str], owner: str | None, open_only: bool) -> None:
        """Show one owner's (None: every owner's) follow-ups, only open ones if ``open_only``."""
        states = (True,) if open_only else (True, False)
        chosen = [owner] if owner is not None else list(owners)
        if owner is None and not open_only:
            self.set_status_filter(None)
            return
        self.set_status_filter({status_key(s, o) for s in states for o in chosen})
