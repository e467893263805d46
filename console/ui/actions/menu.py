"""The supervisor's actions as menu entries: one QAction each, shared by the panels' context
menus, the window's menus and their shortcuts, enabled by role and selection."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from console.ui.actions.dialogs import open_action_dialog
from console.ui.core.context import ConsoleContext

# kind -> (menu text, shortcut, needs a call, needs a team, tooltip)
ACTION_SPECS: dict[str, tuple[str, str, bool, bool, str]] = {
    "assign": ("&Assign / reassign…", "Ctrl+R", True, False, "Send a team to the selected call"),
    "escalate": (
        "&Escalate…",
        "Ctrl+E",
        True,
        False,
        "Hand the selected call to police, EMS, mobile crisis or co-response",
    ),
    "priority": ("Change &priority…", "Ctrl+P", True, False, "Change the selected call's priority"),
    "note": ("Add &note…", "Ctrl+N", True, False, "Add a note to the selected call"),
    "team_service": (
        "Team out of / back in &service…",
        "Ctrl+O",
        False,
        True,
        "Set the selected team out of service or back in service",
    ),
    "checkin": ("Request chec&k-in…", "Ctrl+K", False, True, "Ask the selected team to check in"),
    "outcome": (
        "Record o&utcome…",
        "Ctrl+U",
        True,
        False,
        "Record how the selected closed call ended (outcome, destination, naloxone)",
    ),
    "naloxone": (
        "Record nalo&xone…",
        "Ctrl+Shift+N",
        True,
        False,
        "Record naloxone given on the selected call (doses, time given)",
    ),
}


def _open_dialog(
    kind: str, ctx: ConsoleContext, call_id: str | None, team_id: str | None, parent: QWidget | None
) -> Any:

    def tell(why: str) -> None:
        win = parent.window() if parent is not None else None
        bar = getattr(win, "statusBar", None)
        if callable(bar):
            bar().showMessage(why, 5000)

    return open_action_dialog(
        kind, ctx, call_id=call_id, team_id=team_id, parent=parent, on_none=tell
    )


class ActionSet(QObject):
    """The supervisor's actions, one QAction each, enabled by role and selection."""

    opened = Signal(str, object)
    """(kind, dialog or None) after an action was triggered."""

    def __init__(self, ctx: ConsoleContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.actions: dict[str, QAction] = {}
        self.dialog_parent: QWidget | None = None
        for kind, (text, key, _c, _t, tip) in ACTION_SPECS.items():
            a = QAction(text, self)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setObjectName(f"action-{kind}")
            a.setProperty("base_tip", f"{tip} ({key})")
            a.triggered.connect(lambda _=False, k=kind: self.trigger(k))
            self.actions[kind] = a
        ctx.selection.call_selected.connect(lambda _id: self.refresh())
        ctx.selection.team_selected.connect(lambda _id: self.refresh())
        ctx.pictures.picture_changed.connect(lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        can, why = self.ctx.gateway.can_act()
        sel = self.ctx.selection
        for kind, a in self.actions.items():
            _t, _k, needs_call, needs_team, _tip = ACTION_SPECS[kind]
            base = str(a.property("base_tip"))
            if not can:
                a.setEnabled(False)
                a.setToolTip(why)
                a.setStatusTip(why)
                continue
            missing = (needs_call and not sel.call_id) or (needs_team and not sel.team_id)
            a.setEnabled(not missing)
            tip = (
                base
                if not missing
                else f"{base} — select a {'call' if needs_call else 'team'} first"
            )
            a.setToolTip(tip)
            a.setStatusTip(tip)

    def trigger(self, kind: str, call_id: str | None = None, team_id: str | None = None) -> Any:
        can, why = self.ctx.gateway.can_act()
        if not can:
            win = self.dialog_parent
            if win is not None and callable(getattr(win, "statusBar", None)):
                win.statusBar().showMessage(why, 5000)  # type: ignore[attr-defined]
            return None
        if kind == "assign":
            cid = call_id or self.ctx.selection.call_id
            call = self.ctx.pictures.current().state.calls.get(cid or "")
            if call is not None and call.team is not None:
                kind = "reassign"
        came_from = QApplication.focusWidget()
        dlg = _open_dialog(kind, self.ctx, call_id, team_id, self.dialog_parent)
        if dlg is not None and came_from is not None:
            return_focus(dlg, came_from)
        self.opened.emit(kind, dlg)
        return dlg


def return_focus(dlg: Any, widget: QWidget) -> None:
    """When ``dlg`` closes (or the dialog it handed over to does), focus goes back to
    ``widget``: the panel the action came from, not wherever Qt lands."""

    def back(_result: int = 0) -> None:
        follow = getattr(dlg, "followup", None)
        if follow is not None and follow.isVisible():
            return_focus(follow, widget)
            return
        if shiboken6.isValid(widget) and widget.isVisible():
            widget.activateWindow()
            widget.setFocus(Qt.FocusReason.OtherFocusReason)

    dlg.finished.connect(back)


def actions_for(ctx: ConsoleContext) -> ActionSet:
    """The context's one ActionSet (created on first use)."""
    existing = getattr(ctx, "_actions", None)
    if isinstance(existing, ActionSet):
        return existing
    s = ActionSet(ctx, ctx.gateway)
    ctx._actions = s  # type: ignore[attr-defined]
    return s
