"""The missed check-in ladder, acted on: each step once, audited; a check-in received ends it.

The steps come due in the domain (:func:`console.domain.checkin.ladder_due`); this takes them
on the console's clock. "Request check-in" goes to dispatch through the gateway like any
command (skipped when a check-in was asked of the team since it became overdue, from any
console); "call the team" and "welfare check" are alerts (derived with the others) and an audit
row each, and the welfare check asks the window to open the escalate dialog with police chosen.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.domain.checkin import (
    CALL_TEAM,
    REQUEST_CHECKIN,
    WELFARE_CHECK,
    DueStep,
    checkin_requested,
    ladder_due,
)
from console.domain.commands import RequestCheckin

log = logging.getLogger(__name__)

AUDIT_ACTIONS = {CALL_TEAM: "checkin_call_team", WELFARE_CHECK: "checkin_welfare_check"}


class CheckinLadder(QObject):
    welfare_check = Signal(str, str)
    """(team id, call id): open the escalate dialog with police chosen."""
    step_taken = Signal(object)
    """The :class:`DueStep` just taken."""

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._done: set[str] = set()
        ctx.pictures.tick.connect(self.check)

    @property
    def active(self) -> bool:
        th = self.ctx.config.thresholds
        return bool(th.checkin.ladder) and not self.ctx.replay and self.ctx.gateway.can_act()[0]

    def check(self, now: datetime | None = None) -> list[DueStep]:
        """Take the steps due at ``now`` not taken yet; returns them."""
        if not self.active:
            return []
        now = now or self.ctx.clock.now()
        st = self.ctx.pictures.current().state
        th = self.ctx.config.thresholds
        due = ladder_due(st.teams.values(), st.calls, now, th.checkin, th.checkin_interval_s)
        live = {s.id for s in due}
        taken = []
        for step in due:
            if step.id in self._done:
                continue
            self._done.add(step.id)
            if step.step.action == REQUEST_CHECKIN:
                if checkin_requested(st.commands.values(), step.team_id, step.missed_since):
                    continue
                self.ctx.gateway.submit(
                    RequestCheckin(
                        team_id=step.team_id,
                        reason=f"missed check-in (overdue since {step.missed_since:%H:%M})",
                    )
                )
            else:
                self._audit(step)
                if step.step.action == WELFARE_CHECK and step.call_id:
                    self.welfare_check.emit(step.team_id, step.call_id)
            log.info("missed check-in %s: %s", step.team_id, step.step.label)
            taken.append(step)
            self.step_taken.emit(step)
        # Forget ladders that ended (a check-in received, the team left the scene).
        self._done &= live
        return taken

    def _audit(self, step: DueStep) -> None:
        store = self.ctx.store
        if store is None:
            return
        operator, role = self.ctx.operator, self.ctx.role
        reason = f"{step.team_id} missed its check-in: {step.step.label}"
        if step.step.action == CALL_TEAM:
            reason += f" ({step.contact})" if step.contact else " (no contact configured)"
        detail = {
            "step": step.index + 1,
            "missed_since": step.missed_since.isoformat(),
            "contact": step.contact,
        }

        def work() -> None:
            store.record_action(
                AUDIT_ACTIONS[step.step.action],
                operator=operator,
                role=role,
                call_id=step.call_id,
                team_id=step.team_id,
                reason=reason,
                detail=detail,
            )

        from console.ui.core.tasks import default_tasks

        (self.ctx.tasks or default_tasks()).run(
            work,
            None,
            lambda exc: log.error("auditing a check-in step failed: %s", exc),
            writer=True,
        )


def open_welfare_check(ctx: Any, team_id: str, call_id: str, parent: Any = None) -> Any:
    """The ladder's welfare-check step: the escalate dialog for the team's call, police chosen
    and the reason given (the supervisor still sends it). None when the call is closed."""
    from console.domain.model import EscalationTarget
    from console.ui.actions.escalate import EscalateDialog

    call = ctx.pictures.current().state.calls.get(call_id)
    if call is None or not call.is_open:
        return None
    dlg = EscalateDialog(ctx, call, target=EscalationTarget.POLICE, parent=parent)
    dlg.reason.setText(f"{team_id} missed its check-in: police welfare check")
    dlg.open()
    return dlg
