"""The call queue's item model: one row per call, most urgent first, ticking ages, and its
sort/filter proxy."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject

from console.domain.commands import (
    Command,
    CommandRecord,
)
from console.domain.model import Call, CallStatus
from console.domain.rules import Thresholds, safety_screen
from console.ui.core.labels import (
    PRIORITY_NOT_GIVEN_TIP,
    call_details,
    call_status_text,
    call_type_text,
    short_priority,
)
from console.ui.tables.model import (
    DARK_PALETTE,
    OVERDUE_MARK,
    PENDING_MARK,
    UNSAFE_MARK,
    Cell,
    Column,
    Palette,
    RecordTableModel,
    StatusTextProxy,
    format_age,
    minutes_text,
    natural_key,
    pending_by,
    words_text,
)

_CALL_STATUS_ORDER = {s: i for i, s in enumerate(CallStatus)}


class CallQueueModel(RecordTableModel):
    """The call queue: one row per call the picture holds."""

    COLUMNS = (
        Column("safety", UNSAFE_MARK, "⚠ safety flags: not for a civilian team (hover for which)"),
        Column("priority", "Pri", "Priority: 1 urgent .. 3 routine", align_right=True),
        Column(
            "age",
            "Age",
            "Time since the call was received (mm:ss, or h:mm h); ! marks a call pending "
            "past its limit. The first click sorts the oldest first",
            ticking=True,
            align_right=True,
        ),
        Column("id", "Call", "Dispatch's call id"),
        Column("type", "Type", "Call type"),
        Column("status", "Status", "Call status"),
        Column("team", "Team", "Team working the call"),
        Column("location", "Location", "Neighborhood · address"),
        Column("command", PENDING_MARK, "⟳ a command awaiting dispatch's answer (hover for which)"),
        Column(
            "order",
            "Order",
            "The queue's default order: pending calls first, the longest waiting first, then "
            "active calls by priority",
            hidden=True,
        ),
    )

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        palette: Palette = DARK_PALETTE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(thresholds, palette, parent)
        self._pending: dict[str, list[str]] = {}

    def set_picture(
        self,
        calls: Iterable[Call],
        now: datetime,
        pending: Iterable[Command | CommandRecord] = (),
        only: Collection[str] | None = None,
        unconfirmed: Mapping[str, datetime] | None = None,
        revealed: str | None = None,
    ) -> None:
        """Show ``calls`` as they are at ``now``; ``pending`` commands are marked on their call,
        and ``unconfirmed`` calls (dispatch did not re-send them after a reconnect) say since
        when they are not confirmed. With ``only``, ``calls`` are those ids' current records and
        the other rows stay."""
        self._pending = pending_by(pending, "call")
        marks = unconfirmed or {}
        views = (
            _CallView(c, tuple(self._pending.get(c.id, ())), marks.get(c.id), c.id == revealed)
            for c in calls
        )
        self._apply(views, now, only)

    def call(self, call_id: str) -> Call | None:
        view = self._records.get(call_id)
        return view.call if view is not None else None

    def _record_id(self, record: Any) -> str:
        return str(record.call.id)

    def _record_status(self, record: Any) -> str:
        return str(record.call.status.value)

    def _static_cell(self, col: int, record: Any) -> Cell:
        c: Call = record.call
        key = self.COLUMNS[col].key
        if key == "id":
            return Cell(c.id, natural_key(c.id), "\n".join(call_details(c)))
        if key == "priority":
            tip = {1: "Priority 1 (urgent)", 2: "Priority 2", 3: "Priority 3 (routine)"}.get(
                c.priority, f"Priority {c.priority}"
            )
            if not c.priority_given:
                tip += f": {PRIORITY_NOT_GIVEN_TIP}"
            return Cell(
                short_priority(c),
                c.priority,
                tip,
                fg=f"priority_fg:{c.priority}",
                bold=c.priority == 1,
            )
        if key == "type":
            extra = []
            if c.juvenile:
                extra.append("juvenile subject")
            if c.language:
                extra.append(f"language: {c.language}")
            if c.transport_needed:
                extra.append(f"transport, {c.transport_seats} seat(s)")
            label = call_type_text(c)
            tip = label + (" — " + ", ".join(extra) if extra else "")
            return Cell(label, label, tip)
        if key == "status":
            text = call_status_text(c)
            if c.escalated_to is not None:
                text += f" → {words_text(c.escalated_to.value)}"
            if record.revealed and not c.is_open:
                # Shown although closed (a replay's jump to it): say since when.
                text += f" · closed at {(c.cleared_at or c.updated_at).astimezone():%H:%M}"
            tip = f"{text} (last update {c.updated_at.astimezone():%H:%M:%S})"
            since: datetime | None = record.unconfirmed
            if since is not None and c.is_open:
                text += f" · not confirmed since {since.astimezone():%H:%M}"
                tip += (
                    f"\nDispatch has not confirmed this call since {since.astimezone():%H:%M}: "
                    "it did not send it again when the link came back. It may have been closed "
                    "at dispatch; check with dispatch before acting on it."
                )
            return Cell(
                text,
                _CALL_STATUS_ORDER.get(c.status, 99),
                tip,
                fg=f"call_status_fg:{c.status.value}",
            )
        if key == "team":
            text = c.team or ""
            others = [t for t in c.teams if t != c.team]
            if others:
                text += f" +{len(others)}"
            names = ", ".join(dict.fromkeys([*([c.team] if c.team else []), *c.teams]))
            return Cell(text, natural_key(c.team or "~"), names or None)
        if key == "location":
            parts = [p for p in (c.neighborhood, c.address) if p]
            text = " · ".join(parts)
            return Cell(text, text.casefold(), text or None)
        if key == "safety":
            if not c.safety_flags:
                return Cell("", 0)
            flags = ", ".join(words_text(f.value) for f in c.safety_flags)
            return Cell(
                UNSAFE_MARK,
                len(c.safety_flags),
                f"Unsafe: {flags}. {safety_screen(c).message}",
                fg="unsafe_fg",
                bold=True,
                accessible=f"Unsafe: {flags}",
            )
        if key == "order":
            return Cell("", default_order_key(c))
        if key == "command":
            pend: tuple[str, ...] = record.pending
            if not pend:
                return Cell("", 0)
            return Cell(
                PENDING_MARK,
                len(pend),
                "Waiting for dispatch to confirm or refuse: " + "; ".join(pend),
                fg="pending_fg",
                accessible="Pending: " + "; ".join(pend),
            )
        raise AssertionError(key)

    def _ticking_cell(self, col: int, record: Any, now: datetime) -> Cell:
        c: Call = record.call
        age = (now - c.received_at).total_seconds()
        # Ascending is the oldest first: the first click on Age shows the longest wait on top.
        key = c.received_at.timestamp()
        text = format_age(age)
        if c.status is CallStatus.PENDING:
            limit = self._thresholds.pending_limit(c)
            by_type = c.type.value in self._thresholds.pending_by_type_s
            scope = f"{c.type.label.lower()} calls" if by_type else f"P{c.priority}"
            if age > limit:
                return Cell(
                    f"{OVERDUE_MARK} {text}",
                    key,
                    f"pending {minutes_text(age)}, limit {minutes_text(limit)} for {scope}: overdue",
                    fg="overdue_fg",
                    bg="overdue_bg",
                    bold=True,
                    accessible=f"Overdue: pending {minutes_text(age)}",
                )
            return Cell(
                text, key, f"pending {minutes_text(age)}, limit {minutes_text(limit)} for {scope}"
            )
        if not c.is_open:
            end = c.cleared_at or c.updated_at
            open_for = (end - c.received_at).total_seconds()
            return Cell(
                text,
                key,
                f"received {minutes_text(age)} ago; {call_status_text(c)} after "
                f"{minutes_text(open_for)}",
                fg="muted_fg",
            )
        return Cell(text, key, f"received {minutes_text(age)} ago")


_GROUP = 1e11
"""Spacing of :func:`default_order_key`'s groups and priorities (timestamps are about 2e9)."""


def default_order_key(c: Call) -> float:
    """The queue's default order as one number (sorted inside Qt, no Python per comparison):
    pending calls first, the longest waiting first; then active calls by priority, the oldest
    first within a priority; closed calls last."""
    ts = c.received_at.timestamp()
    if c.status is CallStatus.PENDING:
        return ts
    group = 1 if c.is_open else 2
    return group * 10 * _GROUP + c.priority * _GROUP + ts


@dataclass(frozen=True, slots=True)
class _CallView:
    """A call plus what the console adds to its row (commands awaiting dispatch)."""

    call: Call
    pending: tuple[str, ...] = ()
    unconfirmed: datetime | None = None
    """When dispatch last confirmed this open call, when it did not re-send it after the link
    came back (None: confirmed)."""
    revealed: bool = False
    """Shown although the view's filter would hide it (marked with when it closed)."""


OPEN_CALL_STATUSES = frozenset(s.value for s in CallStatus if s.is_open)


class CallQueueProxy(StatusTextProxy):
    """Sort/filter for the queue; ``set_open_only(True)`` hides cleared, escalated, cancelled."""

    def set_open_only(self, on: bool) -> None:
        self.set_status_filter(OPEN_CALL_STATUSES if on else None)
