"""Training mode in the window: pause at decision points, ask, reveal, debrief.

At each decision point the trainee picks a team or an escalation (or holds the call) in a small
dialog; the choice is recorded (in the shift file when there is one), then the dialog shows what
really happened next and what the console recommended at that instant. The debrief lists every
decision side by side.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html import escape as esc
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.model import EscalationTarget
from console.files import write_private
from console.replay.engine import ReplayError
from console.replay.training import (
    DEBRIEF_COLUMNS,
    Action,
    DebriefRow,
    Decision,
    debrief,
    debrief_cells,
    debrief_html,
    debrief_summary,
    decision_at,
)
from console.ui.core.context import ConsoleContext
from console.ui.core.labels import call_status_text, call_type_text, priority_text
from console.ui.replay.source import ReplayPictureSource

log = logging.getLogger(__name__)

_ESCALATIONS = (
    (EscalationTarget.POLICE, "Police"),
    (EscalationTarget.EMS, "EMS"),
    (EscalationTarget.MOBILE_CRISIS, "Mobile crisis"),
    (EscalationTarget.CO_RESPONSE, "Co-response"),
)


class DecisionDialog(QDialog):
    """Ask the trainee, then reveal what happened and the recommendation."""

    chosen = Signal(object, str)
    """(Action, trainee name)"""
    continue_requested = Signal()

    def __init__(self, decision: Decision, trainee: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decision = decision
        self.choice: Action | None = None
        self.setObjectName("decision-dialog")
        self.setWindowTitle("Decision point")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(640)
        lay = QVBoxLayout(self)
        head = QLabel(
            f"<b>{esc(decision.title or 'Decision point')}</b> — "
            f"{decision.at.astimezone():%H:%M:%S}",
            self,
        )
        lay.addWidget(head)
        c = decision.call
        if c is None:
            lay.addWidget(QLabel("No call is waiting at this moment.", self))
        else:
            waited = (decision.at - c.received_at).total_seconds() / 60
            where = c.neighborhood or c.address or "location unknown"
            info = QLabel(
                f"<b>{esc(c.id)}</b> · P{esc(priority_text(c))} {esc(call_type_text(c))} · "
                f"{esc(call_status_text(c))} · waiting {waited:.0f} min · {esc(where)}",
                self,
            )
            info.setObjectName("decision-call")
            lay.addWidget(info)
            if c.safety_flags:
                flags = ", ".join(f.value.replace("_", " ") for f in c.safety_flags)
                warn = QLabel(f"Safety flags: {flags}", self)
                warn.setTextFormat(Qt.TextFormat.PlainText)
                warn.setStyleSheet("color: #ff5252; font-weight: bold;")
                lay.addWidget(warn)
        self.teams = QListWidget(self)
        self.teams.setObjectName("decision-teams")
        for tid, why in decision.team_options:
            item = QListWidgetItem(f"{tid} — {why}")
            item.setData(Qt.ItemDataRole.UserRole, tid)
            self.teams.addItem(item)
        if self.teams.count():
            self.teams.setCurrentRow(0)
        lay.addWidget(QLabel("Send a team:", self))
        lay.addWidget(self.teams, 1)
        row = QHBoxLayout()
        self.send_btn = QPushButton("Send selected team", self)
        self.send_btn.clicked.connect(self._send)
        self.send_btn.setEnabled(self.teams.count() > 0 and c is not None)
        row.addWidget(self.send_btn)
        self.hold_btn = QPushButton("Hold in queue", self)
        self.hold_btn.clicked.connect(lambda: self.pick(Action("hold")))
        row.addWidget(self.hold_btn)
        row.addStretch(1)
        lay.addLayout(row)
        esc_row = QHBoxLayout()
        esc_row.addWidget(QLabel("Escalate to:", self))
        self.escalate_btns: dict[str, QPushButton] = {}
        for target, label in _ESCALATIONS:
            b = QPushButton(label, self)
            b.setToolTip(f"Escalate the call to {label.lower()}")
            b.clicked.connect(
                lambda _=False, t=target: self.pick(Action("escalate", target=t.value))
            )
            b.setEnabled(c is not None)
            esc_row.addWidget(b)
            self.escalate_btns[target.value] = b
        esc_row.addStretch(1)
        lay.addLayout(esc_row)
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Trainee:", self))
        self.trainee = QLineEdit(trainee, self)
        name_row.addWidget(self.trainee, 1)
        lay.addLayout(name_row)
        self.reveal = QLabel(self)
        self.reveal.setObjectName("decision-reveal")
        self.reveal.setWordWrap(True)
        self.reveal.setTextFormat(Qt.TextFormat.RichText)
        self.reveal.hide()
        lay.addWidget(self.reveal)
        self.buttons = QDialogButtonBox(self)
        self.continue_btn = self.buttons.addButton(
            "Continue playback", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.continue_btn.setEnabled(c is None)
        self.continue_btn.clicked.connect(self._continue)
        lay.addWidget(self.buttons)

    def _send(self) -> None:
        item = self.teams.currentItem()
        if item is not None:
            self.pick(Action("assign", team=str(item.data(Qt.ItemDataRole.UserRole))))

    def pick(self, action: Action) -> None:
        """Record the trainee's action once, then show what happened and the recommendation."""
        if self.choice is not None:
            return
        self.choice = action
        self.chosen.emit(action, self.trainee.text().strip())
        for w in (self.teams, self.send_btn, self.hold_btn, *self.escalate_btns.values()):
            w.setEnabled(False)
        d = self.decision
        refused = d.refusal(action)
        rules = (
            f"<p style='color:#c62828'><b>✗ The rules would refuse it:</b> {esc(refused)}</p>"
            if refused
            else ""
        )
        self.reveal.setText(
            f"<p><b>Your choice:</b> {esc(action.describe())}</p>{rules}"
            f"<p><b>What really happened:</b> {esc(d.actual_text())}</p>"
            f"<p><b>Recommendation:</b> {esc(d.recommended_text())}</p>"
        )
        self.reveal.show()
        self.continue_btn.setEnabled(True)
        self.continue_btn.setFocus()

    def _continue(self) -> None:
        self.continue_requested.emit()
        self.accept()


