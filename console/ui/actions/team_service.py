"""Set a team out of service, or back in service."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QWidget,
)

from console.domain.commands import (
    Command,
    SetTeamService,
)
from console.domain.model import (
    Team,
    TeamStatus,
)
from console.ui.actions.base import (
    ActionDialog,
)
from console.ui.core.labels import describe_team


class TeamServiceDialog(ActionDialog):
    def __init__(self, ctx: Any, team: Team, parent: QWidget | None = None) -> None:
        self.team = team
        self.going_in = team.status in (TeamStatus.OUT_OF_SERVICE, TeamStatus.OFF_DUTY)
        self.ok_text = "Back &in service" if self.going_in else "&Out of service"
        super().__init__(
            ctx, "Return team to service" if self.going_in else "Set team out of service", parent
        )
        self.header.setText(describe_team(team))
        form = QFormLayout(self.body)
        self.reason = self.reason_field(
            form,
            "&Reason:",
            "optional" if self.going_in else "required: why the team goes out of service",
        )
        self.reason.setFocus()
        self.finish_setup()

    def blocked(self) -> str:
        if not self.going_in and self.team.status.busy:
            return f"{self.team.id} is working {self.team.call}; clear or reassign it first."
        return ""

    def build_command(self) -> Command | None:
        reason = self.reason.text().strip()
        if not self.going_in and not reason:
            self.show_error("A reason is required to take a team out of service.", self.reason)
            return None
        return SetTeamService(team_id=self.team.id, in_service=self.going_in, reason=reason)
