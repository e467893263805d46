"""The destination dialogs: a supervisor's capacity figure, and the transport proposal (where
the team on a call can take the person now, nearest first, with why; the others with why not)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain.commands import Command, SetDestination, SetDestinationStatus
from console.domain.destinations import (
    Destination,
    PersonNeeds,
    Proposal,
    capacity_view,
    propose,
)
from console.domain.model import Call
from console.domain.projection import State
from console.ui.actions.base import ActionDialog, _set_role
from console.ui.core import theme
from console.ui.core.labels import call_header

DEST_ID_ROLE = int(Qt.ItemDataRole.UserRole)
ELIGIBLE_ROLE = int(Qt.ItemDataRole.UserRole) + 1


class CapacityDialog(ActionDialog):
    """Record a destination's free beds or slots and whether it takes people now."""

    ok_text = "&Record"

    def __init__(self, ctx: Any, destination: Destination, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Destination capacity", parent)
        self.destination = destination
        d = destination
        ds = ctx.config.destinations
        view = capacity_view(
            ds.figures(self.state.destinations).get(d.id), self.now, ds.capacity_stale_s
        )
        total = f"{d.capacity} beds/slots" if d.capacity else "capacity not counted"
        self.header.setText(
            f"{d.name} — {d.kind.label}, {total}; {d.phone or 'no phone'}\n"
            f"Now: {view.describe(d.capacity)}"
        )
        form = QFormLayout(self.body)
        self.available = QSpinBox(self.body)
        self.available.setRange(-1, 100000)
        self.available.setSpecialValueText("not given")
        cur = view.current
        self.available.setValue(
            cur.available if cur is not None and cur.available is not None else -1
        )
        self.available.setAccessibleName("Free beds or slots")
        lab = QLabel("&Free beds / slots:", self.body)
        lab.setBuddy(self.available)
        form.addRow(lab, self.available)
        self.accepting = QCheckBox("&Accepting people now", self.body)
        self.accepting.setChecked(cur.accepting if cur is not None else True)
        form.addRow("", self.accepting)
        self.reason = self.reason_field(form, "&Note:", "optional: who said so (e.g. intake desk)")
        self.available.setFocus()
        self.available.selectAll()
        self.finish_setup()

    def subject(self) -> tuple[str, str] | None:
        return ("destination", self.destination.name)

    def subject_id(self) -> str:
        return self.destination.id

    def changed_since(self, state: State) -> str:
        return ""

    def build_command(self) -> Command | None:
        v = self.available.value()
        return SetDestinationStatus(
            destination_id=self.destination.id,
            available=None if v < 0 else v,
            accepting=self.accepting.isChecked(),
            reason=self.reason.text().strip(),
        )


class DestinationDialog(ActionDialog):
    """The transport proposal for a call's team: eligible destinations nearest first, each
    with its reasons; the others greyed with why not. The choice goes to dispatch."""

    ok_text = "&Send to dispatch"

    def __init__(self, ctx: Any, call: Call, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Choose a destination", parent)
        self.call = call
        self.expected_version = call.version
        self.destinations = ctx.config.destinations
        self.team_id = call.team
        self.header.setText(call_header(call))
        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(0, 0, 0, 0)

        needs = PersonNeeds.of_call(call)
        person = QHBoxLayout()
        self.age = QSpinBox(self.body)
        self.age.setRange(-1, 120)
        self.age.setSpecialValueText("age ?")
        self.age.setValue(-1)
        self.age.setAccessibleName("Age of the person")
        self.age.setToolTip("The person's age, if known (checked against age limits)")
        self.juvenile = QCheckBox("&Minor", self.body)
        self.juvenile.setChecked(needs.juvenile)
        self.intoxicated = QCheckBox("&Intoxicated", self.body)
        self.intoxicated.setChecked(needs.intoxicated)
        self.cleared = QCheckBox("Medically &cleared", self.body)
        self.cleared.setChecked(needs.medically_cleared)
        self.language = QLineEdit(needs.language or "", self.body)
        self.language.setPlaceholderText("language (en)")
        self.language.setMaximumWidth(110)
        self.language.setAccessibleName("Language the person speaks")
        for w in (self.age, self.juvenile, self.intoxicated, self.cleared, self.language):
            person.addWidget(w)
        person.addStretch(1)
        lay.addLayout(person)
        self.summary = QLabel(self.body)
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)

        list_label = QLabel("&Destinations (nearest first):", self.body)
        lay.addWidget(list_label)
        self.list = QTreeWidget(self.body)
        self.list.setColumnCount(4)
        self.list.setHeaderLabels(["#", "Destination", "Phone", "Why"])
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName("Destinations, nearest first")
        self.list.header().setStretchLastSection(True)
        for col in range(3):
            self.list.header().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemDoubleClicked.connect(lambda *_: self.accept())
        list_label.setBuddy(self.list)
        lay.addWidget(self.list, 1)
        form = QFormLayout()
        lay.addLayout(form)
        self.reason = self.reason_field(form, "&Note:", "optional: anything dispatch should know")

        self.proposal: Proposal = self._propose()
        self._fill()
        for box in (self.juvenile, self.intoxicated, self.cleared):
            box.toggled.connect(lambda _on: self._refill())
        self.age.valueChanged.connect(lambda _v: self._refill())
        self.language.textChanged.connect(lambda _t: self._refill())
        self.list.setFocus()
        self.resize(820, 460)
        self.finish_setup()

    def needs(self) -> PersonNeeds:
        age = self.age.value()
        return PersonNeeds(
            age=None if age < 0 else age,
            juvenile=self.juvenile.isChecked(),
            intoxicated=self.intoxicated.isChecked(),
            medically_cleared=self.cleared.isChecked(),
            language=self.language.text().strip().lower() or None,
        )

    def _propose(self) -> Proposal:
        st = self.state
        team = st.teams.get(self.team_id) if self.team_id else None
        return propose(
            self.call,
            self.destinations,
            st.destinations,
            self.now,
            team=team,
            position=st.positions.get(self.team_id) if self.team_id else None,
            needs=self.needs(),
            factors=self.ctx.config.recommendation,
        )

    def _refill(self) -> None:
        keep = self.selected_destination()
        self.proposal = self._propose()
        self._fill(keep)

    def _fill(self, keep: str | None = None) -> None:
        p = self.proposal
        self.list.clear()
        muted = QColor(theme.colors().muted)
        for rank, cand in enumerate(p.ranked, start=1):
            d = self.destinations.get(cand.destination_id)
            assert d is not None
            item = QTreeWidgetItem(
                [
                    str(rank),
                    d.name,
                    d.phone,
                    ("★ nearest — " if rank == 1 else "") + "; ".join(cand.reasons),
                ]
            )
            item.setData(0, DEST_ID_ROLE, d.id)
            item.setData(0, ELIGIBLE_ROLE, True)
            item.setToolTip(3, "\n".join(cand.reasons))
            self.list.addTopLevelItem(item)
        for did, why in p.ineligible:
            d = self.destinations.get(did)
            assert d is not None
            item = QTreeWidgetItem(["✕", d.name, d.phone, "cannot take: " + "; ".join(why)])
            item.setData(0, DEST_ID_ROLE, did)
            item.setData(0, ELIGIBLE_ROLE, False)
            item.setToolTip(3, "Cannot take this person now:\n" + "\n".join(why))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            for col in range(4):
                item.setForeground(col, muted)
            self.list.addTopLevelItem(item)
        target = None
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            if (
                it is not None
                and it.data(0, ELIGIBLE_ROLE)
                and (keep is None or it.data(0, DEST_ID_ROLE) == keep)
            ):
                target = it
                break
        if target is None and p.ranked:
            target = self.list.topLevelItem(0)
        if target is not None:
            self.list.setCurrentItem(target)
            target.setSelected(True)
        if p.ranked:
            self.summary.setText(
                f"✓ {len(p.ranked)} can take this person now; {len(p.ineligible)} cannot."
            )
            _set_role(self.summary, "muted")
        else:
            self.summary.setText(
                "⚠ No destination can take this person now (see why below). Call ahead, or "
                "update a capacity figure if it is out of date."
            )
            _set_role(self.summary, "safety")

    def blocked(self) -> str:
        if not self.destinations:
            return "No destinations are configured ([destinations] file)."
        if not self.call.is_open:
            return f"{self.call.id} is closed."
        if not self.team_id:
            return f"{self.call.id} has no team to transport the person."
        return ""

    def selected_destination(self) -> str | None:
        items = self.list.selectedItems()
        if not items or not items[0].data(0, ELIGIBLE_ROLE):
            return None
        return str(items[0].data(0, DEST_ID_ROLE))

    def build_command(self) -> Command | None:
        did = self.selected_destination()
        if did is None:
            self.show_error("Choose a destination that can take this person.", self.list)
            return None
        d = self.destinations.get(did)
        assert d is not None and self.team_id is not None
        cand = next(c for c in self.proposal.ranked if c.destination_id == did)
        note = self.reason.text().strip()
        reason = "; ".join(cand.reasons) + (f" — {note}" if note else "")
        return SetDestination(
            call_id=self.call.id,
            team_id=self.team_id,
            destination_id=d.id,
            destination_name=d.name,
            reason=reason,
            expected_version=self.expected_version,
        )


def open_proposal(ctx: Any, call_id: str | None, parent: QWidget | None) -> Any:
    """Open the transport proposal for a call (the selected one); None without a call."""
    call = ctx.pictures.current().state.calls.get(call_id or "")
    if call is None:
        return None
    dlg = DestinationDialog(ctx, call, parent=parent)
    dlg.open()
    return dlg
