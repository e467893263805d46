"""The team board panel: every team, its status, check-in and current call."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from console.domain.projection import State
from console.store import Changes
from console.ui.board.model import TeamBoardModel, TeamBoardProxy
from console.ui.core.context import ConsoleContext
from console.ui.core.picture import Picture
from console.ui.tables.model import palette_for
from console.ui.tables.panel import (
    TablePanel,
    theme_of,
)


class BoardPanel(TablePanel):
    """Every team: status, time in status, check-in, current call, capabilities."""

    kind = "board"
    primary_action = "checkin"

    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        model = TeamBoardModel(ctx.config.thresholds, palette_for(theme_of(ctx)))
        proxy = TeamBoardProxy()
        super().__init__(ctx, model, proxy, parent)
        self.filter.setPlaceholderText("Filter teams: id, provider, status, call…")
        self.only.setText("On duty only")
        self.only.setToolTip("Hide off-duty and out-of-service teams")
        self.only.toggled.connect(proxy.set_on_duty_only)
        self.only.setChecked(False)
        self.table.sortByColumn(model.column_of("team"), Qt.SortOrder.AscendingOrder)
        ctx.selection.team_selected.connect(self.select_id)

    def _relevant(self, changes: Changes) -> bool:
        return bool(changes.teams or changes.positions or changes.commands)

    def _show(self, picture: Picture, changes: Changes | None) -> None:
        st: State = picture.state
        pending = [r for r in st.commands.values() if r.pending]
        self.model.set_picture(st.teams.values(), picture.now, st.positions, pending, st.calls)
        self._size_columns_once()

    def _select_in_ctx(self, rid: str) -> None:
        self.ctx.selection.select_team(rid)

    def _clear_in_ctx(self, rid: str) -> None:
        self.ctx.selection.clear_team(rid)

    def menu_kinds(self) -> list[str]:
        return ["checkin", "team_service"]