class DebriefDialog(QDialog):
    """Every decision: the trainee's choice, what really happened, the recommendation."""

    COLS = DEBRIEF_COLUMNS

    def __init__(self, rows: list[DebriefRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = rows
        self.setObjectName("debrief-dialog")
        self.setWindowTitle("Debrief")
        self.resize(1100, 420)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(debrief_summary(rows), self))
        self.table = QTableWidget(len(rows), len(self.COLS), self)
        self.table.setObjectName("debrief-table")
        self.table.setHorizontalHeaderLabels(self.COLS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for i, r in enumerate(rows):
            for j, v in enumerate(debrief_cells(r)):
                item = QTableWidgetItem(v)
                item.setToolTip(v)
                self.table.setItem(i, j, item)
            choice = self.table.item(i, self.COLS.index("Choice"))
            if choice is not None and r.trainee:
                marks = []
                if r.matches_actual:
                    marks.append("= dispatch")
                if r.matches_recommendation:
                    marks.append("= recommendation")
                if marks:
                    choice.setText(f"{r.choice}  ({', '.join(marks)})")
            rules = self.table.item(i, self.COLS.index("Rules"))
            if rules is not None and r.refused:
                rules.setText(f"✗ {rules.text()}")  # told apart by a sign as well as colour
                rules.setForeground(QColor("#c62828"))
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        lay.addWidget(self.table, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        self.export_btn = close.addButton("&Export…", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_btn.setToolTip("Save the debrief as an HTML page (to print or hand out)")
        self.export_btn.clicked.connect(self._export)
        lay.addWidget(close)

    def export(self, path: str) -> str:
        """Write the debrief as HTML to ``path`` (private to this user); returns the path."""
        write_private(path, debrief_html(self.rows))
        return path

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the debrief", "debrief.html", "HTML page (*.html)"
        )
        if not path:
            return
        try:
            self.export(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export the debrief", f"Cannot write {path}: {exc}")

    def cell(self, row: int, col: str) -> str:
        item = self.table.item(row, self.COLS.index(col))
        return "" if item is None else item.text()


class TrainingController(QObject):
    """Pauses playback at decision points (when on) and runs the decision dialogs."""

    decision_recorded = Signal(int, object)
    """(annotation id, Action)"""

    def __init__(
        self,
        ctx: ConsoleContext,
        source: ReplayPictureSource,
        shift_file: Any,
        parent_widget: QWidget,
    ) -> None:
        super().__init__(parent_widget)
        self.ctx = ctx
        self.source = source
        self.shift_file = shift_file
        self.parent_widget = parent_widget
        self.enabled = False
        self.decisions: list[Any] = []
        self._memory: list[tuple[int, str, dict[str, Any]]] = []
        self.dialog: DecisionDialog | None = None
        self.debrief_dialog: DebriefDialog | None = None
        source.decision_reached.connect(self._reached)

    def reload(self) -> None:
        try:
            self.decisions = (
                self.shift_file.annotations("decision") if self.shift_file is not None else []
            )
        except ReplayError as exc:
            log.error("cannot read the decision points: %s", exc)
            self.decisions = []
        if self.enabled:
            self.source.set_stops([a.at for a in self.decisions])

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.source.set_stops([a.at for a in self.decisions] if self.enabled else [])

    def _reached(self, at: datetime) -> None:
        if not self.enabled:
            return
        ann = next((a for a in self.decisions if a.at == at), None)
        if ann is not None:
            self.open_decision(ann)

    def open_decision(self, ann: Any) -> DecisionDialog:
        d = decision_at(
            self.source.engine,
            ann.id,
            ann.at,
            ann.title,
            ann.call_id,
            self.ctx.config.recommendation,
        )
        if d.call is not None:
            self.ctx.selection.select_call(d.call.id)
        dlg = DecisionDialog(d, self.ctx.operator, self.parent_widget)
        dlg.chosen.connect(lambda action, trainee, aid=ann.id: self.record(aid, trainee, action))
        dlg.continue_requested.connect(self.source.play)
        self.dialog = dlg
        dlg.open()
        return dlg

    def record(self, aid: int, trainee: str, action: Action) -> None:
        try:
            if self.shift_file is not None:
                self.shift_file.record_choice(aid, trainee, action.to_dict(), datetime.now(UTC))
            else:
                self._memory.append((aid, trainee, action.to_dict()))
        except ReplayError as exc:
            log.error("could not save the trainee's choice: %s", exc)
            self._memory.append((aid, trainee, action.to_dict()))
        self.decision_recorded.emit(aid, action)

    def choices(self) -> list[tuple[int, str, dict[str, Any]]]:
        try:
            saved = (
                [(c.annotation_id, c.trainee, c.action) for c in self.shift_file.choices()]
                if self.shift_file is not None
                else []
            )
        except (ReplayError, ValueError) as exc:
            log.error("cannot read the trainees' choices: %s", exc)
            saved = []
        return saved + self._memory

    def rows(self) -> list[DebriefRow]:
        decisions = [(a.id, a.at, a.title, a.call_id) for a in self.decisions]
        return debrief(self.source.engine, decisions, self.choices())

    def show_debrief(self) -> DebriefDialog:
        self.source.pause()
        dlg = DebriefDialog(self.rows(), self.parent_widget)
        self.debrief_dialog = dlg
        dlg.open()
        return dlg
