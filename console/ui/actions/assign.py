"""Assign a team to a call, or reassign it: the recommended teams first, with why."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import (
    AssignTeam,
    Command,
    ReassignCall,
)
from console.domain.model import (
    Call,
    CallStatus,
    EscalationTarget,
)
from console.domain.projection import State
from console.domain.rules import (
    Recommendation,
    calls_this_shift,
    recommend,
)
from console.ui.actions.base import (
    ELIGIBLE_ROLE,
    TARGET_LABELS,
    TEAM_ID_ROLE,
    ActionDialog,
    _set_role,
    plain,
)
from console.ui.actions.escalate import EscalateDialog
from console.ui.core import theme
from console.ui.core.labels import call_header, call_status_text, team_status_text


class AssignDialog(ActionDialog):
    """The recommendation: eligible teams ranked with reasons, ineligible ones greyed with why not."""

    def __init__(
        self, ctx: Any, call: Call, *, reassign: bool = False, parent: QWidget | None = None
    ) -> None:
        self.reassign = reassign
        self.ok_text = "&Reassign" if reassign else "&Assign"
        super().__init__(ctx, "Reassign call" if reassign else "Assign a team", parent)
        self.call = call
        self.expected_version = call.version
        st = self.state
        self.recommendation: Recommendation = recommend(
            call,
            st.teams.values(),
            st.positions,
            calls_this_shift(st.assignments.keys()),
            ctx.config.recommendation,
        )
        rec = self.recommendation
        self.header.setText(call_header(call))

        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(0, 0, 0, 0)
        self.screen_label = QLabel(self.body)
        self.screen_label.setWordWrap(True)
        lay.addWidget(self.screen_label)
        self.escalate_button: QPushButton | None = None

        list_label = QLabel("&Teams (best first):", self.body)
        lay.addWidget(list_label)
        self.teams = QTreeWidget(self.body)
        self.teams.setColumnCount(4)
        self.teams.setHeaderLabels(["#", "Team", "Status", "Why"])
        self.teams.setRootIsDecorated(False)
        self.teams.setAlternatingRowColors(True)
        self.teams.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.teams.setAccessibleName("Teams, best first")
        self.teams.header().setStretchLastSection(True)
        self.teams.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.teams.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.teams.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.teams.itemDoubleClicked.connect(lambda *_: self.accept())
        list_label.setBuddy(self.teams)
        lay.addWidget(self.teams, 1)

        muted = QColor(theme.colors().muted)
        for rank, cand in enumerate(rec.ranked, start=1):
            team = st.teams[cand.team_id]
            item = QTreeWidgetItem(
                [
                    str(rank),
                    cand.team_id,
                    team_status_text(team),
                    ("★ recommended — " if rank == 1 else "") + "; ".join(cand.reasons),
                ]
            )
            item.setData(0, TEAM_ID_ROLE, cand.team_id)
            item.setData(0, ELIGIBLE_ROLE, True)
            item.setToolTip(3, "\n".join(cand.reasons))
            self.teams.addTopLevelItem(item)
        for team_id, why in rec.ineligible:
            team = st.teams[team_id]
            item = QTreeWidgetItem(
                [
                    "✕",
                    team_id,
                    team_status_text(team),
                    "not eligible: " + "; ".join(why),
                ]
            )
            item.setData(0, TEAM_ID_ROLE, team_id)
            item.setData(0, ELIGIBLE_ROLE, False)
            item.setToolTip(3, "Not eligible:\n" + "\n".join(why))
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed, cannot be chosen
            for col in range(4):
                item.setForeground(col, muted)
            self.teams.addTopLevelItem(item)

        form = QFormLayout()
        lay.addLayout(form)
        self.reason = self.reason_field(
            form,
            "&Reason:",
            "required: why this call moves to another team"
            if reassign
            else "optional: anything dispatch should know",
        )

        if not rec.screen.civilian_ok:
            self.screen_label.setText("⚠ " + rec.screen.message)
            _set_role(self.screen_label, "safety")
            self._offer_escalation(
                rec.screen.escalate_to[0] if rec.screen.escalate_to else None,
                rec.screen.escalate_to,
            )
        elif not rec.ranked:
            self.screen_label.setText(
                "⚠ No eligible team for this call right now (see why below). "
                "Wait for a team to clear, or escalate."
            )
            _set_role(self.screen_label, "safety")
            self._offer_escalation(None, ())
        else:
            self.screen_label.setText("✓ " + rec.screen.message)
            _set_role(self.screen_label, "muted")

        if rec.best is not None:
            first = self.teams.topLevelItem(0)
            if first is not None:
                self.teams.setCurrentItem(first)
                first.setSelected(True)
        # A reassignment needs a reason, and the recommended team is already chosen: start
        # where the supervisor has to type.
        (self.reason if reassign else self.teams).setFocus()
        self.resize(760, 420)
        self.finish_setup()

    def _offer_escalation(
        self, target: EscalationTarget | None, targets: tuple[EscalationTarget, ...]
    ) -> None:
        label = "&Escalate"
        if target is not None:
            label += " to " + plain(TARGET_LABELS[target]).split(" (")[0]
        label += "…"
        btn = QPushButton(label, self)
        btn.setAutoDefault(True)
        btn.setToolTip("Open the escalation dialog for this call")
        btn.clicked.connect(lambda: self.escalate_instead(target))
        self.buttons.addButton(btn, QDialogButtonBox.ButtonRole.ActionRole)
        self.escalate_button = btn
        self.ok_button.setDefault(False)
        btn.setDefault(True)
        self.suggested_target = target

    def blocked(self) -> str:
        rec = self.recommendation
        if not rec.screen.civilian_ok:
            return "This call cannot be given to a civilian team: " + "; ".join(rec.screen.reasons)
        if not rec.ranked:
            return "No eligible team for this call."
        if self.reassign and self.call.team is None:
            return f"{self.call.id} has no team to reassign from; assign it instead."
        if self.reassign and self.call.status in (CallStatus.ON_SCENE, CallStatus.TRANSPORTING):
            where = call_status_text(self.call)
            return f"{self.call.team} is already {where} at {self.call.id}; it cannot be moved."
        return ""

    def escalate_instead(self, target: EscalationTarget | None) -> EscalateDialog:
        dlg = EscalateDialog(self.ctx, self.call, target=target, parent=self.parentWidget())
        self.followup = dlg
        self.reject()
        dlg.open()
        return dlg

    def already_done(self, state: State) -> str:
        latest = state.calls.get(self.call.id)
        team = self.selected_team()
        if latest is not None and team is not None and team in (latest.team, *latest.teams):
            return "already done"
        return ""

    def selected_team(self) -> str | None:
        items = self.teams.selectedItems()
        if not items or not items[0].data(0, ELIGIBLE_ROLE):
            return None
        return str(items[0].data(0, TEAM_ID_ROLE))

    def build_command(self) -> Command | None:
        team_id = self.selected_team()
        if team_id is None:
            self.show_error("Choose an eligible team.", self.teams)
            return None
        reason = self.reason.text().strip()
        if self.reassign:
            if not reason:
                self.show_error("A reason is required to reassign a call.", self.reason)
                return None
            return ReassignCall(
                call_id=self.call.id,
                team_id=team_id,
                reason=reason,
                expected_version=self.expected_version,
            )
        return AssignTeam(
            call_id=self.call.id,
            team_id=team_id,
            reason=reason,
            expected_version=self.expected_version,
        )
