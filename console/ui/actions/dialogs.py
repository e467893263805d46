"""Which dialog an action opens, on the selected call or team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QWidget,
)

from console.domain.model import (
    CallStatus,
)
from console.domain.projection import State
from console.ui.actions.assign import AssignDialog
from console.ui.actions.base import (
    CALL_KINDS,
    KINDS,
    ActionDialog,
)
from console.ui.actions.checkin import CheckinDialog
from console.ui.actions.escalate import EscalateDialog
from console.ui.actions.note import NoteDialog
from console.ui.actions.outcome import NaloxoneDialog, OutcomeDialog
from console.ui.actions.priority import PriorityDialog
from console.ui.actions.team_service import TeamServiceDialog

_CALL_DIALOGS: dict[str, Callable[..., ActionDialog]] = {
    "assign": lambda ctx, call, parent: AssignDialog(ctx, call, parent=parent),
    "reassign": lambda ctx, call, parent: AssignDialog(ctx, call, reassign=True, parent=parent),
    "escalate": lambda ctx, call, parent: EscalateDialog(ctx, call, parent=parent),
    "priority": lambda ctx, call, parent: PriorityDialog(ctx, call, parent=parent),
    "note": lambda ctx, call, parent: NoteDialog(ctx, call, parent=parent),
    "outcome": lambda ctx, call, parent: OutcomeDialog(ctx, call, parent=parent),
    "naloxone": lambda ctx, call, parent: NaloxoneDialog(ctx, call, parent=parent),
}


_TEAM_DIALOGS: dict[str, Callable[..., ActionDialog]] = {
    "team_service": lambda ctx, team, parent: TeamServiceDialog(ctx, team, parent=parent),
    "checkin": lambda ctx, team, parent: CheckinDialog(ctx, team, parent=parent),
}


def open_action_dialog(
    kind: str,
    ctx: Any,
    call_id: str | None = None,
    team_id: str | None = None,
    parent: QWidget | None = None,
    on_none: Callable[[str], None] | None = None,
) -> ActionDialog | None:
    """Open (window-modal, non-blocking) the dialog for action ``kind`` and return it.

    ``call_id`` / ``team_id`` default to the shared selection. Returns None when there is no
    call (or team) to act on, after telling ``on_none`` why (for the status bar).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown action {kind!r} (expected one of {', '.join(KINDS)})")
    state: State = ctx.pictures.current().state
    sel = getattr(ctx, "selection", None)
    dlg: ActionDialog
    if kind in CALL_KINDS:
        cid = call_id or (getattr(sel, "call_id", None) if sel is not None else None)
        call = state.calls.get(cid) if cid else None
        if call is None:
            if on_none is not None:
                on_none(f"No call selected to {kind}." if not cid else f"Unknown call {cid}.")
            return None
        if kind == "reassign" and call.team is None and call.status is CallStatus.PENDING:
            kind = "assign"  # nothing to reassign from: the same dialog, without the reason rule
        dlg = _CALL_DIALOGS[kind](ctx, call, parent)
    else:
        tid = team_id or (getattr(sel, "team_id", None) if sel is not None else None)
        team = state.teams.get(tid) if tid else None
        if team is None:
            if on_none is not None:
                on_none("No team selected." if not tid else f"Unknown team {tid}.")
            return None
        dlg = _TEAM_DIALOGS[kind](ctx, team, parent)
    dlg.open()
    return dlg
