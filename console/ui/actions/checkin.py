"""Ask a team to check in."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QWidget,
)

from console.domain.commands import (
    Command,
    RequestCheckin,
)
from console.domain.model import (
    Team,
)
from console.ui.actions.base import (
    ActionDialog,
)
from console.ui.core.labels import describe_team, team_status_text


class CheckinDialog(ActionDialog):
    ok_text = "&Request check-in"

    def __init__(self, ctx: Any, team: Team, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Request a check-in", parent)
        self.team = team
        last = (
            f"last check-in {team.last_checkin:%H:%M}" if team.last_checkin else "no check-in yet"
        )
        self.header.setText(describe_team(team, f"; {last}"))
        form = QFormLayout(self.body)
        self.reason = self.reason_field(form, "&Message:", "optional: what to ask the team")
        self.reason.setFocus()
        self.finish_setup()

    def blocked(self) -> str:
        if not self.team.status.on_duty:
            return f"{self.team.id} is {team_status_text(self.team)}."
        return ""

    def build_command(self) -> Command | None:
        return RequestCheckin(team_id=self.team.id, reason=self.reason.text().strip())
